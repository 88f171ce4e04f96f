import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from . import roles, selectors, services
from .formatting import date_formatter
from .forms import CustomerForm, VehicleForm
from .inputs import parse_id
from .models import Customer, Vehicle
from .tenancy import SESSION_KEY, allowed_dealership_ids


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


def app_panel_modules() -> list:
    """Each installed app's optional ``panels`` module: how apps add to core pages without dms/core importing them.

    Hooks a ``panels`` module may define (all optional):
    - ``customer_panel(request, customer) -> html | None``: a card on the customer page;
    - ``home_panels(request) -> [html, ...]``: cards on the home dashboard (issue 14 item 5);
    - ``ROLE_LANDINGS = {role: "namespace:url_name" or "namespace:url_name?query"}``: where a role's day starts;
    - ``REPORTS = [("namespace:url_name", label, "app.permission")]``: links on the reports page.
    """
    from importlib import import_module

    from django.apps import apps

    modules = []
    for app_config in apps.get_app_configs():
        try:
            modules.append(import_module(f"{app_config.name}.panels"))
        except ModuleNotFoundError:
            continue
    return modules


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


def home_panels(request) -> list[str]:
    """Cards the apps add to the home dashboard (each checks its own permission): ``home_panels(request)``."""
    from django.utils.safestring import mark_safe

    panels = []
    for module in app_panel_modules():
        hook = getattr(module, "home_panels", None)
        for html in (hook(request) if hook else None) or []:
            panels.append(mark_safe(html))  # noqa: S308 - rendered by the app's own template
    return panels


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


class PaginatedListMixin:
    paginate_by = 25

    def paginate(self, queryset):
        paginator = Paginator(queryset, self.paginate_by)
        return paginator.get_page(self.request.GET.get("page"))


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
        q = self.request.GET.get("q", "")
        qs = selectors.customer_list(dealership_ids=[self.request.dealership.pk], search=q)
        return super().get_context_data(page_obj=self.paginate(qs), q=q, **kwargs)


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
            **self.history_context(customer),
            **kwargs,
        )


class ServiceFormView(DealershipPageMixin, FormView):
    """A form page whose save goes through a service; the service's ValidationError lands on the form."""

    template_name = "core/form.html"
    title = ""
    success_message = ""
    # A role that may read the page (``permission_required``) but not save it sees the form read-only, and a POST is
    # 403: e.g. the director reads the claims settings the role table grants him (issue 14 item 8). None: reading
    # the page is enough to save it.
    change_permission: str | None = None

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
        messages.success(self.request, self.success_message % {"object": obj})
        return redirect(obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else self.get_success_url(obj))


class CustomerCreateView(ServiceFormView):
    permission_required = "core.add_customer"
    form_class = CustomerForm

    @property
    def title(self):
        return _("New customer")

    @property
    def success_message(self):
        return _("Customer %(object)s created.")

    def get_cancel_url(self):
        return reverse("core:customer_list")

    def save(self, form):
        return services.customer_create(
            actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
        )

    def get_success_url(self, obj):
        return reverse("core:customer_detail", args=[obj.pk])


class CustomerUpdateView(CustomerCreateView):
    permission_required = "core.change_customer"

    @property
    def title(self):
        return _("Edit customer")

    @property
    def success_message(self):
        return _("Customer %(object)s saved.")

    def get_instance(self):
        # A fresh copy: the form's validation mutates its instance, the service loads its own under lock.
        return self.get_scoped_object(Customer, self.kwargs["pk"])

    def get_cancel_url(self):
        return reverse("core:customer_detail", args=[self.kwargs["pk"]])

    def save(self, form):
        customer = self.get_scoped_object(Customer, self.kwargs["pk"])
        return services.customer_update(actor=self.request.user, customer=customer, data=form.cleaned_data)


class VehicleListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "core.view_vehicle"
    template_name = "core/vehicle_list.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")
        qs = selectors.vehicle_list(dealership_ids=[self.request.dealership.pk], search=q)
        return super().get_context_data(page_obj=self.paginate(qs), q=q, **kwargs)


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

    @property
    def title(self):
        return _("New vehicle")

    @property
    def success_message(self):
        return _("Vehicle %(object)s saved.")

    def get_initial(self):
        return {"customer": self.request.GET.get("customer")}

    def get_cancel_url(self):
        return reverse("core:vehicle_list")

    def save(self, form):
        return services.vehicle_create(actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data)

    def get_success_url(self, obj):
        return reverse("core:vehicle_detail", args=[obj.pk])


class VehicleUpdateView(VehicleCreateView):
    permission_required = "core.change_vehicle"

    @property
    def title(self):
        return _("Edit vehicle")

    def get_initial(self):
        return {}

    def get_instance(self):
        return self.get_scoped_object(Vehicle, self.kwargs["pk"])

    def get_cancel_url(self):
        return reverse("core:vehicle_detail", args=[self.kwargs["pk"]])

    def save(self, form):
        vehicle = self.get_scoped_object(Vehicle, self.kwargs["pk"])
        return services.vehicle_update(actor=self.request.user, vehicle=vehicle, data=form.cleaned_data)


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


def picker_phone(phone) -> str:
    return phone.as_international if phone else ""


class CustomerPickerView(PickerSearchView):
    permission_required = "core.view_customer"

    def search(self, *, dealership_id, query, params):
        return [
            {"id": c.pk, "text": c.name, "detail": " · ".join(filter(None, [picker_phone(c.phone), c.email]))}
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
