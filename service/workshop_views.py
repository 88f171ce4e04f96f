"""Pages of the workshop (issue 18 items 1-4): technicians (director), the technician's tablet page, the workshop
load per day, the board by technician, job assignment on the work order. Writes call ``services/technicians.py``."""

import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from dms.core.inputs import parse_date_param, parse_id
from dms.core.views import ACTION_ERRORS, DealershipPageMixin, PaginatedListMixin, ServiceFormView, action_error_message

from . import selectors, services, workshop
from .models import TechnicianProfile, WorkOrder, WorkOrderJob
from .workshop_forms import JobAssignForm, TechnicianAbsenceForm, TechnicianForm, TechnicianHoursForm

User = get_user_model()
LOAD_DAYS = 14


def _today(request) -> datetime.date:
    return timezone.localtime(timezone.now(), request.dealership.tz).date()


class TechnicianListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "service.view_technicianprofile"
    template_name = "service/technician_list.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        qs = workshop.technician_list(dealership_ids=[self.request.dealership.pk], search=q)
        page = self.paginate(qs)
        today = _today(self.request)
        present = workshop.present_hours(profiles=list(page.object_list), date_from=today, date_to=today)
        for profile in page.object_list:
            profile.present_today = present[profile.pk][today]
        return super().get_context_data(page_obj=page, q=q, **kwargs)


class TechnicianCreateView(ServiceFormView):
    permission_required = "service.add_technicianprofile"
    form_class = TechnicianForm

    @property
    def title(self):
        return _("New technician")

    @property
    def success_message(self):
        return _("Technician %(object)s added; now set the working hours.")

    def get_cancel_url(self):
        return reverse("service:technician_list")

    def save(self, form):
        return services.technician_create(
            actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
        )


class TechnicianDetailView(DealershipPageMixin, TemplateView):
    """A technician's record: grade and skills, hours per weekday, absences; each form posts here with ``form=``."""

    permission_required = "service.view_technicianprofile"
    template_name = "service/technician_detail.html"

    def get_technician(self) -> TechnicianProfile:
        return self.get_scoped_object(TechnicianProfile, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        technician = self.get_technician()
        dealership = self.request.dealership
        today = _today(self.request)
        kwargs.setdefault("profile_form", TechnicianForm(dealership=dealership, instance=technician))
        kwargs.setdefault("hours_form", TechnicianHoursForm())
        kwargs.setdefault("absence_form", TechnicianAbsenceForm(initial={"starts_on": today}))
        week_start = today - datetime.timedelta(days=today.weekday())
        week = workshop.present_hours(
            profiles=[technician], date_from=week_start, date_to=week_start + datetime.timedelta(days=6)
        )[technician.pk]
        return super().get_context_data(
            technician=technician,
            hours=technician.hours.all(),
            absences=technician.absences.filter(ends_on__gte=today - datetime.timedelta(days=90)).order_by("starts_on"),
            week=sorted(week.items()),
            week_total=sum(week.values()),
            can_manage=self.request.user.has_perm("service.change_technicianprofile"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("service.change_technicianprofile"):
            raise PermissionDenied
        technician = self.get_technician()
        self.load_warning = ""
        handler = {
            "profile": self._profile,
            "hours": self._hours,
            "remove_hours": self._remove_hours,
            "absence": self._absence,
            "remove_absence": self._remove_absence,
        }.get(request.POST.get("form", ""))
        if handler is None:
            raise Http404
        try:
            bad_form = handler(technician)
        except ACTION_ERRORS as error:
            messages.error(request, action_error_message(error))
            return redirect(technician.get_absolute_url())
        if bad_form is not None:
            return self.render_to_response(self.get_context_data(**bad_form))
        messages.success(request, _("Saved."))
        if self.load_warning:
            messages.warning(request, self.load_warning)  # issue 18 item 3: the days to rebook
        return redirect(technician.get_absolute_url())

    def _profile(self, technician):
        form = TechnicianForm(self.request.POST, dealership=self.request.dealership, instance=technician)
        if not form.is_valid():
            return {"profile_form": form}
        profile = services.technician_update(
            actor=self.request.user, technician=technician, data=dict(form.cleaned_data)
        )
        self.load_warning = profile.load_warning
        return None

    def _hours(self, technician):
        form = TechnicianHoursForm(self.request.POST)
        if not form.is_valid():
            return {"hours_form": form}
        hours = services.technician_hours_set(actor=self.request.user, technician=technician, **form.cleaned_data)
        self.load_warning = hours.load_warning
        return None

    def _remove_hours(self, technician):
        hours = technician.hours.filter(pk=parse_id(self.request.POST.get("hours", ""))).first()
        if hours is None:
            raise Http404
        self.load_warning = services.technician_hours_delete(actor=self.request.user, hours=hours)
        return None

    def _absence(self, technician):
        form = TechnicianAbsenceForm(self.request.POST)
        if not form.is_valid():
            return {"absence_form": form}
        absence = services.technician_absence_create(
            actor=self.request.user, technician=technician, **form.cleaned_data
        )
        self.load_warning = absence.load_warning
        return None

    def _remove_absence(self, technician):
        absence = technician.absences.filter(pk=parse_id(self.request.POST.get("absence", ""))).first()
        if absence is None:
            raise Http404
        services.technician_absence_delete(actor=self.request.user, absence=absence)
        return None


class MyJobsView(DealershipPageMixin, TemplateView):
    """The technician's tablet page (issue 18 item 2): their jobs, one large button per step."""

    permission_required = "service.clock_job"
    template_name = "service/my_jobs.html"

    def get_context_data(self, **kwargs):
        technician = workshop.technician_of(dealership_id=self.request.dealership.pk, user=self.request.user)
        items = workshop.technician_jobs(technician=technician) if technician is not None else []
        # A job of a car not yet (or no longer) in diagnosis or repair cannot be started: its button says why
        # instead of answering a tap with an error.
        return super().get_context_data(
            technician=technician, items=items, clockable=workshop.CLOCKABLE_STATUSES, **kwargs
        )


CLOCK_ACTIONS = {
    "start": (services.job_clock_start, gettext_lazy("Started: %(job)s.")),
    "pause": (services.job_clock_pause, gettext_lazy("Paused: %(job)s.")),
    "finish": (services.job_clock_finish, gettext_lazy("Finished: %(job)s.")),
}


class JobClockActionView(DealershipPageMixin, View):
    permission_required = "service.clock_job"

    def post(self, request, pk, action):
        if action not in CLOCK_ACTIONS:
            raise Http404
        job = WorkOrderJob.objects.filter(pk=pk, work_order__dealership=request.dealership).first()
        if job is None:
            raise Http404
        call, success = CLOCK_ACTIONS[action]
        try:
            call(actor=request.user, job=job)
        except ACTION_ERRORS as error:
            messages.error(request, action_error_message(error))
        else:
            messages.success(request, str(success) % {"job": job.description})
        return redirect("service:my_jobs")


class JobAssignView(DealershipPageMixin, View):
    """Give a job of the work order to a technician (issue 18 item 2); a refusal is a message on the page it came
    from (the work order, or the visit's preparation page: ``next``)."""

    permission_required = "service.change_workorder"

    def post(self, request, pk, job):
        wo = self.get_scoped_object(WorkOrder, pk)
        the_job = wo.jobs.filter(pk=job).first()
        if the_job is None:
            raise Http404
        wanted = request.POST.get("next", "")
        back = (
            wanted
            if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
            else wo.get_absolute_url()
        ) + "#job-technicians"
        form = JobAssignForm(request.POST, dealership=request.dealership)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect(back)
        try:
            services.job_assign(actor=request.user, job=the_job, technician=form.cleaned_data["technician"])
        except ACTION_ERRORS as error:
            messages.error(request, action_error_message(error))
        else:
            messages.success(request, _("Job assigned."))
        return redirect(back)


def job_rows(work_order: WorkOrder, request) -> list[dict]:
    """The work order page's table of jobs: technician, sold hours, clocked hours, state, the assign form."""
    jobs = [j for j in work_order.jobs.select_related("technician", "kind") if j.consent in WorkOrderJob.DOABLE]
    clocked = workshop.clocked_hours(jobs=jobs)
    running = set(
        work_order.jobs.filter(clocks__ended_at__isnull=True, clocks__isnull=False).values_list("pk", flat=True)
    )
    with_clocks = set(work_order.jobs.filter(clocks__isnull=False).values_list("pk", flat=True))
    rows = []
    for job in jobs:
        state = (
            "done"
            if job.done_at
            else ("in_progress" if job.pk in running else ("paused" if job.pk in with_clocks else "not_started"))
        )
        rows.append(
            {
                "job": job,
                "clocked": clocked.get(job.pk, workshop.ZERO),
                "over": bool(job.standard_hours) and clocked.get(job.pk, workshop.ZERO) > job.standard_hours,
                "state": state,
                "form": JobAssignForm(
                    dealership=request.dealership,
                    job=job,
                    initial={"technician": job.technician_id},
                    auto_id=f"j{job.pk}_%s",
                )
                if state != "done"
                else None,
            }
        )
    return rows


class WorkshopLoadView(DealershipPageMixin, TemplateView):
    """Issue 18 item 3: the workshop's hours per day (present technicians) against booked and open jobs, per skill."""

    permission_required = "service.view_appointment"
    template_name = "service/workshop_load.html"

    def get_context_data(self, **kwargs):
        today = _today(self.request)
        start = parse_date_param(self.request.GET.get("date")) or today
        days = workshop.workshop_load(
            dealership=self.request.dealership, date_from=start, date_to=start + datetime.timedelta(days=LOAD_DAYS - 1)
        )
        return super().get_context_data(
            days=days,
            start=start,
            previous=start - datetime.timedelta(days=LOAD_DAYS),
            following=start + datetime.timedelta(days=LOAD_DAYS),
            planner_enabled=workshop.planner_enabled(self.request.dealership),
            # The dealership's rule for a booking beyond the load, shown with the way to change it.
            overload_policy=selectors.service_settings(
                dealership=self.request.dealership
            ).get_workshop_overload_display(),
            **kwargs,
        )


class TechnicianBoardView(DealershipPageMixin, TemplateView):
    """Issue 18 item 4: each technician's job now, next and late."""

    permission_required = "service.view_workshop_board"
    template_name = "service/technician_board.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        return super().get_context_data(
            rows=workshop.workshop_board_by_technician(dealership=self.request.dealership, now=now),
            unassigned=workshop.unassigned_jobs(dealership=self.request.dealership, now=now),
            **kwargs,
        )


def loads_for_book(dealership, day: datetime.date, view: str) -> list:
    """The appointment book's load line: the day, or the Monday-to-Sunday week; nothing where no technicians are
    kept in the DMS (the planner is off)."""
    if not workshop.planner_enabled(dealership):
        return []
    if view == "week":
        monday = day - datetime.timedelta(days=day.weekday())
        return workshop.workshop_load(
            dealership=dealership, date_from=monday, date_to=monday + datetime.timedelta(days=6)
        )
    return workshop.workshop_load(dealership=dealership, date_from=day, date_to=day)
