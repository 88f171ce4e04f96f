import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from . import links, roles, selectors, services
from .app_hooks import app_panel_modules
from .exceptions import ConflictError
from .formatting import date_formatter, format_phone
from .forms import CustomerForm, DealershipScopedFormMixin, VehicleForm
from .inputs import parse_id
from .models import Customer, Vehicle
from .pagination import CappedCountPaginator
from .rendering import CUSTOMER_PHONES, display_for, render_rows, show, url_for
from .tenancy import SESSION_KEY, allowed_dealership_ids, report_dealership_ids, unknown_dealership
from .transitions import can_run, offered_transitions


class DealershipPageMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """A page acting in the user's active dealership; records of other dealerships are 404."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.dealership is None:
            messages.error(request, _("Your account is not assigned to any dealership. Ask an administrator."))
            return redirect("login")
        return super().dispatch(request, *args, **kwargs)

    def get_scoped_object(self, model, pk):
        obj = model.objects.filter(pk=pk, dealership=self.request.dealership).first()
        if obj is None:
            raise Http404
        return obj


class RecordDetailView(DealershipPageMixin, TemplateView):
    """A record's page: the dealership's ``model`` row ``pk`` (404 otherwise) as ``context_object_name``, the
    transitions it offers the user (``offered_transitions``) as ``offered_name``, its last ``audit_rows`` audit rows
    and what ``record_context(obj)`` adds. Reading it takes the model's view permission."""

    model = None
    context_object_name = "obj"
    offered_name = "offered"
    audit_rows = 30

    def get_permission_required(self):
        return [f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"]

    def record_context(self, obj) -> dict:
        return {}

    def get_context_data(self, **kwargs):
        obj = self.get_scoped_object(self.model, self.kwargs["pk"])
        record = {self.context_object_name: obj, self.offered_name: offered_transitions(obj, self.request.user)}
        record.update(self.record_context(obj), audit_entries=selectors.audit_trail(obj)[: self.audit_rows])
        return super().get_context_data(**record, **kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# The one page action view (issue 13 item 1): a POST button on a record's page runs one service call.

# What a service may refuse an action with; a page turns each into a message on the record's page, never a 500.
ACTION_ERRORS = (ValidationError, ConflictError, PermissionDenied, TransitionNotAllowed, ConcurrentTransition,
                 IntegrityError)  # fmt: skip


def action_error_message(error: Exception, *, not_allowed: str = "") -> str:
    """The message a page shows for a refused action (``ACTION_ERRORS``).

    ValidationError: its messages; ConflictError: its message; the FSM refusing the transition or a concurrent
    change: ``not_allowed`` (by default "This action is not allowed in the record's current status."); a role
    refusal: "You are not allowed to do this."; an integrity conflict: the API's wording for it.
    """
    if isinstance(error, ValidationError):
        return " ".join(str(message) for message in error.messages)
    if isinstance(error, ConflictError):
        return error.message
    if isinstance(error, TransitionNotAllowed | ConcurrentTransition):
        return not_allowed or _("This action is not allowed in the record's current status.")
    if isinstance(error, PermissionDenied):
        return _("You are not allowed to do this.")
    return _("The change conflicts with existing data (a duplicate or a concurrent change).")


@dataclass(frozen=True)
class PageAction:
    """One button of a record's page.

    ``call(actor, obj, data)`` runs the service (``data``: the form's cleaned data, or {}); ``permission`` is what
    the user needs to press it (403 without it); ``form`` validates the POST first; ``success`` is the message
    after it ran (text, or a callable given the record and the call's result); ``transition`` names the FSM
    transition it runs, so ``available_actions`` offers the button only when ``can_run`` says so.
    """

    call: Callable[[Any, Any, dict], Any]
    permission: str = ""
    form: type | None = None
    success: str | Callable[[Any, Any], str] = ""
    transition: str = ""


def report_dealership_scope(request) -> tuple[list[int], dict]:
    """A report page's ``?dealership=``: (ids, errors). A malformed, unknown or foreign one is an error shown on the
    page, and the report covers all of the user's dealerships meanwhile."""
    raw = request.GET.get("dealership", "")
    wanted = parse_id(raw)
    try:
        if raw and wanted is None:
            raise unknown_dealership()
        return report_dealership_ids(request.user, wanted), {}
    except ValidationError as error:
        return report_dealership_ids(request.user, None), error.message_dict


def parsed_or_default(parse: Callable[..., Any], *raw, errors: dict, **kwargs) -> Any:
    """A report page's parameters through the report's own ``parse(*raw, **kwargs)``. A refused value's messages go
    to ``errors`` (shown on the page, a 400) and the report shows its default meanwhile (``parse`` of nothing)."""
    try:
        return parse(*raw, **kwargs)
    except ValidationError as error:
        errors.update(error.message_dict)
        return parse(*(None for _value in raw), **kwargs)


def available_actions(obj, user, actions: dict[str, PageAction]) -> list[str]:
    """The names of the buttons ``user`` may press on ``obj`` now: the permission held and, for a transition,
    django-fsm's ``can_run`` (state, role, conditions) — pages never repeat a transition's source states."""
    names = []
    for name, action in actions.items():
        if action.permission and not user.has_perm(action.permission):
            continue
        if action.transition and not can_run(obj, action.transition, user):
            continue
        names.append(name)
    return names


class ActionView(DealershipPageMixin, View):
    """POST-only buttons of a record's page: ``actions`` maps the URL's ``action`` (or the class's ``action_name``)
    to a ``PageAction``; the record is the dealership's ``model`` row ``pk`` (404 otherwise), an unknown action is
    a 404, a missing permission a 403, and every refusal of the service (``ACTION_ERRORS``) a message on the
    record's page. Detail pages ask ``available_actions`` (the class method) which buttons to show.
    """

    http_method_names = ["post"]
    model = None
    actions: dict[str, PageAction] = {}
    action_name = ""  # for a view of one action whose URL has no ``action``
    detail_url = ""  # a URL name taking ``pk``; by default the record's get_absolute_url()
    follow_next = False  # go back to a same-site ``next`` the form posts (a list the button sits on)
    not_allowed_message = ""  # what TransitionNotAllowed says on this page (see action_error_message)
    permission_required = ()  # each PageAction names its own; this is for all of them

    @classmethod
    def available_actions(cls, obj, user) -> list[str]:
        return available_actions(obj, user, cls.actions)

    def get_action_name(self) -> str:
        return self.kwargs.get("action") or self.action_name

    def get_action(self) -> PageAction | None:
        return self.actions.get(self.get_action_name())

    def get_permission_required(self):
        action = self.get_action()
        required = list(super().get_permission_required())
        return required + [action.permission] if action is not None and action.permission else required

    def get_object(self):
        return self.get_scoped_object(self.model, self.kwargs["pk"])

    def get_form_kwargs(self, form_class, obj) -> dict:
        """A dealership-scoped form (``DealershipScopedFormMixin``) takes the dealership it acts in; others nothing."""
        scoped = issubclass(form_class, DealershipScopedFormMixin)
        return {"dealership": self.request.dealership} if scoped else {}

    def post(self, request, *args, **kwargs):
        action = self.get_action()
        if action is None:
            raise Http404
        obj = self.get_object()
        data: dict = {}
        if action.form is not None:
            form = action.form(request.POST, request.FILES, **self.get_form_kwargs(action.form, obj))
            if not form.is_valid():
                return self.form_invalid(form, obj)
            data = form.cleaned_data
        try:
            result = self.run_action(action, obj, data)
        except ACTION_ERRORS as error:
            return self.action_failed(error, obj)
        messages.success(request, self.success_message(action, obj, result))
        return redirect(self.get_done_url(obj, result))

    def run_action(self, action: PageAction, obj, data: dict):
        """``action.call(user, obj, data)``; override to hand a call more of the request."""
        return action.call(self.request.user, obj, data)

    def form_invalid(self, form, obj):
        """Each field's errors as one message ("Label: error"), then back to the record's page."""
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            text = " ".join(str(error) for error in errors)
            messages.error(self.request, f"{label}: {text}" if label else text)
        return redirect(self.get_success_url(obj))

    def action_failed(self, error: Exception, obj):
        messages.error(self.request, action_error_message(error, not_allowed=self.not_allowed_message))
        return redirect(self.get_success_url(obj))

    def success_message(self, action: PageAction, obj, result) -> str:
        if callable(action.success):
            return action.success(obj, result)
        return str(action.success) if action.success else _("Done.")

    def get_done_url(self, obj, result) -> str:
        """Where a successful action leads (the record's page; e.g. a new work order's page when overridden)."""
        return self.get_success_url(obj)

    def get_success_url(self, obj) -> str:
        wanted = self.request.POST.get("next", "") if self.follow_next else ""
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return wanted
        return reverse(self.detail_url, kwargs={"pk": obj.pk}) if self.detail_url else obj.get_absolute_url()


def customer_panels(request, customer) -> list[str]:
    """Cards other apps add to the customer page: ``<app>.panels.customer_panel(request, customer) -> html | None``."""
    from django.utils.safestring import mark_safe

    panels = []
    for module in app_panel_modules():
        hook = getattr(module, "customer_panel", None)
        html = hook(request, customer) if hook else None
        if html:
            panels.append(mark_safe(html))  # noqa: S308 - rendered by the app's own template
    return panels


def app_panels(request, hook_name: str = "home_panels") -> list[str]:
    """Cards the apps add to a page (each checks its own permission): ``<hook_name>(request) -> [html, ...]`` —
    ``home_panels`` the home dashboard, ``my_calls_panels`` «Мои звонки»."""
    from django.utils.safestring import mark_safe

    panels = []
    for module in app_panel_modules():
        hook = getattr(module, hook_name, None)
        for html in (hook(request) if hook else None) or []:
            panels.append(mark_safe(html))  # noqa: S308 - rendered by the app's own template
    return panels


def home_panels(request) -> list[str]:
    return app_panels(request, "home_panels")


def role_landings() -> dict[str, str]:
    """Role → where its day starts: core's own (``roles.CORE_LANDINGS``) and those the apps declare."""
    from .roles import CORE_LANDINGS

    landings = dict(CORE_LANDINGS)
    for module in app_panel_modules():
        landings.update(getattr(module, "ROLE_LANDINGS", {}))
    return landings


def landing_url(user) -> str | None:
    """Where ``user`` lands after login and on "/" (issue 14 item 5), or None for the home dashboard.

    A user with several roles lands on the page of the first of their roles in ``roles.LANDING_PRIORITY``.
    """
    from .auth_backends import role_names
    from .roles import HOME_DASHBOARD, LANDING_PRIORITY

    held = set(role_names(user))
    landings = role_landings()
    for role in LANDING_PRIORITY:
        if role not in held or role not in landings:
            continue
        target = landings[role]
        if target == HOME_DASHBOARD:
            return None
        url_name, _sep, query = target.partition("?")
        return reverse(url_name) + (f"?{query}" if query else "")
    return None


LIST_COUNT_CAP = 1_000


class PaginatedListMixin:
    """A list page: ``?page=`` paginates, ``?q=`` searches, choice filters (a status, a class) come from the query
    string and an unknown value is no filter (the list pages' shared reading of their query string, issue 13)."""

    paginate_by = 25

    def paginate(self, queryset):
        # Issue 19: the count stops at LIST_COUNT_CAP rows (an exact COUNT(*) over 100,000 costs more than the page
        # itself; nobody pages past page 40 — they search or filter); "Page 1 of 40+" says so.
        paginator = CappedCountPaginator(queryset, self.paginate_by, count_cap=LIST_COUNT_CAP)
        return paginator.get_page(self.request.GET.get("page"))

    def search_param(self, name: str = "q") -> str:
        return self.request.GET.get(name, "")

    def choice_param(self, name: str, allowed) -> str:
        """``?<name>=`` when it is one of ``allowed`` (e.g. ``Model.Status.values``), else "" (no filter)."""
        value = self.request.GET.get(name, "")
        return value if value in allowed else ""


class HomeView(LoginRequiredMixin, TemplateView):
    """Issue 14 item 5: each role lands where its day starts — a page of its app, or this dashboard of app panels."""

    template_name = "core/home.html"

    def get(self, request, *args, **kwargs):
        target = landing_url(request.user)
        if target is not None and target != request.path:
            return redirect(target)
        panels = home_panels(request) if request.dealership is not None else []
        if panels:
            return self.render_to_response(self.get_context_data(panels=panels, **kwargs))
        # No landing and no panel (a role without one): the first navigation entry it may open.
        from .context_processors import navigation

        items = navigation(request).get("nav_items", [])
        if items:
            return redirect(items[0]["url"])
        return self.render_to_response(self.get_context_data(panels=[], **kwargs))


class ReportsView(LoginRequiredMixin, TemplateView):
    """The director's landing (issue 14 item 5): the reports the apps declare (``panels.REPORTS``) that the user may
    open."""

    template_name = "core/reports.html"

    def get_context_data(self, **kwargs):
        reports = []
        for module in app_panel_modules():
            for url_name, label, perm in getattr(module, "REPORTS", []):
                if self.request.user.has_perm(perm):
                    reports.append({"url": reverse(url_name), "label": label})
        return super().get_context_data(reports=reports, **kwargs)


class SwitchDealershipView(LoginRequiredMixin, View):
    def post(self, request):
        wanted = parse_id(request.POST.get("dealership", ""))
        if wanted is not None and wanted in allowed_dealership_ids(request.user):
            request.session[SESSION_KEY] = wanted
        else:
            messages.error(request, _("Unknown dealership."))
        target = request.POST.get("next") or reverse("home")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("home")
        return HttpResponseRedirect(target)


class CustomerListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "core.view_customer"
    template_name = "core/customer_list.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        qs = selectors.customer_list(dealership_ids=[self.request.dealership.pk], search=q)
        # Issue 19: the rows show the manager, not the dealership (the page's own: a model instance per row for
        # nothing), nor the second phone and the notes
        page = self.paginate(qs.select_related(None).select_related("assigned_manager").defer("phone_alt", "notes"))
        return super().get_context_data(page_obj=page, rows_html=_customer_rows(page), q=q, **kwargs)


def _customer_rows(page) -> SafeString:
    """Issue 19: the page's rows in Python (dms.core.rendering), as the template drew them."""
    detail = url_for("core:customer_detail")
    channel = display_for(Customer, "preferred_channel")

    def row(c) -> str:
        vip = ' <span class="badge text-bg-warning">VIP</span>' if c.is_vip else ""
        manager = c.assigned_manager.get_full_name() if c.assigned_manager_id else ""
        return (
            f'<tr><td><a href="{detail(c.pk)}">{show(c.name)}</a>{vip}</td>\n'
            f"      <td>{show(format_phone(c.phone))}</td><td>{show(c.email)}</td>"
            f"<td>{show(channel(c.preferred_channel))}</td>\n"
            f"      <td>{show(manager, '—')}</td></tr>\n"
        )

    return render_rows(page, row, empty=_("No customers found."), columns=5)


class HistoryCardMixin:
    """Issue 14 item 3: the card's history sections from every app (``<app>.panels.<subject>_history``), the open
    ones first, then newest; ``?all=<kind>`` shows one section in full, a page at a time."""

    history_hook = ""
    actions_hook = ""

    def history_context(self, subject) -> dict:
        from .history import CARD_ROWS, actions_for, load_section_page, load_sections, sections_for

        user = self.request.user
        sections = sections_for(user, subject, self.history_hook)
        wanted = self.request.GET.get("all", "")
        full = next((section for section in sections if section.kind == wanted), None)
        if full is not None:
            loaded = [load_section_page(full, page_number=self.request.GET.get("page"))]
        else:
            loaded = load_sections(sections, limit=CARD_ROWS)
        tz = self.request.dealership.tz
        with timezone.override(tz):
            with_time, day_only = date_formatter("SHORT_DATETIME_FORMAT"), date_formatter("SHORT_DATE_FORMAT")
            for section in loaded:
                section.rows = [
                    (item, (with_time if isinstance(item.date, datetime.datetime) else day_only)(item.date))
                    for item in section.items
                ]
        return {
            "history": loaded,
            "history_full": full is not None,
            "history_empty": [section for section in loaded if not section.total],
            "history_rows": CARD_ROWS,
            "quick_actions": actions_for(user, subject, self.actions_hook),
        }


class CustomerDetailView(HistoryCardMixin, DealershipPageMixin, TemplateView):
    permission_required = "core.view_customer"
    template_name = "core/customer_detail.html"
    history_hook = "customer_history"
    actions_hook = "customer_actions"

    def get_context_data(self, **kwargs):
        customer = self.get_scoped_object(Customer, self.kwargs["pk"])
        customer.dealership = self.request.dealership  # the same row: the history reads its time zone
        return super().get_context_data(
            customer=customer,
            vehicles=customer.vehicles.all(),
            panels=customer_panels(self.request, customer),
            audit_entries=selectors.audit_trail(customer)[:50],
            live_links=links.live_links(customer).count(),
            **self.history_context(customer),
            **kwargs,
        )


class CustomerLinksRevokeView(ActionView):
    """Issue 17: end every live link of the customer (status page, replies) from the customer's card."""

    model = Customer
    action_name = "revoke-links"
    detail_url = "core:customer_detail"
    actions = {
        "revoke-links": PageAction(
            call=lambda user, customer, data: links.links_revoke(actor=user, customer=customer),
            permission="core.change_customerlink",
            success=lambda customer, count: _("Links revoked: %(count)s.") % {"count": count},
        )
    }


class ServiceFormView(DealershipPageMixin, FormView):
    """A form page whose save goes through a service; the service's ValidationError lands on the form."""

    template_name = "core/form.html"
    title = ""
    success_message = ""
    # A role that may read the page (``permission_required``) but not save it sees the form read-only, and a POST is
    # 403: e.g. the director reads the claims settings the role table grants him (issue 14 item 8). None: reading
    # the page is enough to save it.
    change_permission: str | None = None
    # Refusals of the service shown on top of the form besides a field's ValidationError, e.g. a step of a record's
    # workflow: (ConflictError, TransitionNotAllowed, ConcurrentTransition). A refused role stays a 403.
    form_refusals: tuple[type[Exception], ...] = ()
    # The services the page saves through, called as the API's viewsets call them (``api_base``): a new record
    # ``create_service(actor=, dealership=<the page's dealership>, **cleaned_data)``, an edit (``get_instance()`` is
    # the record) ``update_service(actor=, <update_kwarg>=record, data=cleaned_data)``. A page whose service wants its
    # input shaped differently overrides ``save``.
    create_service: Callable[..., Any] | None = None
    update_service: Callable[..., Any] | None = None
    update_kwarg = ""

    def can_save(self) -> bool:
        return self.change_permission is None or self.request.user.has_perm(self.change_permission)

    def post(self, request, *args, **kwargs):
        if not self.can_save():
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not self.can_save():
            for field in form.fields.values():
                field.disabled = True
        return form

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["dealership"] = self.request.dealership
        kwargs["instance"] = self.get_instance()
        return kwargs

    def get_instance(self):
        return None

    def save(self, form):
        record = self.get_instance()
        if record is not None and type(self).update_service is not None:
            return type(self).update_service(
                actor=self.request.user, **{self.update_kwarg: record}, data=form.cleaned_data
            )
        if type(self).create_service is None:
            raise NotImplementedError(f"{type(self).__name__} sets no create_service and overrides no save()")
        return type(self).create_service(
            actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=self.title, cancel_url=self.get_cancel_url(), read_only=not self.can_save(), **kwargs
        )

    def get_cancel_url(self):
        return reverse("home")

    def form_valid(self, form):
        try:
            obj = self.save(form)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except self.form_refusals as error:
            form.add_error(None, action_error_message(error))
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"object": obj})
        return redirect(obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else self.get_success_url(obj))


class SettingsFormView(ServiceFormView):
    """A dealership's settings page: the form saves through ``settings_service(actor=, dealership=, data=)`` and the
    page shows again with ``success_message``."""

    settings_service: Callable[..., Any] | None = None

    def save(self, form):
        save = type(self).settings_service
        return save(actor=self.request.user, dealership=self.request.dealership, data=dict(form.cleaned_data))

    def get_success_url(self, obj):
        return self.request.path


class CustomerCreateView(ServiceFormView):
    permission_required = "core.add_customer"
    form_class = CustomerForm
    create_service = services.customer_create
    update_service, update_kwarg = services.customer_update, "customer"

    title = gettext_lazy("New customer")
    success_message = gettext_lazy("Customer %(object)s created.")

    def get_cancel_url(self):
        return reverse("core:customer_list")

    def get_success_url(self, obj):
        return reverse("core:customer_detail", args=[obj.pk])


class CustomerUpdateView(CustomerCreateView):
    permission_required = "core.change_customer"

    title = gettext_lazy("Edit customer")
    success_message = gettext_lazy("Customer %(object)s saved.")

    def get_instance(self):
        # A fresh copy: the form's validation mutates its instance, the service loads its own under lock.
        return self.get_scoped_object(Customer, self.kwargs["pk"])

    def get_cancel_url(self):
        return reverse("core:customer_detail", args=[self.kwargs["pk"]])


class VehicleListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "core.view_vehicle"
    template_name = "core/vehicle_list.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        # Issue 19: the rows show the owner's name only; its phone numbers are not read (parsing two per row was
        # most of the page's time), nor the dealership (the page's own: a model instance per row for nothing).
        qs = (
            selectors.vehicle_list(dealership_ids=[self.request.dealership.pk], search=q)
            .select_related(None)
            .select_related("customer")
            .defer(*CUSTOMER_PHONES, "customer__notes")
        )
        page = self.paginate(qs)
        return super().get_context_data(page_obj=page, rows_html=_vehicle_rows(page), q=q, **kwargs)


def _vehicle_rows(page) -> SafeString:
    """Issue 19: the page's rows in Python (dms.core.rendering), as the template drew them."""
    detail, owner = url_for("core:vehicle_detail"), url_for("core:customer_detail")
    short_date = date_formatter("SHORT_DATE_FORMAT")

    def row(v) -> str:
        return (
            f'<tr><td><a href="{detail(v.pk)}"><code>{show(v.vin)}</code></a></td><td>{show(v.make)} '
            f"{show(v.model)}</td><td>{show(v.year, '—')}</td><td>{show(v.plate, '—')}</td><td>{show(v.mileage)}</td>\n"
            f'      <td><a href="{owner(v.customer_id)}">{show(v.customer.name)}</a></td>'
            f"<td>{show(short_date(v.warranty_end), '—')}</td></tr>\n"
        )

    return render_rows(page, row, empty=_("No vehicles found."), columns=7)


class VehicleDetailView(HistoryCardMixin, DealershipPageMixin, TemplateView):
    permission_required = "core.view_vehicle"
    template_name = "core/vehicle_detail.html"
    history_hook = "vehicle_history"
    actions_hook = "vehicle_actions"

    def get_context_data(self, **kwargs):
        vehicle = self.get_scoped_object(Vehicle, self.kwargs["pk"])
        vehicle.dealership = self.request.dealership  # the same row: the history reads its time zone
        today = timezone.localtime(timezone.now(), self.request.dealership.tz).date()
        return super().get_context_data(
            vehicle=vehicle,
            in_warranty=vehicle.warranty_end is not None and vehicle.warranty_end >= today,
            audit_entries=selectors.audit_trail(vehicle)[:50],
            **self.history_context(vehicle),
            **kwargs,
        )


class VehicleCreateView(ServiceFormView):
    permission_required = "core.add_vehicle"
    form_class = VehicleForm
    create_service = services.vehicle_create
    update_service, update_kwarg = services.vehicle_update, "vehicle"

    title = gettext_lazy("New vehicle")
    success_message = gettext_lazy("Vehicle %(object)s saved.")

    def get_initial(self):
        return {"customer": self.request.GET.get("customer")}

    def get_cancel_url(self):
        return reverse("core:vehicle_list")

    def get_success_url(self, obj):
        return reverse("core:vehicle_detail", args=[obj.pk])


class VehicleUpdateView(VehicleCreateView):
    permission_required = "core.change_vehicle"

    title = gettext_lazy("Edit vehicle")

    def get_initial(self):
        return {}

    def get_instance(self):
        return self.get_scoped_object(Vehicle, self.kwargs["pk"])

    def get_cancel_url(self):
        return reverse("core:vehicle_detail", args=[self.kwargs["pk"]])


# ------------------------------------------------------------------------------------------------------------------
# Issue 14 item 4: search endpoints of the pickers (dms.core.widgets.SearchSelect, static/js/pickers.js)
# ------------------------------------------------------------------------------------------------------------------

MAX_PICKER_QUERY = 100


def picker_param_id(params, name: str) -> int | None:
    """An optional id narrowing a picker (``?customer=12``); a value that is not an id is a 400, not "no filter"."""
    raw = params.get(name, "")
    if raw == "":
        return None
    value = parse_id(raw)
    if value is None:
        raise ValidationError(_("The “%(name)s” parameter takes a record id.") % {"name": name})
    return value


class PickerSearchView(DealershipPageMixin, View):
    """JSON for a picker: ``{"results": [{"id", "text", "detail"}]}`` of the ACTIVE dealership's records matching
    ``?q=``, at most ``selectors.PICKER_LIMIT`` of them. Subclasses name the permission and implement ``search``."""

    def get(self, request, *args, **kwargs):
        query = request.GET.get("q", "")
        if len(query) > MAX_PICKER_QUERY:
            return JsonResponse({"detail": _("The search text is too long.")}, status=400)
        try:
            results = self.search(dealership_id=request.dealership.pk, query=query.strip(), params=request.GET)
        except ValidationError as error:
            return JsonResponse({"detail": " ".join(error.messages)}, status=400)
        # Names in Cyrillic or Chinese as they are: a third of the bytes of \u escapes.
        return JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})

    def search(self, *, dealership_id: int, query: str, params) -> list[dict]:
        raise NotImplementedError


class CustomerPickerView(PickerSearchView):
    permission_required = "core.view_customer"

    def search(self, *, dealership_id, query, params):
        return [
            {"id": c.pk, "text": c.name, "detail": " · ".join(filter(None, [format_phone(c.phone), c.email]))}
            for c in selectors.customer_search(dealership_id=dealership_id, query=query)
        ]


class VehiclePickerView(PickerSearchView):
    permission_required = "core.view_vehicle"

    def search(self, *, dealership_id, query, params):
        customer_id = picker_param_id(params, "customer")
        return [
            {
                "id": v.pk,
                "vin": v.vin,  # the value of VIN-keyed vehicle fields (the booking form's)
                "text": f"{v.make} {v.model} {v.vin}" + (f" ({v.plate})" if v.plate else ""),
                "detail": v.customer.name,
                "customer": v.customer_id,
            }
            for v in selectors.vehicle_search(dealership_id=dealership_id, query=query, customer_id=customer_id)
        ]


class EmployeePickerView(PickerSearchView):
    """Colleagues of the active dealership (assignees, managers): any signed-in staff member may name them."""

    def has_permission(self) -> bool:
        return True

    def search(self, *, dealership_id, query, params):
        role = params.get("role", "")
        if role and role not in roles.ALL_ROLES:
            raise ValidationError(_("Unknown role."))
        return [
            {"id": u.pk, "text": u.get_full_name() or u.username, "detail": u.username}
            for u in selectors.employee_search(dealership_id=dealership_id, query=query, role=role)
        ]
