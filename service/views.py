import datetime
from decimal import Decimal
from html import escape

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views import View
from django.views.generic import FormView, TemplateView

from dms.core import links
from dms.core.downloads import pdf_response, private_file_response, set_download_name
from dms.core.exceptions import ConflictError
from dms.core.formatting import date_formatter
from dms.core.inputs import parse_date_param, parse_id
from dms.core.links import CustomerLinkMixin
from dms.core.names import user_name
from dms.core.references import resolve_reference, resolve_references
from dms.core.rendering import CUSTOMER_PHONES, display_for, render_rows, show, url_for
from dms.core.security import client_address, rate_limited
from dms.core.selectors import audit_trail
from dms.core.transitions import available_transitions, is_available
from dms.core.views import (
    ActionView,
    DealershipPageMixin,
    PageAction,
    PaginatedListMixin,
    PickerSearchView,
    ServiceFormView,
    action_error_message,
    picker_param_id,
)
from parts import selectors as parts_selectors

from . import forms, ical, pdf, selectors, services, workshop_views
from .models import (
    Appointment,
    AppointmentStatus,
    DayOff,
    FindingColour,
    FindingPhoto,
    InspectionFinding,
    LoanerReservation,
    QualityPhoto,
    ServiceReminder,
    WorkingHours,
    WorkOrder,
    WorkOrderJob,
    WorkOrderPart,
    WorkOrderStatus,
)

User = get_user_model()


def _parse_date(value: str | None, default: datetime.date) -> datetime.date:
    # Malformed or outside the sane range (issue 12 item 5): the page's default day, as for a missing one.
    return parse_date_param(value) or default


def _today(request) -> datetime.date:
    return timezone.localtime(timezone.now(), request.dealership.tz).date()


# --------------------------------------------------------------------------------------------------------------
# Appointment book
# --------------------------------------------------------------------------------------------------------------


class AppointmentCalendarView(DealershipPageMixin, TemplateView):
    """Day view: every advisor's 15-minute grid side by side; week view: one advisor's week (R16)."""

    permission_required = "service.view_appointment"
    template_name = "service/appointment_calendar.html"

    def get_context_data(self, **kwargs):
        dealership = self.request.dealership
        day = _parse_date(self.request.GET.get("date"), _today(self.request))
        view = "week" if self.request.GET.get("view") == "week" else "day"
        advisors = list(selectors.advisors(dealership=dealership))
        chosen = None
        wanted = parse_id(self.request.GET.get("advisor", ""))
        if wanted is not None:
            chosen = next((a for a in advisors if a.pk == wanted), None)
        if chosen is None and advisors:
            chosen = self.request.user if self.request.user in advisors else advisors[0]
        ctx = {
            "day": day,
            "view": view,
            "advisors": advisors,
            "chosen": chosen,
            "prev_day": day - datetime.timedelta(days=1 if view == "day" else 7),
            "next_day": day + datetime.timedelta(days=1 if view == "day" else 7),
            "today": _today(self.request),
            # Issue 18 item 3: the workshop's load on the day shown (the week's days in the week view).
            "workshop_loads": workshop_views.loads_for_book(dealership, day, view),
        }
        if view == "day":
            columns = []
            times: dict[str, None] = {}
            for advisor in advisors:
                cells = selectors.advisor_day_slots(dealership=dealership, advisor=advisor, day=day)
                columns.append({"advisor": advisor, "cells": {c["time"]: c for c in cells}})
                for c in cells:
                    times[c["time"]] = None
            ctx["times"] = sorted(times)
            ctx["columns"] = columns
        elif chosen is not None:
            monday = day - datetime.timedelta(days=day.weekday())
            ctx["week"] = selectors.calendar_week(dealership=dealership, advisor=chosen, monday=monday)
        if self.request.user in advisors:
            # Only the advisor's own feed link, never a colleague's (issue 12 item 7).
            token = ical.feed_token_of(self.request.user)
            ctx["feed"] = {
                "token": token,
                "url": self.request.build_absolute_uri(ical.feed_url(token)) if token else "",
                "expired": token is not None and token.expires_at <= timezone.now(),
            }
        return super().get_context_data(**ctx, **kwargs)


class CalendarFeedRenewView(DealershipPageMixin, View):
    """POST: a new link for the signed-in advisor's calendar feed; the old link stops working at once (item 7)."""

    permission_required = "service.view_appointment"
    http_method_names = ["post"]

    def post(self, request):
        token = ical.calendar_feed_token_renew(actor=request.user)
        messages.success(
            request,
            _("New calendar link issued, valid until %(date)s. The previous link no longer works.")
            % {"date": date_format(timezone.localtime(token.expires_at), "SHORT_DATE_FORMAT")},
        )
        return redirect(reverse("service:appointment_calendar") + f"?view=week&advisor={request.user.pk}")


class AppointmentListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "service.view_appointment"
    template_name = "service/appointment_list.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        status = self.request.GET.get("status", "")
        qs = selectors.appointment_list(dealership_ids=[self.request.dealership.pk], search=q, status=status)
        # what the rows show of their related rows, without the customers' phones (issue 19)
        rows = qs.select_related(None).select_related(*ROW_RELATIONS).defer(*CUSTOMER_PHONES)
        page = self.paginate(rows.order_by("-starts_at"))
        return super().get_context_data(
            page_obj=page,
            rows_html=_appointment_rows(page),
            q=q,
            status=status,
            statuses=AppointmentStatus.choices,
            **kwargs,
        )


# What the appointments' and work orders' rows read of their related rows (their selectors bring more, for the API).
ROW_RELATIONS = ("customer", "vehicle", "advisor")


def _appointment_rows(page) -> SafeString:
    """Issue 19: the appointments' rows in Python (dms.core.rendering), as the template drew them."""
    detail = url_for("service:appointment_detail")
    arrival = date_formatter("SHORT_DATETIME_FORMAT")
    status = display_for(Appointment, "status")
    repeat = f' <span class="badge text-bg-warning">{escape(_("repeat"))}</span>'
    online = f' <span class="badge text-bg-info booked-online">{escape(_("online"))}</span>'

    def row(a) -> str:
        vehicle = a.vehicle
        return (
            f'<tr><td><a href="{detail(a.pk)}">{show(arrival(a.starts_at))}</a></td><td>{show(a.customer.name)}</td>'
            f"<td>{show(vehicle.make)} {show(vehicle.model)} <code>{show(vehicle.vin)}</code></td>\n"
            f"    <td>{show(Truncator(a.reason).chars(60))}{repeat if a.is_repeat_visit else ''}"
            f"{online if a.booked_online else ''}</td>\n"
            f"    <td>{show(user_name(a.advisor))}</td><td>{show(status(a.status))}</td></tr>\n"
        )

    return render_rows(page, row, empty=_("No appointments found."), columns=6)


class AppointmentCreateView(DealershipPageMixin, FormView):
    permission_required = "service.add_appointment"
    template_name = "service/appointment_form.html"
    form_class = forms.AppointmentForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "dealership": self.request.dealership}

    def get_initial(self):
        g = self.request.GET
        day = _parse_date(g.get("date"), _today(self.request) + datetime.timedelta(days=1))
        return {
            "advisor": g.get("advisor") or self.request.user.pk,
            "date": day,
            "time": g.get("time", "10:00"),
            "handover_date": day,
            "handover_time": "17:00",
            "vin": g.get("vin", "") or self._prefilled_vin(parse_id(g.get("vehicle", ""))),
            "customer": parse_id(g.get("customer", "")),
        }

    def _prefilled_vin(self, vehicle_id: int | None) -> str:
        # Issue 14 item 3: "book" on a vehicle's card names the vehicle; only one of this dealership counts.
        from dms.core.models import Vehicle

        if vehicle_id is None:
            return ""
        vehicle = Vehicle.objects.filter(pk=vehicle_id, dealership=self.request.dealership).first()
        return vehicle.vin if vehicle else ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("New appointment"), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                actor=self.request.user,
                dealership=self.request.dealership,
                advisor=data["advisor"],
                customer=data["customer"],
                vehicle=form.vehicle,
                reason=data["reason"],
                area=data["area"],
                starts_at=form.combined("date", "time"),
                duration_minutes=data["duration_minutes"],
                handover_at=form.combined("handover_date", "handover_time"),
                needs_loaner=data["needs_loaner"],
                comment=data["comment"],
                planned_hours=data.get("planned_hours"),
                planned_kind=data.get("planned_kind"),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                remap = {"starts_at": "time", "handover_at": "handover_time"}
                error = ValidationError({remap.get(k, k): v for k, v in error.error_dict.items()})
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Appointment booked: %(a)s.") % {"a": appointment})
        if getattr(appointment, "load_warning", ""):
            messages.warning(self.request, appointment.load_warning)  # issue 18 item 3
        if appointment.is_repeat_visit:
            messages.warning(self.request, _("Repeat visit for the same reason."))  # R15
        if appointment.recall_campaigns.exists():
            messages.warning(self.request, _("Open recall campaigns for this VIN: see the appointment."))
        return redirect(appointment.get_absolute_url())


class VinCheckView(DealershipPageMixin, TemplateView):
    """A fragment for the booking form: the vehicle, its owner, open recalls and recent visits (R15)."""

    permission_required = "service.add_appointment"
    template_name = "service/includes/vin_check.html"

    def get_context_data(self, **kwargs):
        from dms.core.models import Vehicle, normalize_vin

        vin = normalize_vin(self.request.GET.get("vin", ""))
        vehicle = Vehicle.objects.filter(dealership=self.request.dealership, vin=vin).select_related("customer").first()
        ctx = {"vin": vin, "vehicle": vehicle}
        if vehicle is not None:
            ctx["recalls"] = selectors.open_recalls_for_vin(dealership=self.request.dealership, vin=vin)
            ctx["recent"] = vehicle.service_appointments.order_by("-starts_at")[:5]
        return super().get_context_data(**ctx, **kwargs)


class AppointmentDetailView(DealershipPageMixin, TemplateView):
    permission_required = "service.view_appointment"
    template_name = "service/appointment_detail.html"

    def get_context_data(self, **kwargs):
        appointment = self.get_scoped_object(Appointment, self.kwargs["pk"])
        tz = self.request.dealership.tz
        starts_on = timezone.localtime(appointment.starts_at, tz).date()
        ends_on = timezone.localtime(appointment.handover_at, tz).date()
        reserve_form = forms.LoanerReserveForm(
            dealership=self.request.dealership,
            initial={"starts_on": starts_on, "ends_on": ends_on},
        )
        reserve_form.fields["loaner"].queryset = selectors.loaners_free(
            dealership=self.request.dealership, starts_on=starts_on, ends_on=ends_on
        )
        return super().get_context_data(
            appointment=appointment,
            work_order=WorkOrder.objects.filter(appointment=appointment).first(),
            recalls=appointment.recall_campaigns.all(),
            reservations=appointment.loaner_reservations.select_related("loaner"),
            reserve_form=reserve_form,
            reschedule_form=forms.RescheduleForm(
                dealership=self.request.dealership,
                initial={
                    "date": starts_on,
                    "time": timezone.localtime(appointment.starts_at, tz).time(),
                    "handover_date": ends_on,
                    "handover_time": timezone.localtime(appointment.handover_at, tz).time(),
                },
            ),
            confirmation=appointment.confirmations.first(),
            # The buttons follow django-fsm: what the appointment's status allows now (no source states repeated).
            transitions=available_transitions(appointment, self.request.user),
            audit_entries=audit_trail(appointment)[:50],
            **kwargs,
        )


class AppointmentActionView(DealershipPageMixin, View):
    """POST-only actions on an appointment; service errors come back as messages on the appointment page."""

    permission_required = "service.change_appointment"

    def post(self, request, pk, action):
        appointment = self.get_scoped_object(Appointment, pk)
        target = appointment.get_absolute_url()
        try:
            target = self.perform(request, appointment, action) or target
        except (ValidationError, ConflictError) as error:
            messages.error(request, action_error_message(error))
        return redirect(target)

    def perform(self, request, appointment, action):
        user = request.user
        if action == "cancel":
            services.appointment_cancel(actor=user, appointment=appointment, reason=request.POST.get("reason", ""))
            messages.success(request, _("Appointment cancelled."))
        elif action == "no-show":
            services.appointment_mark_no_show(actor=user, appointment=appointment)
            messages.success(request, _("Marked as not arrived."))
        elif action == "reschedule":
            form = forms.RescheduleForm(request.POST, dealership=request.dealership)
            if not form.is_valid():
                raise ValidationError(_("Enter the new date and times."))
            moved = services.appointment_reschedule(
                actor=user,
                appointment=appointment,
                starts_at=form.combined("date", "time"),
                handover_at=form.combined("handover_date", "handover_time"),
            )
            messages.success(request, _("Appointment moved."))
            if moved.load_warning:
                messages.warning(request, moved.load_warning)  # issue 18 item 3: as when booking
        elif action == "loaner":
            if not user.has_perm("service.add_loanerreservation"):
                raise PermissionDenied
            form = forms.LoanerReserveForm(request.POST, dealership=request.dealership)
            if not form.is_valid():
                raise ValidationError([e for errors in form.errors.values() for e in errors])
            services.loaner_reserve(actor=user, appointment=appointment, **form.cleaned_data)
            messages.success(request, _("Loaner car reserved."))
        elif action == "confirm":
            services.appointment_confirm(actor=user, appointment=appointment, via=gettext_noop("by the advisor"))
            messages.success(request, _("Appointment confirmed."))
        elif action == "open-work-order":
            if not user.has_perm("service.add_workorder"):
                raise PermissionDenied
            wo = services.appointment_open_work_order(actor=user, appointment=appointment)
            return reverse("service:appointment_prepare", args=[appointment.pk]) if wo else None
        else:
            raise Http404
        return None


class ReceptionView(DealershipPageMixin, FormView):
    """Arrival check-in (seed 004): mileage, fuel, damage, the customer's words; R25 interview prompt follows."""

    permission_required = "service.change_workorder"
    template_name = "service/reception_form.html"
    form_class = forms.ReceptionForm

    def get_appointment(self):
        return self.get_scoped_object(Appointment, self.kwargs["pk"])

    def reception_context(self) -> dict:
        appointment = self.get_appointment()
        return {
            "vehicle": appointment.vehicle,
            "customer": appointment.customer,
            "complaint": appointment.reason,
            "cancel_url": appointment.get_absolute_url(),
        }

    def receive(self, data: dict) -> WorkOrder:
        return services.reception_check_in(actor=self.request.user, appointment=self.get_appointment(), **data)

    def get_initial(self):
        context = self.reception_context()
        return {"customer_words": context["complaint"], "mileage": context["vehicle"].mileage}

    def get_context_data(self, **kwargs):
        context = self.reception_context()
        return super().get_context_data(
            **context,
            last_mileage=context["vehicle"].mileage,
            title=_("Reception: %(customer)s") % {"customer": context["customer"]},
            **kwargs,
        )

    def form_valid(self, form):
        try:
            wo = self.receive(form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except ConflictError as error:
            messages.error(self.request, error.message)
            return self.form_invalid(form)
        if wo.odometer_rollback:
            messages.warning(
                self.request,
                _("The mileage is lower than the last recorded one: possible odometer rollback. "
                  "The warranty engineer has been notified."),
            )  # fmt: skip
        messages.success(self.request, _("Car received on work order %(number)s.") % {"number": wo.number})
        return redirect(wo.get_absolute_url())


class WorkOrderReceptionView(ReceptionView):
    """Issue 14 item 1: the same reception for any work order — a walk-in has no appointment to receive through."""

    def get_work_order(self) -> WorkOrder:
        if not hasattr(self, "_work_order"):
            self._work_order = self.get_scoped_object(WorkOrder, self.kwargs["pk"])
        return self._work_order

    def reception_context(self) -> dict:
        wo = self.get_work_order()
        return {
            "vehicle": wo.vehicle,
            "customer": wo.customer,
            "complaint": wo.customer_words or wo.complaint,
            "cancel_url": wo.get_absolute_url(),
        }

    def receive(self, data: dict) -> WorkOrder:
        return services.workorder_record_reception(actor=self.request.user, work_order=self.get_work_order(), **data)


class PreparationListView(DealershipPageMixin, TemplateView):
    """R17: appointments due for preparation in the next 48 hours."""

    permission_required = "service.prepare_appointment"
    template_name = "service/preparation_list.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        due = list(selectors.appointments_due_for_preparation(dealership_ids=[self.request.dealership.pk], now=now))
        for a in due:
            a.hours_left = int((a.starts_at - now).total_seconds() // 3600)
        # Issue 18 item 3: which technician takes which job of the prepared work order.
        jobs = WorkOrderJob.objects.filter(
            work_order__appointment__in=[a.pk for a in due], consent__in=WorkOrderJob.DOABLE
        ).select_related("technician", "work_order")
        for a in due:
            a.job_technicians = [j for j in jobs if j.work_order.appointment_id == a.pk]
        return super().get_context_data(appointments=due, **kwargs)


class PreparationView(DealershipPageMixin, TemplateView):
    """R17: open the work order, list the needed parts against stock, reserve and order the missing ones."""

    permission_required = "service.prepare_appointment"
    template_name = "service/preparation.html"

    def get_context_data(self, **kwargs):
        appointment = self.get_scoped_object(Appointment, self.kwargs["pk"])
        wo = WorkOrder.objects.filter(appointment=appointment).first()
        lines = []
        if wo is not None:
            for line in WorkOrderPart.objects.filter(job__work_order=wo).select_related("part", "job"):
                line.available = parts_selectors.stock_available(dealership=self.request.dealership, part=line.part)
                line.outstanding = line.quantity - line.reserved_quantity - line.ordered_quantity
                lines.append(line)
        return super().get_context_data(
            appointment=appointment,
            work_order=wo,
            lines=lines,
            job_form=forms.JobForm(dealership=self.request.dealership),
            part_form=forms.PartLineForm(dealership=self.request.dealership),
            job_rows=workshop_views.job_rows(wo, self.request) if wo is not None else [],  # issue 18 item 3
            **kwargs,
        )


# --------------------------------------------------------------------------------------------------------------
# Work orders
# --------------------------------------------------------------------------------------------------------------


class WorkOrderListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "service.view_workorder"
    template_name = "service/workorder_list.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        status = self.request.GET.get("status", "")
        qs = selectors.workorder_list(dealership_ids=[self.request.dealership.pk], search=q, status=status)
        page = self.paginate(qs.select_related(None).select_related(*ROW_RELATIONS).defer(*CUSTOMER_PHONES))
        return super().get_context_data(
            page_obj=page,
            rows_html=_workorder_rows(page),
            q=q,
            status=status,
            statuses=WorkOrderStatus.choices,
            **kwargs,
        )


def _workorder_rows(page) -> SafeString:
    """Issue 19: the work orders' rows in Python (dms.core.rendering), as the template drew them; a possible odometer
    rollback is flagged."""
    detail = url_for("service:workorder_detail")
    opened = date_formatter("SHORT_DATETIME_FORMAT")
    status = display_for(WorkOrder, "status")
    odometer = f' <span class="badge text-bg-danger">{escape(_("odometer"))}</span>'

    def row(wo) -> str:
        vehicle = wo.vehicle
        return (
            f'<tr><td><a href="{detail(wo.pk)}">{show(wo.number)}</a>{odometer if wo.odometer_rollback else ""}</td>'
            f"<td>{show(wo.customer.name)}</td>"
            f"<td>{show(vehicle.make)} {show(vehicle.model)} {show(vehicle.plate)}</td>"
            f"<td>{show(user_name(wo.advisor))}</td><td>{show(status(wo.status))}</td>"
            f"<td>{show(opened(wo.created_at))}</td></tr>\n"
        )

    return render_rows(page, row, empty=_("No work orders found."), columns=6)


class WorkOrderCreateView(ServiceFormView):
    """A walk-in: the advisor opens a work order for a customer who came without an appointment."""

    permission_required = "service.add_workorder"
    form_class = forms.WalkInWorkOrderForm
    title = gettext_lazy("New work order (walk-in)")
    success_message = gettext_lazy("Work order %(object)s opened.")

    def get_initial(self):
        return {"customer": self.request.GET.get("customer"), "vehicle": self.request.GET.get("vehicle")}

    def get_cancel_url(self):
        return reverse("service:workorder_list")

    def save(self, form):
        data = form.cleaned_data
        return services.workorder_open(
            actor=self.request.user,
            dealership=self.request.dealership,
            customer=data["customer"],
            vehicle=data["vehicle"],
            complaint=data["complaint"],
        )


# The work order's forward transitions, in the order of the job (R30, R31).
WORK_ORDER_STEPS = ("start_diagnosis", "start_repair", "submit_for_quality_check", "pass_quality_check", "deliver")


class WorkOrderDetailView(DealershipPageMixin, TemplateView):
    permission_required = "service.view_workorder"
    template_name = "service/workorder_detail.html"

    def get_context_data(self, **kwargs):
        wo = self.get_scoped_object(WorkOrder, self.kwargs["pk"])
        jobs = list(wo.jobs.prefetch_related("parts__part"))
        labels = dict(INTERVIEW_LABELS())
        # R32 / issue 15 item 2: what the warehouse actually issued to each job against requisitions, at cost.
        issued_cost = parts_selectors.parts_cost_by_job(dealership_id=wo.dealership_id, work_order_id=wo.pk)
        return super().get_context_data(
            wo=wo,
            jobs=jobs,
            issued_costs=[(job, issued_cost.get(job.pk)) for job in jobs if job.pk in issued_cost],
            issued_cost_total=sum(issued_cost.values(), Decimal("0")),
            pending_jobs=[j for j in jobs if j.consent == WorkOrderJob.Consent.PENDING],
            doable_jobs=[j for j in jobs if j.consent in WorkOrderJob.DOABLE],
            job_form=forms.JobForm(dealership=self.request.dealership),
            part_form=forms.PartLineForm(dealership=self.request.dealership),
            consent_form=forms.ConsentForm(initial={"given_by": wo.customer.name}),
            self_check_form=forms.SelfCheckForm(),
            delivery_form=forms.DeliveryForm(initial={"signed_by": wo.customer.name}),
            interview_form=forms.InterviewForm(),
            interview_labels=[labels.get(r, r) for r in wo.interview_reasons],
            revisions=wo.revisions.select_related("created_by"),
            checks=wo.quality_checks.select_related("inspector").prefetch_related(
                "checked_jobs", "results__job", "results__photos", "results__ticked_items"
            ),
            # Issue 14 item 6: the check covers only the jobs that have not passed; each with its kind's checklist.
            qc_jobs=[
                (job, list(job.kind.checklist.filter(active=True)) if job.kind_id else [])
                for job in selectors.jobs_waiting_for_quality_check(wo)
            ],
            next_step=selectors.workorder_next_step(wo),
            # The next step's form follows django-fsm's states; the conditions are the services' to explain.
            steps=[name for name in WORK_ORDER_STEPS if is_available(wo, name)],
            full_inspection=any(j.is_important for j in selectors.jobs_waiting_for_quality_check(wo)),
            audit_entries=audit_trail(wo)[:50],
            job_rows=workshop_views.job_rows(wo, self.request),  # issue 18 item 2
            findings=selectors.finding_list(dealership_ids=[wo.dealership_id], work_order_id=wo.pk),
            finding_form=forms.FindingForm(),
            **kwargs,
        )


class QualityPhotoView(DealershipPageMixin, View):
    """A quality-check photo (issue 14 item 6), served like claims' attachments: only to users who may see the work
    order, in its dealership; never from a public media URL."""

    permission_required = "service.view_workorder"

    def get(self, request, pk):
        photo = QualityPhoto.objects.select_related("result__job").filter(pk=pk).first()
        if photo is None:
            raise Http404
        self.get_scoped_object(WorkOrder, photo.result.job.work_order_id)
        return private_file_response(photo.file, content_type=photo.content_type, filename=photo.original_name)


def INTERVIEW_LABELS():  # noqa: N802 - a lazy constant
    return [
        (selectors.INTERVIEW_NEW_CAR, _("new car")),
        (selectors.INTERVIEW_WARRANTY_ENDING, _("warranty ending soon")),
        (selectors.INTERVIEW_OUT_OF_WARRANTY, _("out of warranty")),
        (selectors.INTERVIEW_COMPLAINT_3_DAYS, _("complaint within 3 days of delivery")),
        (selectors.INTERVIEW_VIP, _("VIP")),
    ]


def _said(obj, message: str) -> str:
    """The page action's success message is the one its ``do_*`` returned."""
    return message


class WorkOrderActionView(ActionView):
    """POST-only actions; each calls one service. Errors come back as messages."""

    model = WorkOrder
    permission_required = ("service.view_workorder",)
    follow_next = True  # the jobs editor's buttons sit on the preparation page as well

    def run_action(self, action, obj, data):
        # Each action's ``do_*`` reads the POST itself (job ids, per-job results and photos) and returns its message.
        return action.call(self, self.request, obj)

    def _job(self, request, wo, key="job"):
        raw = request.POST.get(key, "")
        # Issue 12 item 6: a job of THIS work order, through the shared resolver.
        job_id = parse_id(raw)
        return resolve_reference(wo.jobs.all(), job_id, dealership=wo.dealership_id, field=key)

    @staticmethod
    def _form_errors(form):
        return ValidationError(
            [
                f"{form.fields[k].label}: {e}" if k in form.fields else str(e)
                for k, errors in form.errors.items()
                for e in errors
            ]
        )

    def do_add_job(self, request, wo):
        form = forms.JobForm(request.POST, dealership=wo.dealership)
        if not form.is_valid():
            raise self._form_errors(form)
        job = services.workorder_job_add(actor=request.user, work_order=wo, **form.cleaned_data)
        if job.load_warning:
            messages.warning(request, job.load_warning)  # issue 18 item 3
        if job.is_extra:
            return _("Extra work added: it waits for the customer's consent.")  # R30
        return _("Job added.")

    def do_remove_job(self, request, wo):
        services.workorder_job_remove(actor=request.user, job=self._job(request, wo))
        return _("Job removed.")

    def do_add_part(self, request, wo):
        form = forms.PartLineForm(request.POST, dealership=request.dealership)
        if not form.is_valid():
            raise self._form_errors(form)
        job = self._job(request, wo)
        services.workorder_part_add(
            actor=request.user, job=job, part=form.cleaned_data["part"], quantity=form.cleaned_data["quantity"]
        )
        return _("Part added.")

    def do_remove_part(self, request, wo):
        line_id = parse_id(request.POST.get("line", ""))
        line = WorkOrderPart.objects.filter(job__work_order=wo, pk=line_id).first() if line_id is not None else None
        if line is None:
            raise ValidationError(_("Unknown part line."))
        services.workorder_part_remove(actor=request.user, line=line)
        return _("Part removed.")

    def do_consent(self, request, wo):
        form = forms.ConsentForm(request.POST)
        if not form.is_valid():
            raise self._form_errors(form)
        job = self._job(request, wo)
        data = form.cleaned_data
        job = services.workorder_consent_record(
            actor=request.user, job=job, agreed=data["agreed"], given_by=data["given_by"], channel=data["channel"]
        )
        if job.load_warning:
            messages.warning(request, job.load_warning)  # issue 18 item 3
        return _("The customer's answer is recorded; the work order is revised.")

    def do_complete_job(self, request, wo):
        services.workorder_job_complete(actor=request.user, job=self._job(request, wo))
        return _("Job done.")

    def do_start_diagnosis(self, request, wo):
        services.workorder_start_diagnosis(actor=request.user, work_order=wo)
        return _("Diagnosis started.")

    def do_start_repair(self, request, wo):
        services.workorder_start_repair(actor=request.user, work_order=wo)
        return _("Repair started.")

    def do_submit_quality_check(self, request, wo):
        form = forms.SelfCheckForm(request.POST)
        if not form.is_valid():
            raise self._form_errors(form)
        services.workorder_submit_for_quality_check(actor=request.user, work_order=wo, **form.cleaned_data)
        return _("Self-check recorded; the car goes to the quality check.")

    def do_quality_check(self, request, wo):
        """R31 / issue 14 item 6: a result per job — passed or failed (the job's own choice, else the button
        pressed), its comment, the ticked checklist items and photos."""
        # Issue 12 item 6: every ticked id must be a job of this work order — none is silently dropped.
        ids = [parse_id(x) or x for x in request.POST.getlist("checked_jobs")]
        chosen = [job.pk for job in wo.jobs.all() if request.POST.get(f"result_{job.pk}") in ("pass", "fail")]
        ids += [pk for pk in chosen if pk not in ids]
        jobs = resolve_references(wo.jobs.all(), ids, dealership=wo.dealership_id, field="checked_jobs")
        overall = request.POST.get("result")
        notes = request.POST.get("notes", "")
        results = []
        for job in jobs:
            verdict = request.POST.get(f"result_{job.pk}") or overall
            if verdict not in ("pass", "fail"):
                raise ValidationError(_("%(job)s: choose passed or failed.") % {"job": job})
            results.append(
                services.JobQualityResult(
                    job=job,
                    passed=verdict == "pass",
                    comment=request.POST.get(f"comment_{job.pk}", "").strip() or notes,
                    ticked_items=services.checklist_items_of(job, request.POST.getlist(f"items_{job.pk}")),
                    photos=request.FILES.getlist(f"photos_{job.pk}"),
                )
            )
        check = services.workorder_quality_check(actor=request.user, work_order=wo, results=results, notes=notes)
        if check.passed:
            return _("Quality check passed: ready for delivery.")
        failed = ", ".join(r.job.description for r in results if not r.passed)
        return _("Sent back for rework: %(jobs)s.") % {"jobs": failed}

    def do_deliver(self, request, wo):
        form = forms.DeliveryForm(request.POST)
        if not form.is_valid():
            raise self._form_errors(form)
        services.workorder_deliver(actor=request.user, work_order=wo, signed_by=form.cleaned_data["signed_by"])
        return _("Car delivered.")

    def do_interview(self, request, wo):
        form = forms.InterviewForm(request.POST)
        if not form.is_valid():
            raise self._form_errors(form)
        services.workorder_record_interview(actor=request.user, work_order=wo, notes=form.cleaned_data["notes"])
        return _("Interview recorded.")

    def do_prepare(self, request, wo):
        kind = request.POST.get("order_kind", "commercial")
        result = services.workorder_prepare_parts(actor=request.user, work_order=wo, order_kind=kind)
        text = _("Reserved %(reserved)s line(s) from stock.") % {"reserved": len(result["reserved"])}
        if result["order"] is not None:
            text += " " + _("Customer order %(number)s created for the missing parts.") % {"number": result["order"]}
        return text

    # Issue 17: inspection findings (technician) and sending them to the customer (advisor), R30.
    def do_add_finding(self, request, wo):
        form = forms.FindingForm(request.POST)
        if not form.is_valid():
            raise self._form_errors(form)
        services.finding_create(
            actor=request.user, work_order=wo, photos=request.FILES.getlist("photos"), **form.cleaned_data
        )
        return _("Finding recorded.")

    def _finding(self, request, wo):
        finding_id = parse_id(request.POST.get("finding", ""))
        finding = wo.findings.filter(pk=finding_id).first() if finding_id is not None else None
        if finding is None:
            raise ValidationError(_("Unknown finding."))
        return finding

    def do_remove_finding(self, request, wo):
        services.finding_delete(actor=request.user, finding=self._finding(request, wo))
        return _("Finding removed.")

    def do_send_findings(self, request, wo):
        result = services.findings_send(actor=request.user, work_order=wo)
        if result["delivery"] is None:
            return _(
                "%(count)s finding(s) are waiting for the customer's decision. The customer has no SMS or e-mail "
                "channel: call them, or they answer on their status page."
            ) % {"count": len(result["sent"])}
        return _("%(count)s finding(s) sent to the customer (%(channel)s).") % {
            "count": len(result["sent"]),
            "channel": result["delivery"].get_channel_display(),
        }

    _change = "service.change_workorder"
    actions = {
        "add-finding": PageAction(call=do_add_finding, permission="service.add_inspectionfinding", success=_said),
        "remove-finding": PageAction(
            call=do_remove_finding, permission="service.delete_inspectionfinding", success=_said
        ),
        "send-findings": PageAction(call=do_send_findings, permission=_change, success=_said),
        "add-job": PageAction(call=do_add_job, permission=_change, success=_said),
        "remove-job": PageAction(call=do_remove_job, permission=_change, success=_said),
        "add-part": PageAction(call=do_add_part, permission=_change, success=_said),
        "remove-part": PageAction(call=do_remove_part, permission=_change, success=_said),
        "consent": PageAction(call=do_consent, permission=_change, success=_said),
        "complete-job": PageAction(call=do_complete_job, permission=_change, success=_said),
        "start-diagnosis": PageAction(call=do_start_diagnosis, permission=_change, success=_said),
        "start-repair": PageAction(call=do_start_repair, permission=_change, success=_said),
        "submit-quality-check": PageAction(call=do_submit_quality_check, permission=_change, success=_said),
        "quality-check": PageAction(call=do_quality_check, permission="service.qc_workorder", success=_said),
        "deliver": PageAction(call=do_deliver, permission=_change, success=_said),
        "interview": PageAction(call=do_interview, permission=_change, success=_said),
        "prepare": PageAction(call=do_prepare, permission="service.prepare_appointment", success=_said),
    }


class WorkOrderPdfView(DealershipPageMixin, View):
    permission_required = "service.view_workorder"

    def get(self, request, pk):
        wo = self.get_scoped_object(WorkOrder, pk)
        return pdf_response(pdf.work_order_pdf(wo), f"{wo.number}.pdf")


class BinLabelPdfView(DealershipPageMixin, View):
    permission_required = "service.view_workorder"

    def get(self, request, pk):
        wo = self.get_scoped_object(WorkOrder, pk)
        return pdf_response(pdf.bin_label_pdf(wo), f"{wo.number}-label.pdf")


class WorkshopBoardView(DealershipPageMixin, TemplateView):
    """Today's cars by status; R10: waiting-lot cars whose parts arrived today come first."""

    permission_required = "service.view_workshop_board"
    template_name = "service/workshop_board.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(columns=selectors.workshop_board(dealership=self.request.dealership), **kwargs)


# --------------------------------------------------------------------------------------------------------------
# Loaners, recalls, schedules
# --------------------------------------------------------------------------------------------------------------


class LoanerListView(DealershipPageMixin, PaginatedListMixin, FormView):
    permission_required = "service.view_loaner"
    template_name = "service/loaner_list.html"
    form_class = forms.LoanerForm

    def get_context_data(self, **kwargs):
        q = self.search_param()
        qs = selectors.loaner_list(dealership_ids=[self.request.dealership.pk], search=q)
        reservations = LoanerReservation.objects.filter(
            dealership=self.request.dealership, status="reserved", ends_on__gte=_today(self.request)
        ).select_related("loaner", "customer", "appointment")[:50]
        return super().get_context_data(page_obj=self.paginate(qs), q=q, reservations=reservations, **kwargs)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("service.add_loaner"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            services.loaner_create(actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Loaner car added."))
        return redirect("service:loaner_list")


class LoanerContractPdfView(DealershipPageMixin, View):
    permission_required = "service.view_loanerreservation"

    def get(self, request, pk):
        reservation = self.get_scoped_object(LoanerReservation, pk)
        return pdf_response(pdf.loaner_contract_pdf(reservation), f"loan-{reservation.pk}.pdf")


class LoanerReservationCancelView(ActionView):
    """POST: cancel a loaner reservation; back to its appointment's page with the outcome as a message."""

    model = LoanerReservation
    action_name = "cancel"
    actions = {
        "cancel": PageAction(
            call=lambda actor, reservation, data: services.loaner_reservation_cancel(
                actor=actor, reservation=reservation
            ),
            permission="service.change_loanerreservation",
            success=gettext_lazy("Loaner reservation cancelled."),
        )
    }

    def get_success_url(self, obj) -> str:
        return obj.appointment.get_absolute_url()


class RecallListView(DealershipPageMixin, PaginatedListMixin, FormView):
    permission_required = "service.view_recallcampaign"
    template_name = "service/recall_list.html"
    form_class = forms.RecallCampaignForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "dealership": self.request.dealership}

    def get_context_data(self, **kwargs):
        q = self.search_param()
        qs = selectors.recall_campaign_list(dealership_ids=[self.request.dealership.pk], search=q)
        return super().get_context_data(page_obj=self.paginate(qs), q=q, import_form=forms.RecallImportForm(), **kwargs)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("service.add_recallcampaign"):
            raise PermissionDenied
        if "file" in request.FILES:
            return self.import_csv(request)
        return super().post(request, *args, **kwargs)

    def import_csv(self, request):
        raw = request.FILES["file"].read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1251", errors="replace")
        try:
            result = services.recall_campaigns_import_csv(actor=request.user, dealership=request.dealership, text=text)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Imported: %(created)s new campaign(s), %(updated)s updated, %(vins)s VIN(s) added.") % result,
            )
        return redirect("service:recall_list")

    def form_valid(self, form):
        try:
            services.recall_campaign_create(
                actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Recall campaign added."))
        return redirect("service:recall_list")


class ScheduleView(DealershipPageMixin, TemplateView):
    """Advisors' working hours and days off."""

    permission_required = "service.view_workinghours"
    template_name = "service/schedule.html"

    def get_context_data(self, **kwargs):
        dealership = self.request.dealership
        advisors = list(selectors.advisors(dealership=dealership))
        hours = WorkingHours.objects.filter(dealership=dealership).select_related("advisor")
        days_off = DayOff.objects.filter(dealership=dealership, date__gte=_today(self.request)).select_related(
            "advisor"
        )
        rows = []
        for advisor in advisors:
            by_day = {h.weekday: h for h in hours if h.advisor_id == advisor.pk}
            rows.append({"advisor": advisor, "days": [by_day.get(n) for n in range(7)]})
        return super().get_context_data(
            rows=rows,
            weekdays=WorkingHours.Weekday.choices,
            days_off=days_off,
            hours_form=kwargs.pop("hours_form", None) or forms.WorkingHoursForm(dealership=dealership),
            day_off_form=kwargs.pop("day_off_form", None) or forms.DayOffForm(dealership=dealership),
            **kwargs,
        )

    def post(self, request):
        dealership = request.dealership
        kind = request.POST.get("kind")
        try:
            if kind == "hours":
                if not request.user.has_perm("service.add_workinghours"):
                    raise PermissionDenied
                form = forms.WorkingHoursForm(request.POST, dealership=dealership)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(hours_form=form))
                services.working_hours_set(actor=request.user, dealership=dealership, **form.cleaned_data)
            elif kind == "day_off":
                if not request.user.has_perm("service.add_dayoff"):
                    raise PermissionDenied
                form = forms.DayOffForm(request.POST, dealership=dealership)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(day_off_form=form))
                services.day_off_create(actor=request.user, dealership=dealership, **form.cleaned_data)
            elif kind == "delete_hours":
                if not request.user.has_perm("service.delete_workinghours"):
                    raise PermissionDenied
                services.working_hours_delete(
                    actor=request.user, hours=self.get_scoped_object(WorkingHours, request.POST.get("pk"))
                )
            elif kind == "delete_day_off":
                if not request.user.has_perm("service.delete_dayoff"):
                    raise PermissionDenied
                services.day_off_delete(
                    actor=request.user, day_off=self.get_scoped_object(DayOff, request.POST.get("pk"))
                )
            else:
                raise Http404
            messages.success(request, _("Schedule saved."))
        except ValidationError as error:
            messages.error(request, action_error_message(error))
        return redirect("service:schedule")


# --------------------------------------------------------------------------------------------------------------
# Confirmations (R19) and the iCalendar feed
# --------------------------------------------------------------------------------------------------------------


class ConfirmationCallsView(DealershipPageMixin, TemplateView):
    """R19: phone-channel customers to call for the 24-hour confirmation."""

    permission_required = "service.change_appointment"
    template_name = "service/confirmation_calls.html"

    def get_context_data(self, **kwargs):
        mine = self.request.GET.get("all") != "1"
        calls = selectors.confirmation_calls(
            dealership_ids=[self.request.dealership.pk], user=self.request.user if mine else None
        )
        return super().get_context_data(calls=calls, mine=mine, **kwargs)

    def post(self, request):
        from .models import AppointmentConfirmation

        confirmation = self.get_scoped_object(AppointmentConfirmation, request.POST.get("pk"))
        try:
            services.confirmation_call_record(
                actor=request.user,
                confirmation=confirmation,
                result=request.POST.get("result", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("Call result recorded."))
        except (ValidationError, ConflictError) as error:
            messages.error(request, action_error_message(error))
        return redirect("service:confirmation_calls")


class _DealershipZoneMixin:
    """For a customer link's page (after ``CustomerLinkMixin``): times in the dealership's zone. The page has no
    signed-in user, so the middleware keeps the server's default; the response is rendered inside the zone."""

    def dispatch(self, request, *args, **kwargs):
        with timezone.override(self.link.dealership.tz):
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response


class PublicReplyView(CustomerLinkMixin, _DealershipZoneMixin, TemplateView):
    """R19: the customer's signed reply link (no login): confirm or ask to reschedule. A customer link (issue 17):
    tampered, expired and revoked links get the refusal page."""

    template_name = "service/public_reply.html"
    link_purposes = ("appointment_reply",)

    def get_appointment(self):
        appointment = services.appointment_of_link(self.link)
        if appointment is None:
            raise Http404
        return appointment

    def get_context_data(self, **kwargs):
        appointment = self.get_appointment()
        return super().get_context_data(
            appointment=appointment,
            dealership=appointment.dealership,  # the layout's header and its phone
            local_start=timezone.localtime(appointment.starts_at, appointment.dealership.tz),
            **kwargs,
        )

    def post(self, request, token):
        appointment = self.get_appointment()
        answer = request.POST.get("answer")
        try:
            services.confirmation_reply(appointment=appointment, answer=answer)
        except (ValidationError, ConflictError) as error:
            return self.render_to_response(self.get_context_data(error=action_error_message(error)))
        # Post/Redirect/Get (issue 17): reloading the thank-you page must not post the answer again; the page reads
        # the result from the appointment's status.
        return redirect(request.path)


class AdvisorCalendarFeedView(View):
    """iCalendar feed of one advisor's appointments; the unexpired key in the URL replaces a login (item 7)."""

    def get(self, request, token):
        # Like the customers' links (issue 17): an address that keeps presenting unknown keys is stopped (429).
        scope, limit = "calendar-feed-refused", links.REFUSALS_PER_HOUR
        if rate_limited(request, scope=scope, limit=limit, window=3600, count=False):
            return links.too_many_response(request)
        advisor = ical.advisor_from_token(token)
        if advisor is None or not advisor.has_perm("service.view_appointment"):
            rate_limited(request, scope=scope, limit=limit, window=3600)
            raise Http404
        response = HttpResponse(ical.advisor_feed(advisor), content_type="text/calendar; charset=utf-8")
        set_download_name(response, "appointments.ics", inline=True)
        response["Cache-Control"] = "private, no-store"
        return response


# --------------------------------------------------------------------------------------------------------------
# Issue 14 item 4: pickers and the booking form's hand-over proposal
# --------------------------------------------------------------------------------------------------------------


class JobPickerView(PickerSearchView):
    """The job picker: jobs of the chosen work order (``?work_order=``), e.g. on the warranty claim form."""

    permission_required = "service.view_workorder"

    def search(self, *, dealership_id, query, params):
        work_order_id = picker_param_id(params, "work_order")
        return [
            {"id": job.pk, "text": f"{job.work_order.number}: {job.description}", "detail": ""}
            for job in selectors.job_search(dealership_id=dealership_id, query=query, work_order_id=work_order_id)
        ]


class OpenWorkOrderPickerView(PickerSearchView):
    """The open-work-order picker (e.g. a parts requisition's work order): the work orders whose car has not left,
    by number, customer name, VIN or plate; the chosen customer's only (``?customer=``)."""

    permission_required = "service.view_workorder"

    def search(self, *, dealership_id, query, params):
        customer_id = picker_param_id(params, "customer")
        return [
            {
                "id": wo.pk,
                "text": str(wo),
                "detail": " · ".join(filter(None, [wo.customer.name, wo.vehicle.plate or wo.vehicle.vin])),
                "customer": wo.customer_id,
            }
            for wo in selectors.open_work_order_search(
                dealership_id=dealership_id, query=query, customer_id=customer_id
            )
        ]


class HandoverSlotView(DealershipPageMixin, View):
    """``{"date": "YYYY-MM-DD", "time": "HH:MM"}``: the first free hand-over slot after an arrival (R16), for the
    booking form to propose as the arrival changes; nulls when the advisor has none in the next two weeks."""

    permission_required = "service.add_appointment"

    def get(self, request, *args, **kwargs):
        dealership = request.dealership
        form = forms.HandoverSlotQueryForm(request.GET, dealership=dealership)
        if not form.is_valid():
            return JsonResponse(
                {"detail": _("Give the advisor, the arrival date and time and the duration.")}, status=400
            )
        data = form.cleaned_data
        starts_at = datetime.datetime.combine(data["date"], data["time"], tzinfo=dealership.tz)
        slot = selectors.first_free_handover(
            dealership=dealership, advisor=data["advisor"], starts_at=starts_at, duration_minutes=data["duration"]
        )
        if slot is None:
            return JsonResponse({"date": None, "time": None})
        local = timezone.localtime(slot, dealership.tz)
        return JsonResponse({"date": local.date().isoformat(), "time": local.strftime("%H:%M")})


class FindingPhotoView(DealershipPageMixin, View):
    """A finding's photo for staff (issue 17), like quality photos: permission and dealership checked."""

    permission_required = "service.view_workorder"

    def get(self, request, pk):
        photo = FindingPhoto.objects.select_related("finding").filter(pk=pk).first()
        if photo is None:
            raise Http404
        self.get_scoped_object(WorkOrder, photo.finding.work_order_id)
        return private_file_response(photo.file, content_type=photo.content_type, filename=photo.original_name)


# --------------------------------------------------------------------------------------------------------------
# Issue 17: the customer's status page (no login: a signed link, dms.core.links)
# --------------------------------------------------------------------------------------------------------------


class CustomerStatusView(CustomerLinkMixin, _DealershipZoneMixin, TemplateView):
    """The customer's orders, work orders (stages, estimate, findings to approve) and appointments, phone-sized."""

    template_name = "service/customer_status.html"
    link_purposes = ("status",)

    def get_context_data(self, **kwargs):
        kwargs["token"] = self.kwargs["token"]  # the photos' URLs carry it
        kwargs.setdefault("done", self._done_message())
        return super().get_context_data(
            customer=self.customer,
            dealership=self.link.dealership,
            **selectors.customer_status(customer=self.customer),
            **kwargs,
        )

    def _done_message(self) -> str | None:
        """After an answer the page is shown again by GET (a reload sends nothing twice): what was just recorded."""
        finding_id = parse_id(self.request.GET.get("answered", ""))
        if finding_id is not None:
            finding = InspectionFinding.objects.filter(
                pk=finding_id, work_order__customer=self.customer, consents__isnull=False
            ).first()
            if finding is not None:
                return _("Thank you: your decision on «%(item)s» is recorded.") % {"item": finding.item}
        return {
            "confirm": _("Thank you, your visit is confirmed. See you!"),
            "reschedule": _("We will call you to agree a new time."),
        }.get(self.request.GET.get("replied", ""))

    def _decide(self, request, answer):
        finding_id = parse_id(request.POST.get("finding", ""))
        finding = (
            InspectionFinding.objects.filter(pk=finding_id, work_order__customer=self.customer).first()
            if finding_id is not None
            else None
        )
        if finding is None:
            raise ValidationError(_("Unknown item."))
        services.finding_decide(
            link=self.link, finding=finding, agreed=answer == "approve", client_address=client_address(request)
        )
        return f"answered={finding.pk}"

    def _reply(self, request, answer):
        appointment_id = parse_id(request.POST.get("appointment", ""))
        appointment = (
            Appointment.objects.filter(pk=appointment_id, customer=self.customer).first()
            if appointment_id is not None
            else None
        )
        if appointment is None:
            raise ValidationError(_("Unknown appointment."))
        services.confirmation_reply(appointment=appointment, answer=answer)
        return f"replied={answer}"

    def post(self, request, token):
        answer = request.POST.get("answer", "")
        try:
            if answer in ("approve", "decline"):
                done = self._decide(request, answer)
            elif answer in ("confirm", "reschedule"):
                done = self._reply(request, answer)
            else:
                raise ValidationError(_("Choose an answer."))
        except (ValidationError, ConflictError) as error:
            return self.render_to_response(self.get_context_data(error=action_error_message(error)), status=400)
        # Post/redirect/get: the answer's page is a GET, so reloading it on the phone repeats nothing.
        return redirect(f"{request.path}?{done}")


class CustomerFindingPhotoView(CustomerLinkMixin, View):
    """A finding's photo for the customer whose link it is (never a public media URL)."""

    link_purposes = ("status",)

    def get(self, request, token, pk):
        # The findings the page shows (selectors.customer_status): those sent to the customer, and those that need
        # no decision (green, or without a price) — the advisor's unsent amber and red findings stay unseen.
        shown = Q(finding__sent_at__isnull=False) | Q(finding__colour=FindingColour.GREEN) | Q(finding__price__lte=0)
        photo = (
            FindingPhoto.objects.filter(shown, pk=pk, finding__work_order__customer=self.customer)
            .select_related("finding")
            .first()
        )
        if photo is None:
            raise Http404
        return private_file_response(photo.file, content_type=photo.content_type, filename=photo.original_name)


class ServiceReminderActionView(ActionView):
    """Issue 17 item 5: the advisor records the follow-up call — service due or declined work — with its outcome and
    the customer's satisfaction (home panel, «Мои звонки», vehicle card); back to where it was."""

    model = ServiceReminder
    action_name = "called"
    follow_next = True
    actions = {
        "called": PageAction(
            call=lambda user, obj, data: services.service_reminder_called(actor=user, reminder=obj, **data),
            permission="service.call_servicereminder",
            form=forms.ReminderCallForm,
            success=gettext_lazy("The call is recorded."),
        )
    }
