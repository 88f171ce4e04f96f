"""Pages of the parts warehouse. Every write goes through parts.services, like the API and the admin."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from django.views.generic.base import TemplateResponseMixin
from django_fsm import TransitionNotAllowed

from dms.core.db_router import reads_from_replica
from dms.core.downloads import pdf_response
from dms.core.exceptions import ConflictError
from dms.core.formatting import date_formatter, format_money
from dms.core.inputs import parse_id
from dms.core.references import reference_target
from dms.core.rendering import display_for, once_per_value, render_rows, show, url_for
from dms.core.selectors import audit_trail
from dms.core.transitions import offered_transitions
from dms.core.views import (
    ActionView,
    DealershipPageMixin,
    PageAction,
    PaginatedListMixin,
    PickerSearchView,
    RecordDetailView,
    ServiceFormView,
    action_error_message,
    picker_param_id,
)

from . import pdf, selectors, services, tasks
from .forms import (
    BalanceForm,
    CountStartForm,
    DecisionForm,
    EvidenceForm,
    InspectionForm,
    IssueForm,
    LocationForm,
    OldPartForm,
    PaymentForm,
    QuoteForm,
    ReasonForm,
    ReceiveForm,
    RequisitionForm,
    ReturnRequestForm,
    SalesLineForm,
    SalesOrderForm,
    ShipForm,
    StockFilterForm,
    TransferForm,
    WarehouseForm,
)
from .models import (
    AbcClass,
    Location,
    MovementKind,
    Part,
    Requisition,
    ReturnRequest,
    SalesOrder,
    StockBalance,
    StockCount,
    Warehouse,
)


class PartListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """The parts catalogue with stock across warehouses; search by number or name, filter by ABC class (R28)."""

    permission_required = "parts.view_part"
    template_name = "parts/part_list.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        abc = self.request.GET.get("abc", "")
        abc = abc if abc in AbcClass.values else ""
        qs = selectors.part_list(dealership_ids=[self.request.dealership.pk], search=q, abc_class=abc, with_stock=True)
        page = self.paginate(qs)
        return super().get_context_data(
            page_obj=page, rows_html=_part_rows(page), q=q, abc=abc, abc_choices=AbcClass.choices, **kwargs
        )


_ABC_BADGES = {"A": "danger", "B": "warning"}


def _part_rows(page) -> SafeString:
    """Issue 19: the catalogue's rows in Python (dms.core.rendering), as the template drew them."""
    detail = url_for("parts:part_detail")
    unit = display_for(Part, "unit")
    quantity = once_per_value(lambda value: show(floatformat(value, "-3")))

    def row(p) -> str:
        abc = (
            f'<span class="badge text-bg-{_ABC_BADGES.get(p.abc_class, "secondary")}">{show(p.abc_class)}</span>'
            if p.abc_class
            else "—"
        )
        supplier = p.default_supplier.name if p.default_supplier_id else ""
        return (
            f'<tr><td><a href="{detail(p.pk)}"><code>{show(p.number)}</code></a></td><td>{show(p.name)}</td>\n'
            f"      <td>{abc}</td>\n"
            f'      <td class="text-end">{show(format_money(p.price))}</td>'
            f'<td class="text-end">{quantity(p.on_hand_total)}</td>'
            f'<td class="text-end">{quantity(p.reserved_total)}</td>\n'
            f'      <td class="text-end fw-semibold">{quantity(p.available_total)} '
            f"{show(unit(p.unit))}</td><td>{show(supplier, '—')}</td></tr>\n"
        )

    return render_rows(page, row, empty=_("No parts found."), columns=8)


class PartDetailView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_part"
    template_name = "parts/part_detail.html"

    def get_context_data(self, **kwargs):
        part = self.get_scoped_object(Part, self.kwargs["pk"])
        ids = [self.request.dealership.pk]
        balances = list(selectors.stock_list(dealership_ids=ids).filter(part=part))
        # Issue 15 item 5: what the part costs from each supplier today — for those who may see purchase prices.
        supplier_prices = (
            selectors.current_supplier_prices(
                part=part, on=timezone.localtime(timezone.now(), self.request.dealership.tz).date()
            )
            if self.request.user.has_perm("parts.view_supplierprice")
            else []
        )
        return super().get_context_data(
            part=part,
            balances=balances,
            supplier_prices=supplier_prices,
            movements=selectors.movement_list(dealership_ids=ids, part_id=part.pk)[:20],
            reservations=selectors.reservation_list(dealership_ids=ids, status="active").filter(part=part),
            alerts=selectors.alert_list(dealership_ids=ids, status="").filter(part=part)[:10],
            audit_entries=audit_trail(part)[:30],
            **kwargs,
        )


class StockListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """Stock per part and warehouse: on hand, reserved, available, bin, alert level. A constant number of queries."""

    permission_required = "parts.view_stockbalance"
    template_name = "parts/stock_list.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        form = StockFilterForm(self.request.GET or None, dealership=self.request.dealership)
        data = form.cleaned_data if form.is_valid() else {}
        qs = selectors.stock_list(
            dealership_ids=[self.request.dealership.pk],
            warehouse_id=data.get("warehouse").pk if data.get("warehouse") else None,
            search=data.get("q", ""),
            abc_class=data.get("abc", ""),
            below_alert=bool(data.get("below")),
        )
        page = self.paginate(qs)
        return super().get_context_data(page_obj=page, rows_html=_stock_rows(page), filter_form=form, **kwargs)


def _stock_rows(page) -> SafeString:
    """Issue 19: the stock list's rows in Python (dms.core.rendering), as the template drew them; a row whose free
    stock is below its alert level (R27) is highlighted."""
    detail = url_for("parts:part_detail")
    quantity = once_per_value(lambda value: show(floatformat(value, "-3")))

    def row(b) -> str:
        # both are computed by stock_list and never null (on hand − reserved; the alert level falls back to the class's)
        highlight = ' class="table-warning"' if b.available_qty < b.effective_alert_level else ""
        location = b.location.code if b.location_id else ""
        return (
            f'<tr{highlight}><td><a href="{detail(b.part_id)}">'
            f"<code>{show(b.part.number)}</code></a></td><td>{show(b.part.name)}</td>"
            f"<td>{show(b.part.abc_class, '—')}</td>\n"
            f"      <td>{show(b.warehouse.code)}</td><td>{show(location, '—')}</td>"
            f'<td class="text-end">{quantity(b.on_hand)}</td><td class="text-end">{quantity(b.reserved)}</td>\n'
            f'      <td class="text-end fw-semibold">{quantity(b.available_qty)}</td>'
            f'<td class="text-end">{quantity(b.effective_alert_level)}</td>'
            f'<td class="text-end">{show(format_money(b.value))}</td></tr>\n'
        )

    return render_rows(page, row, empty=_("No stock found."), columns=10)


class MovementListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """The stock ledger: every movement with who, when and why."""

    permission_required = "parts.view_stockmovement"
    template_name = "parts/movement_list.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        get = self.request.GET
        kind = get.get("kind", "")
        qs = selectors.movement_list(
            dealership_ids=[self.request.dealership.pk],
            kind=kind if kind in MovementKind.values else "",
            search=get.get("q", ""),
            work_order_ref=get.get("work_order", "").strip(),
        )
        return super().get_context_data(
            page_obj=self.paginate(qs), q=get.get("q", ""), kind=kind, kinds=MovementKind.choices, **kwargs
        )


class PartsDashboardView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """The parts dashboard: open low-stock alerts (R27) with the live on-hand figure and a suggested reorder."""

    permission_required = "parts.view_lowstockalert"
    template_name = "parts/dashboard.html"

    def get_context_data(self, **kwargs):
        ids = [self.request.dealership.pk]
        status = self.request.GET.get("status", "open")
        page = self.paginate(selectors.alert_list(dealership_ids=ids, status="" if status == "all" else status))
        return super().get_context_data(
            page_obj=page, rows=selectors.alerts_with_balances(page), status=status, **kwargs
        )


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class StockValueReportView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_stock_value_report"
    template_name = "parts/stock_value.html"

    def get_context_data(self, **kwargs):
        report = selectors.stock_value_report(dealership_ids=[self.request.dealership.pk])
        return super().get_context_data(report=report, **kwargs)


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class JobCostReportView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """R32: parts cost per job (work order), from the issues and returns in the ledger."""

    permission_required = "parts.view_job_cost_report"
    template_name = "parts/job_cost.html"

    def get_context_data(self, **kwargs):
        q = self.search_param()
        qs = selectors.job_cost_report(dealership_ids=[self.request.dealership.pk], search=q)
        page_obj = self.paginate(qs)
        # Issue 15 item 2: rows are per job; its name comes from the service app's jobs (a provided target).
        jobs = reference_target("service.WorkOrderJob")
        job_ids = [row["job_id"] for row in page_obj if row["job_id"]]
        names = {pk: str(job) for pk, job in jobs.in_bulk(job_ids).items()} if jobs is not None and job_ids else {}
        for row in page_obj:
            row["job"] = names.get(row["job_id"], "")
        return super().get_context_data(page_obj=page_obj, q=q, **kwargs)


class _PlainFormView(ServiceFormView):
    """A page whose form is a plain form (no model instance): the service builds the record from its data."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        return kwargs


class _StockFormView(_PlainFormView):
    """A stock movement page: ``service`` records it in the acting dealership, then the part's page."""

    permission_required = "parts.add_stockmovement"
    form_refusals = (ConflictError,)  # e.g. not enough stock: shown on top of the form
    service = None

    def save(self, form):
        self.service(actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data)
        return form.cleaned_data["part"]  # the part's page follows

    def get_initial(self):
        return {"part": self.request.GET.get("part", "")}

    def get_cancel_url(self):
        return reverse("parts:stock_list")


class ReceiveView(_StockFormView):
    form_class = ReceiveForm
    title = gettext_lazy("Receive parts from the supplier")
    template_name = "parts/scan_form.html"  # issue 15 item 7: with the scanner field
    success_message = gettext_lazy("Receipt recorded.")
    service = staticmethod(services.stock_receive)


class IssueView(_StockFormView):
    form_class = IssueForm
    title = gettext_lazy("Issue parts")
    template_name = "parts/scan_form.html"  # issue 15 item 7: with the scanner field
    success_message = gettext_lazy("Issue recorded.")
    service = staticmethod(services.stock_issue)


class TransferView(_StockFormView):
    form_class = TransferForm
    title = gettext_lazy("Transfer between warehouses")
    success_message = gettext_lazy("Transfer recorded.")
    service = staticmethod(services.stock_transfer)


class BalanceUpdateView(ServiceFormView):
    permission_required = "parts.change_stockbalance"
    form_class = BalanceForm
    title = gettext_lazy("Bin and alert level")

    def get_instance(self):
        return self.get_scoped_object(StockBalance, self.kwargs["pk"])

    def get_cancel_url(self):
        return reverse("parts:part_detail", args=[self.get_instance().part_id])

    success_message = gettext_lazy("Saved.")

    def save(self, form):
        balance = self.get_instance()
        services.balance_update(actor=self.request.user, balance=balance, data=form.cleaned_data)
        return balance.part


# ---------------------------------------------------------------------------------------------------------------------
# Issue 15 item 9: warehouses and bins, through the same services as the API and the admin


class WarehouseListView(DealershipPageMixin, TemplateView):
    """The dealership's warehouses, each with its bins: parts held and stock value per bin."""

    permission_required = "parts.view_warehouse"
    template_name = "parts/warehouse_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            overview=selectors.warehouse_overview(dealership_ids=[self.request.dealership.pk]), **kwargs
        )


class WarehouseCreateView(ServiceFormView):
    permission_required = "parts.add_warehouse"
    form_class = WarehouseForm
    create_service = services.warehouse_create
    update_service, update_kwarg = services.warehouse_update, "warehouse"
    title = gettext_lazy("New warehouse")
    success_message = gettext_lazy("Warehouse %(object)s saved.")

    def get_cancel_url(self):
        return reverse("parts:warehouse_list")

    def get_success_url(self, obj):
        return f"{reverse('parts:warehouse_list')}#warehouse-{obj.pk}"


class WarehouseUpdateView(WarehouseCreateView):
    permission_required = "parts.change_warehouse"
    title = gettext_lazy("Edit warehouse")

    def get_instance(self):
        # A fresh copy each time: the form's validation mutates its instance, the service loads its own under lock.
        return self.get_scoped_object(Warehouse, self.kwargs["pk"])


class LocationCreateView(ServiceFormView):
    permission_required = "parts.add_location"
    form_class = LocationForm
    success_message = gettext_lazy("Bin %(object)s saved.")

    def get_warehouse(self) -> Warehouse:
        return self.get_scoped_object(Warehouse, self.kwargs["warehouse_pk"])

    @property
    def title(self) -> str:
        return _("New bin in warehouse %(warehouse)s") % {"warehouse": self.get_warehouse()}

    def get_cancel_url(self):
        return reverse("parts:warehouse_list")

    def get_success_url(self, obj):
        return f"{reverse('parts:warehouse_list')}#warehouse-{obj.warehouse_id}"

    def save(self, form):
        return services.location_create(
            actor=self.request.user,
            dealership=self.request.dealership,
            warehouse=self.get_warehouse(),
            **form.cleaned_data,
        )


class LocationUpdateView(LocationCreateView):
    permission_required = "parts.change_location"

    @property
    def title(self) -> str:
        return _("Edit bin %(bin)s") % {"bin": self.get_instance()}

    def get_instance(self):
        return self.get_scoped_object(Location, self.kwargs["pk"])

    def save(self, form):
        return services.location_update(actor=self.request.user, location=self.get_instance(), data=form.cleaned_data)


class LocationDeactivateView(DealershipPageMixin, View):
    """The warehouse page's "close bin" button: refused with the reason while the bin still holds stock."""

    permission_required = "parts.change_location"

    def post(self, request, pk):
        location = self.get_scoped_object(Location, pk)
        try:
            services.location_update(actor=request.user, location=location, data={"is_active": False})
        except ValidationError as error:
            messages.error(request, action_error_message(error))
        else:
            messages.success(request, _("Bin %(bin)s closed.") % {"bin": location})
        return redirect(f"{reverse('parts:warehouse_list')}#warehouse-{location.warehouse_id}")


class AbcRunView(DealershipPageMixin, View):
    """R28 on demand: reclassify now (the same task the monthly beat job runs)."""

    permission_required = "parts.run_abc_classification"

    def post(self, request):
        tasks.classify_abc.delay(request.dealership.pk, request.user.pk)
        messages.success(request, _("ABC classification started; classes are updated in a moment."))
        return redirect("parts:part_list")

    def get(self, request):
        raise PermissionDenied


class _DocumentListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """A list of one kind of document of the dealership: a search and a status filter (one of the model's)."""

    model = None
    list_selector = None  # selectors.<document>_list(dealership_ids=…, status=…, search=…)
    rows_renderer = None  # issue 19: the page's rows drawn in Python (``rows_html``), when the list has its renderer

    def get_context_data(self, **kwargs):
        q = self.search_param()
        status = self.choice_param("status", self.model.Status.values)
        qs = self.list_selector(dealership_ids=[self.request.dealership.pk], status=status, search=q)
        page = self.paginate(qs)
        if self.rows_renderer is not None:
            kwargs["rows_html"] = self.rows_renderer(page)
        return super().get_context_data(page_obj=page, q=q, status=status, statuses=self.model.Status.choices, **kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# R26: stock counts


class CountListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "parts.view_stockcount"
    template_name = "parts/count_list.html"

    def get_context_data(self, **kwargs):
        ids = [self.request.dealership.pk]
        status = self.choice_param("status", StockCount.Status.values)
        return super().get_context_data(
            page_obj=self.paginate(selectors.count_list(dealership_ids=ids, status=status)),
            plan=selectors.count_plan_summary(dealership_ids=ids),
            status=status,
            statuses=StockCount.Status.choices,
            **kwargs,
        )


class CountStartView(ServiceFormView):
    permission_required = "parts.add_stockcount"
    form_class = CountStartForm
    title = gettext_lazy("Start a stock count")
    success_message = gettext_lazy("%(object)s started.")

    def get_initial(self):
        return {"scope": self.request.GET.get("scope", StockCount.Scope.LOCATION)}

    def get_cancel_url(self):
        return reverse("parts:count_list")

    def save(self, form):
        return services.stock_count_start(
            actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
        )


class CountDetailView(RecordDetailView):
    model = StockCount
    context_object_name = "count"
    template_name = "parts/count_detail.html"

    def record_context(self, count):
        lines = list(count.lines.select_related("part", "location", "counted_by"))
        return {
            "lines": lines,
            "counted": sum(1 for line in lines if line.counted_quantity is not None),
            "committee": count.committee.all(),
            "report": selectors.variance_report(count) if count.status != StockCount.Status.IN_PROGRESS else None,
        }


class CountEnterView(DealershipPageMixin, TemplateView):
    """The tablet page: one row per line, big inputs for the counted quantity and the reason of a difference."""

    permission_required = "parts.change_stockcount"
    template_name = "parts/count_enter.html"

    def get_context_data(self, **kwargs):
        count = self.get_scoped_object(StockCount, self.kwargs["pk"])
        return super().get_context_data(count=count, lines=count.lines.select_related("part", "location"), **kwargs)

    def post(self, request, pk):
        count = self.get_scoped_object(StockCount, pk)
        entries = [
            {
                "line": line.pk,
                "counted": request.POST.get(f"counted_{line.pk}", "").replace(",", ".").strip(),
                "reason": request.POST.get(f"reason_{line.pk}", ""),
            }
            for line in count.lines.all()
        ]
        errors = []
        for entry in entries:
            try:
                if entry["counted"] and not Decimal(entry["counted"]).is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(_("“%(value)s” is not a valid quantity.") % {"value": entry["counted"]})
        try:
            if errors:
                raise ValidationError(errors)
            services.stock_count_record(actor=request.user, count=count, entries=entries)
            if "submit" in request.POST:
                services.stock_count_submit(actor=request.user, count=count)
                messages.success(request, _("Count closed; the variance report awaits approval."))
                return redirect("parts:count_detail", pk=count.pk)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return self.render_to_response(self.get_context_data(posted=request.POST))
        except TransitionNotAllowed:
            messages.error(request, _("This action is not allowed in the record's current status."))
            return redirect("parts:count_detail", pk=count.pk)
        messages.success(request, _("Counted quantities saved."))
        return redirect("parts:count_enter", pk=count.pk)


class CountActionView(ActionView):
    """POST-only buttons of the count page: approve, reopen, cancel."""

    model = StockCount
    detail_url = "parts:count_detail"
    actions = {
        "approve": PageAction(
            lambda u, o, d: services.stock_count_approve(actor=u, count=o),
            permission="parts.approve_stockcount",
            success=gettext_lazy("Adjustments approved."),
        ),
        "reopen": PageAction(
            lambda u, o, d: services.stock_count_reopen(actor=u, count=o),
            permission="parts.approve_stockcount",
            success=gettext_lazy("Count sent back."),
        ),
        "cancel": PageAction(
            lambda u, o, d: services.stock_count_cancel(actor=u, count=o),
            permission="parts.change_stockcount",
            success=gettext_lazy("Count cancelled."),
        ),
    }


class CountSheetPdfView(DealershipPageMixin, View):
    permission_required = "parts.view_stockcount"

    def get(self, request, pk):
        count = self.get_scoped_object(StockCount, pk)
        return pdf_response(pdf.count_sheet_pdf(count), _("count-sheet-%(id)s.pdf") % {"id": count.pk})


# ---------------------------------------------------------------------------------------------------------------------
# R20, R21: sales orders


class SalesListView(_DocumentListView):
    permission_required = "parts.view_salesorder"
    template_name = "parts/sales_list.html"
    model = SalesOrder
    list_selector = staticmethod(selectors.sales_order_list)
    rows_renderer = staticmethod(lambda page: _sales_rows(page))


_SALES_BADGES = {"shipped": "success", "cancelled": "secondary", "paid": "info"}


def _sales_rows(page) -> SafeString:
    """Issue 19: the sales orders' rows in Python (dms.core.rendering), as the template drew them."""
    detail = url_for("parts:sales_detail")
    short_date = date_formatter("SHORT_DATE_FORMAT")
    payment, status = display_for(SalesOrder, "payment_method"), display_for(SalesOrder, "status")

    def row(o) -> str:
        manager = (o.manager.get_full_name() or o.manager.username) if o.manager_id else ""
        return (
            f'<tr><td><a href="{detail(o.pk)}">{show(o.number)}</a></td><td>{show(short_date(o.created_at))}</td>'
            f"<td>{show(o.customer.name)}</td><td>{show(manager)}</td><td>{show(payment(o.payment_method))}</td>"
            f'<td class="text-end">{show(format_money(o.total_value))}</td>\n'
            f'    <td><span class="badge text-bg-{_SALES_BADGES.get(o.status, "primary")}">'
            f"{show(status(o.status))}</span></td></tr>\n"
        )

    return render_rows(page, row, empty=_("No orders found."), columns=7)


class SalesCreateView(ServiceFormView):
    permission_required = "parts.add_salesorder"
    form_class = SalesOrderForm
    create_service = services.sales_order_create
    title = gettext_lazy("New sales order")
    success_message = gettext_lazy("Order %(object)s created.")

    def get_cancel_url(self):
        return reverse("parts:sales_list")


class SalesDetailView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_salesorder"
    template_name = "parts/sales_detail.html"

    def get_context_data(self, **kwargs):
        order = kwargs.pop("order", None) or self.get_scoped_object(SalesOrder, self.kwargs["pk"])
        forms_ = {
            "line_form": SalesLineForm(dealership=self.request.dealership),
            "quote_form": QuoteForm(),
            "payment_form": PaymentForm(initial={"amount": order.total}),
            "ship_form": ShipForm(),
            "cancel_form": ReasonForm(),
        }
        forms_.update(kwargs.pop("forms", {}))
        return super().get_context_data(
            order=order,
            offered=offered_transitions(order, self.request.user),
            lines=order.lines.select_related("part", "reservation"),
            audit_entries=audit_trail(order)[:30],
            **forms_,
            **kwargs,
        )


class SalesActionView(TemplateResponseMixin, ActionView):
    """POST buttons of the sales order page; a refused action shows its message on the page, a refused form is
    shown again on the page with its errors (400)."""

    template_name = "parts/sales_detail.html"
    model = SalesOrder
    detail_url = "parts:sales_detail"
    actions = {
        "add_line": PageAction(
            lambda u, o, d: services.sales_order_add_line(actor=u, order=o, **d),
            permission="parts.change_salesorder",
            form=SalesLineForm,
        ),
        "confirm_need": PageAction(
            lambda u, o, d: services.sales_order_confirm_need(actor=u, order=o),
            permission="parts.change_salesorder",
        ),
        "quote": PageAction(
            lambda u, o, d: services.sales_order_quote(actor=u, order=o, delivery_days=d.get("delivery_days")),
            permission="parts.change_salesorder",
            form=QuoteForm,
        ),
        "place": PageAction(
            lambda u, o, d: services.sales_order_place(actor=u, order=o), permission="parts.change_salesorder"
        ),
        "invoice": PageAction(
            lambda u, o, d: services.sales_order_invoice(actor=u, order=o), permission="parts.change_salesorder"
        ),
        "record_payment": PageAction(
            lambda u, o, d: services.sales_order_record_payment(actor=u, order=o, **d),
            permission="parts.record_payment_salesorder",
            form=PaymentForm,
        ),
        "ship": PageAction(
            lambda u, o, d: services.sales_order_ship(actor=u, order=o, **d),
            permission="parts.ship_salesorder",
            form=ShipForm,
        ),
        "cancel": PageAction(
            lambda u, o, d: services.sales_order_cancel(actor=u, order=o, **d),
            permission="parts.change_salesorder",
            form=ReasonForm,
        ),
    }

    # The name each action's form has in the page's context (SalesDetailView).
    FORM_NAMES = {
        "add_line": "line_form",
        "quote": "quote_form",
        "record_payment": "payment_form",
        "ship": "ship_form",
        "cancel": "cancel_form",
    }

    def form_invalid(self, form, obj):
        return self._again(obj, form)

    def action_failed(self, error, obj):
        action = self.get_action()
        if isinstance(error, ValidationError) and action.form is not None:
            # The service refused the form's values: the form again, with the service's errors on its fields.
            form = action.form(self.request.POST, self.request.FILES, **self.get_form_kwargs(action.form, obj))
            form.is_valid()
            form.add_service_errors(error)
            return self._again(obj, form)
        return super().action_failed(error, obj)

    def _again(self, order, form):
        form_name = self.FORM_NAMES[self.get_action_name()]
        view = SalesDetailView(request=self.request, kwargs={"pk": order.pk})
        context = view.get_context_data(order=order, forms={form_name: form}, failed=form_name)
        return self.render_to_response(context, status=400)


class SalesInvoicePdfView(DealershipPageMixin, View):
    permission_required = "parts.view_salesorder"

    def get(self, request, pk):
        order = self.get_scoped_object(SalesOrder, pk)
        if not order.invoice_number:
            raise Http404
        return pdf_response(pdf.invoice_pdf(order), f"{order.invoice_number}.pdf")


# ---------------------------------------------------------------------------------------------------------------------
# R29 returns and R32 requisitions: lists, forms and the action buttons of their pages


class ReturnListView(_DocumentListView):
    permission_required = "parts.view_returnrequest"
    template_name = "parts/return_list.html"
    model = ReturnRequest
    list_selector = staticmethod(selectors.return_list)


class ReturnCreateView(_PlainFormView):
    permission_required = "parts.add_returnrequest"
    form_class = ReturnRequestForm
    title = gettext_lazy("New return or exchange request")
    success_message = gettext_lazy("%(object)s registered.")

    def get_cancel_url(self):
        return reverse("parts:return_list")

    def save(self, form):
        data = dict(form.cleaned_data)
        evidence = data.pop("evidence", None)
        return services.return_request_create(
            actor=self.request.user,
            dealership=self.request.dealership,
            evidence=[evidence] if evidence else [],
            **data,
        )


class ReturnDetailView(RecordDetailView):
    model = ReturnRequest
    template_name = "parts/return_detail.html"

    def record_context(self, request):
        return {
            "evidence": request.evidence.all(),
            "decision_form": DecisionForm(),
            "refuse_form": ReasonForm(),
            "inspection_form": InspectionForm(),
            "evidence_form": EvidenceForm(),
        }


class ReturnActionView(ActionView):
    model = ReturnRequest
    detail_url = "parts:return_detail"
    actions = {
        "evidence": PageAction(
            lambda u, o, d: services.return_add_evidence(actor=u, request=o, **d),
            permission="parts.change_returnrequest",
            form=EvidenceForm,
        ),
        "send_to_inspection": PageAction(
            lambda u, o, d: services.return_send_to_inspection(actor=u, request=o),
            permission="parts.change_returnrequest",
        ),
        "inspection": PageAction(
            lambda u, o, d: services.return_record_inspection(actor=u, request=o, **d),
            permission="parts.inspect_returnrequest",
            form=InspectionForm,
        ),
        "approve": PageAction(
            lambda u, o, d: services.return_approve(
                actor=u,
                request=o,
                reason=d["reason"],
                customer_at_fault=d["customer_at_fault"],
                freight_cost=d["freight_cost"] or 0,
            ),
            permission="parts.decide_returnrequest",
            form=DecisionForm,
        ),
        "refuse": PageAction(
            lambda u, o, d: services.return_refuse(actor=u, request=o, **d),
            permission="parts.decide_returnrequest",
            form=ReasonForm,
        ),
        "complete": PageAction(
            lambda u, o, d: services.return_complete(actor=u, request=o),
            permission="parts.complete_returnrequest",
        ),
    }


class RequisitionListView(_DocumentListView):
    permission_required = "parts.view_requisition"
    template_name = "parts/requisition_list.html"
    model = Requisition
    list_selector = staticmethod(selectors.requisition_list)


class RequisitionCreateView(_PlainFormView):
    permission_required = "parts.add_requisition"
    form_class = RequisitionForm
    title = gettext_lazy("New parts requisition")
    success_message = gettext_lazy("%(object)s submitted for approval.")

    def get_initial(self):
        # A link from a work order may preselect it (and a job): ?work_order=<id>&job=<id>.
        get = self.request.GET
        return {
            "work_order_id": parse_id(get.get("work_order", "")),
            "job_id": parse_id(get.get("job", "")),
        }

    def get_cancel_url(self):
        return reverse("parts:requisition_list")

    def save(self, form):
        data = dict(form.cleaned_data)
        line = {"part": data.pop("part"), "quantity": data.pop("quantity")}
        return services.requisition_create(
            actor=self.request.user, dealership=self.request.dealership, lines=[line], **data
        )


class RequisitionDetailView(RecordDetailView):
    model = Requisition
    template_name = "parts/requisition_detail.html"

    def record_context(self, obj):
        return {
            "lines": obj.lines.select_related("part", "movement"),
            "old_parts": obj.old_parts.select_related("part", "registered_by"),
            "parts_cost": selectors.requisition_parts_cost(obj),
            "reject_form": ReasonForm(),
            "old_part_form": OldPartForm(dealership=self.request.dealership),
        }


class RequisitionActionView(ActionView):
    model = Requisition
    detail_url = "parts:requisition_detail"
    actions = {
        "approve": PageAction(
            lambda u, o, d: services.requisition_approve(actor=u, requisition=o),
            permission="parts.approve_requisition",
        ),
        "reject": PageAction(
            lambda u, o, d: services.requisition_reject(actor=u, requisition=o, **d),
            permission="parts.approve_requisition",
            form=ReasonForm,
        ),
        "issue": PageAction(
            lambda u, o, d: services.requisition_issue(actor=u, requisition=o),
            permission="parts.issue_requisition",
        ),
        "old_part": PageAction(
            lambda u, o, d: services.old_part_register(actor=u, dealership=o.dealership, requisition=o, **d),
            permission="parts.add_oldpartreturn",
            form=OldPartForm,
        ),
    }


# -- issue 15 item 7: scanning ----------------------------------------------------------------------------------------
class PartLookupView(DealershipPageMixin, View):
    """``GET /parts/lookup/?code=``: the part a scanned barcode or part number names, as JSON for static/js/scan.js
    (receiving, issuing and counting pages); in the user's active dealership only."""

    permission_required = "parts.view_part"

    def get(self, request):
        code = request.GET.get("code", "")
        if not "".join(code.split()):
            return JsonResponse({"detail": _("Scan or type a part number or barcode.")}, status=400)
        part = selectors.part_by_code(dealership_id=request.dealership.pk, code=code[:100])
        if part is None:
            return JsonResponse({"detail": _("Unknown code: %(code)s") % {"code": code[:100]}}, status=404)
        return JsonResponse(
            {"id": part.pk, "number": part.number, "barcode": part.barcode, "name": part.name, "unit": part.unit}
        )


class ShippedSalesOrderPickerView(PickerSearchView):
    """The return request form's order picker: the dealership's shipped sales orders by number, customer name or
    invoice number; the chosen customer's only (``?customer=``)."""

    permission_required = "parts.view_salesorder"

    def search(self, *, dealership_id, query, params):
        customer_id = picker_param_id(params, "customer")
        return [
            {"id": order.pk, "text": str(order), "detail": order.customer.name, "customer": order.customer_id}
            for order in selectors.shipped_sales_order_search(
                dealership_id=dealership_id, query=query, customer_id=customer_id
            )
        ]


class PartPickerView(PickerSearchView):
    """The part picker (issue 14 item 4): number, name and the stock on hand."""

    permission_required = "parts.view_part"

    def search(self, *, dealership_id, query, params):
        return [
            {
                "id": part.pk,
                "number": part.number,  # the value of the number-keyed part fields (parts.forms.PartNumberField)
                "text": f"{part.number} · {part.name}",
                "detail": _("On hand: %(quantity)s %(unit)s")
                % {"quantity": floatformat(part.on_hand, -2), "unit": part.get_unit_display()},
            }
            for part in selectors.part_search(dealership_id=dealership_id, query=query)
        ]
