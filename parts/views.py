"""Pages of the parts warehouse. Every write goes through parts.services, like the API and the admin."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from django_fsm import TransitionNotAllowed

from dms.core.downloads import pdf_response
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.references import reference_target
from dms.core.selectors import audit_trail
from dms.core.views import DealershipPageMixin, PaginatedListMixin, PickerSearchView, ServiceFormView

from . import pdf, selectors, services, tasks
from .forms import (
    BalanceForm,
    CountStartForm,
    DealershipForm,
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
        q = self.request.GET.get("q", "")
        abc = self.request.GET.get("abc", "")
        abc = abc if abc in AbcClass.values else ""
        qs = selectors.part_list(dealership_ids=[self.request.dealership.pk], search=q, abc_class=abc, with_stock=True)
        return super().get_context_data(
            page_obj=self.paginate(qs), q=q, abc=abc, abc_choices=AbcClass.choices, **kwargs
        )


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
        return super().get_context_data(page_obj=self.paginate(qs), filter_form=form, **kwargs)


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


class StockValueReportView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_stock_value_report"
    template_name = "parts/stock_value.html"

    def get_context_data(self, **kwargs):
        report = selectors.stock_value_report(dealership_ids=[self.request.dealership.pk])
        return super().get_context_data(report=report, **kwargs)


class JobCostReportView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """R32: parts cost per job (work order), from the issues and returns in the ledger."""

    permission_required = "parts.view_job_cost_report"
    template_name = "parts/job_cost.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")
        qs = selectors.job_cost_report(dealership_ids=[self.request.dealership.pk], search=q)
        page_obj = self.paginate(qs)
        # Issue 15 item 2: rows are per job; its name comes from the service app's jobs (a provided target).
        jobs = reference_target("service.WorkOrderJob")
        job_ids = [row["job_id"] for row in page_obj if row["job_id"]]
        names = {pk: str(job) for pk, job in jobs.in_bulk(job_ids).items()} if jobs is not None and job_ids else {}
        for row in page_obj:
            row["job"] = names.get(row["job_id"], "")
        return super().get_context_data(page_obj=page_obj, q=q, **kwargs)


class _StockFormView(ServiceFormView):
    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        return kwargs

    def get_initial(self):
        return {"part": self.request.GET.get("part", "")}

    def get_cancel_url(self):
        return reverse("parts:stock_list")

    def form_valid(self, form):
        try:
            self.save(form)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except ConflictError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return redirect(reverse("parts:part_detail", args=[form.cleaned_data["part"].pk]))


class ReceiveView(_StockFormView):
    permission_required = "parts.add_stockmovement"
    form_class = ReceiveForm
    title = gettext_lazy("Receive parts from the supplier")
    success_message = gettext_lazy("Receipt recorded.")

    def save(self, form):
        return services.stock_receive(actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data)


class IssueView(_StockFormView):
    permission_required = "parts.add_stockmovement"
    form_class = IssueForm
    title = gettext_lazy("Issue parts")
    success_message = gettext_lazy("Issue recorded.")

    def save(self, form):
        return services.stock_issue(actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data)


class TransferView(_StockFormView):
    permission_required = "parts.add_stockmovement"
    form_class = TransferForm
    title = gettext_lazy("Transfer between warehouses")
    success_message = gettext_lazy("Transfer recorded.")

    def save(self, form):
        return services.stock_transfer(actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data)


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
    title = gettext_lazy("New warehouse")
    success_message = gettext_lazy("Warehouse %(object)s saved.")

    def get_cancel_url(self):
        return reverse("parts:warehouse_list")

    def get_success_url(self, obj):
        return f"{reverse('parts:warehouse_list')}#warehouse-{obj.pk}"

    def save(self, form):
        return services.warehouse_create(
            actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
        )


class WarehouseUpdateView(WarehouseCreateView):
    permission_required = "parts.change_warehouse"
    title = gettext_lazy("Edit warehouse")

    def get_instance(self):
        # A fresh copy each time: the form's validation mutates its instance, the service loads its own under lock.
        return self.get_scoped_object(Warehouse, self.kwargs["pk"])

    def save(self, form):
        return services.warehouse_update(actor=self.request.user, warehouse=self.get_instance(), data=form.cleaned_data)


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
            messages.error(request, " ".join(error.messages))
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


# ---------------------------------------------------------------------------------------------------------------------
# R26: stock counts


class CountListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "parts.view_stockcount"
    template_name = "parts/count_list.html"

    def get_context_data(self, **kwargs):
        ids = [self.request.dealership.pk]
        status = self.request.GET.get("status", "")
        status = status if status in StockCount.Status.values else ""
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


class CountDetailView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_stockcount"
    template_name = "parts/count_detail.html"

    def get_context_data(self, **kwargs):
        count = self.get_scoped_object(StockCount, self.kwargs["pk"])
        lines = list(count.lines.select_related("part", "location", "counted_by"))
        return super().get_context_data(
            count=count,
            lines=lines,
            counted=sum(1 for line in lines if line.counted_quantity is not None),
            committee=count.committee.all(),
            report=services.variance_report(count) if count.status != StockCount.Status.IN_PROGRESS else None,
            audit_entries=audit_trail(count)[:30],
            **kwargs,
        )


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


class CountActionView(DealershipPageMixin, View):
    """POST-only buttons of the count page: approve, reopen, cancel."""

    ACTIONS = {
        "approve": ("parts.approve_stockcount", services.stock_count_approve, gettext_lazy("Adjustments approved.")),
        "reopen": ("parts.approve_stockcount", services.stock_count_reopen, gettext_lazy("Count sent back.")),
        "cancel": ("parts.change_stockcount", services.stock_count_cancel, gettext_lazy("Count cancelled.")),
    }

    def get_permission_required(self):
        perm = self.ACTIONS.get(self.kwargs["action"], ("parts.approve_stockcount",))[0]
        return [perm]

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404
        count = self.get_scoped_object(StockCount, pk)
        _perm, service, message = self.ACTIONS[action]
        try:
            service(actor=request.user, count=count)
            messages.success(request, message)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        except (TransitionNotAllowed, ConflictError):
            messages.error(request, _("This action is not allowed in the record's current status."))
        return redirect("parts:count_detail", pk=pk)


class CountSheetPdfView(DealershipPageMixin, View):
    permission_required = "parts.view_stockcount"

    def get(self, request, pk):
        count = self.get_scoped_object(StockCount, pk)
        return pdf_response(pdf.count_sheet_pdf(count), _("count-sheet-%(id)s.pdf") % {"id": count.pk})


# ---------------------------------------------------------------------------------------------------------------------
# R20, R21: sales orders


class SalesListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "parts.view_salesorder"
    template_name = "parts/sales_list.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")
        status = self.request.GET.get("status", "")
        status = status if status in SalesOrder.Status.values else ""
        qs = selectors.sales_order_list(dealership_ids=[self.request.dealership.pk], status=status, search=q)
        return super().get_context_data(
            page_obj=self.paginate(qs), q=q, status=status, statuses=SalesOrder.Status.choices, **kwargs
        )


class SalesCreateView(ServiceFormView):
    permission_required = "parts.add_salesorder"
    form_class = SalesOrderForm
    title = gettext_lazy("New sales order")
    success_message = gettext_lazy("Order %(object)s created.")

    def get_cancel_url(self):
        return reverse("parts:sales_list")

    def save(self, form):
        return services.sales_order_create(
            actor=self.request.user, dealership=self.request.dealership, **form.cleaned_data
        )


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
            lines=order.lines.select_related("part", "reservation"),
            audit_entries=audit_trail(order)[:30],
            **forms_,
            **kwargs,
        )


class SalesActionView(DealershipPageMixin, TemplateView):
    """POST buttons of the sales order page; a refused action shows its message on the page."""

    template_name = "parts/sales_detail.html"
    http_method_names = ["post"]
    ACTIONS = {
        "add_line": ("parts.change_salesorder", SalesLineForm, "line_form"),
        "confirm_need": ("parts.change_salesorder", None, None),
        "quote": ("parts.change_salesorder", QuoteForm, "quote_form"),
        "place": ("parts.change_salesorder", None, None),
        "invoice": ("parts.change_salesorder", None, None),
        "record_payment": ("parts.record_payment_salesorder", PaymentForm, "payment_form"),
        "ship": ("parts.ship_salesorder", ShipForm, "ship_form"),
        "cancel": ("parts.change_salesorder", ReasonForm, "cancel_form"),
    }

    def get_permission_required(self):
        return [self.ACTIONS.get(self.kwargs["action"], ("parts.change_salesorder",))[0]]

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404
        order = self.get_scoped_object(SalesOrder, pk)
        _perm, form_class, form_name = self.ACTIONS[action]
        data = {}
        form = None
        if form_class is not None:
            kwargs = {"dealership": request.dealership} if form_class is SalesLineForm else {}
            form = form_class(request.POST, **kwargs)
            if not form.is_valid():
                return self._again(order, form_name, form)
            data = form.cleaned_data
        user = request.user
        try:
            if action == "add_line":
                services.sales_order_add_line(actor=user, order=order, **data)
            elif action == "confirm_need":
                services.sales_order_confirm_need(actor=user, order=order)
            elif action == "quote":
                services.sales_order_quote(actor=user, order=order, delivery_days=data.get("delivery_days"))
            elif action == "place":
                services.sales_order_place(actor=user, order=order)
            elif action == "invoice":
                services.sales_order_invoice(actor=user, order=order)
            elif action == "record_payment":
                services.sales_order_record_payment(actor=user, order=order, **data)
            elif action == "ship":
                services.sales_order_ship(actor=user, order=order, **data)
            elif action == "cancel":
                services.sales_order_cancel(actor=user, order=order, **data)
        except ValidationError as error:
            if form is not None:
                form.add_service_errors(error)
                return self._again(order, form_name, form)
            messages.error(request, " ".join(error.messages))
        except ConflictError as error:
            messages.error(request, error.message)
        except TransitionNotAllowed:
            messages.error(request, _("This action is not allowed in the record's current status."))
        else:
            messages.success(request, _("Done."))
        return redirect("parts:sales_detail", pk=pk)

    def _again(self, order, form_name, form):
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


class _ActionPageView(DealershipPageMixin, View):
    """POST buttons of a document page. ACTIONS: name -> (permission, form class or None, call(view, obj, data))."""

    model = None
    detail_url = ""
    ACTIONS: dict = {}

    def get_permission_required(self):
        return [self.ACTIONS.get(self.kwargs["action"], ("parts.change_" + self.model._meta.model_name,))[0]]

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404
        obj = self.get_scoped_object(self.model, pk)
        _perm, form_class, call = self.ACTIONS[action]
        data = {}
        if form_class is not None:
            form = form_class(request.POST, request.FILES, **self.form_kwargs(form_class))
            if not form.is_valid():
                for field, errors in form.errors.items():
                    messages.error(
                        request, f"{form.fields[field].label if field in form.fields else ''}: {' '.join(errors)}"
                    )
                return redirect(self.detail_url, pk=pk)
            data = form.cleaned_data
        try:
            call(request.user, obj, data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except ConflictError as error:
            messages.error(request, error.message)
        except TransitionNotAllowed:
            messages.error(request, _("This action is not allowed in the record's current status."))
        else:
            messages.success(request, _("Done."))
        return redirect(self.detail_url, pk=pk)

    def form_kwargs(self, form_class):
        return {"dealership": self.request.dealership} if issubclass(form_class, DealershipForm) else {}


class ReturnListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "parts.view_returnrequest"
    template_name = "parts/return_list.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")
        status = self.request.GET.get("status", "")
        status = status if status in ReturnRequest.Status.values else ""
        qs = selectors.return_list(dealership_ids=[self.request.dealership.pk], status=status, search=q)
        return super().get_context_data(
            page_obj=self.paginate(qs), q=q, status=status, statuses=ReturnRequest.Status.choices, **kwargs
        )


class ReturnCreateView(ServiceFormView):
    permission_required = "parts.add_returnrequest"
    form_class = ReturnRequestForm
    title = gettext_lazy("New return or exchange request")
    success_message = gettext_lazy("%(object)s registered.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        return kwargs

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


class ReturnDetailView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_returnrequest"
    template_name = "parts/return_detail.html"

    def get_context_data(self, **kwargs):
        request = self.get_scoped_object(ReturnRequest, self.kwargs["pk"])
        return super().get_context_data(
            obj=request,
            evidence=request.evidence.all(),
            decision_form=DecisionForm(),
            refuse_form=ReasonForm(),
            inspection_form=InspectionForm(),
            evidence_form=EvidenceForm(),
            audit_entries=audit_trail(request)[:30],
            **kwargs,
        )


class ReturnActionView(_ActionPageView):
    model = ReturnRequest
    detail_url = "parts:return_detail"
    ACTIONS = {
        "evidence": (
            "parts.change_returnrequest",
            EvidenceForm,
            lambda u, o, d: services.return_add_evidence(actor=u, request=o, **d),
        ),
        "send_to_inspection": (
            "parts.change_returnrequest",
            None,
            lambda u, o, d: services.return_send_to_inspection(actor=u, request=o),
        ),
        "inspection": (
            "parts.inspect_returnrequest",
            InspectionForm,
            lambda u, o, d: services.return_record_inspection(actor=u, request=o, **d),
        ),
        "approve": (
            "parts.decide_returnrequest",
            DecisionForm,
            lambda u, o, d: services.return_approve(
                actor=u,
                request=o,
                reason=d["reason"],
                customer_at_fault=d["customer_at_fault"],
                freight_cost=d["freight_cost"] or 0,
            ),
        ),
        "refuse": (
            "parts.decide_returnrequest",
            ReasonForm,
            lambda u, o, d: services.return_refuse(actor=u, request=o, **d),
        ),
        "complete": (
            "parts.complete_returnrequest",
            None,
            lambda u, o, d: services.return_complete(actor=u, request=o),
        ),
    }


class RequisitionListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "parts.view_requisition"
    template_name = "parts/requisition_list.html"

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")
        status = self.request.GET.get("status", "")
        status = status if status in Requisition.Status.values else ""
        qs = selectors.requisition_list(dealership_ids=[self.request.dealership.pk], status=status, search=q)
        return super().get_context_data(
            page_obj=self.paginate(qs), q=q, status=status, statuses=Requisition.Status.choices, **kwargs
        )


class RequisitionCreateView(ServiceFormView):
    permission_required = "parts.add_requisition"
    form_class = RequisitionForm
    title = gettext_lazy("New parts requisition")
    success_message = gettext_lazy("%(object)s submitted for approval.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        return kwargs

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


class RequisitionDetailView(DealershipPageMixin, TemplateView):
    permission_required = "parts.view_requisition"
    template_name = "parts/requisition_detail.html"

    def get_context_data(self, **kwargs):
        obj = self.get_scoped_object(Requisition, self.kwargs["pk"])
        return super().get_context_data(
            obj=obj,
            lines=obj.lines.select_related("part", "movement"),
            old_parts=obj.old_parts.select_related("part", "registered_by"),
            parts_cost=selectors.requisition_parts_cost(obj),
            reject_form=ReasonForm(),
            old_part_form=OldPartForm(dealership=self.request.dealership),
            audit_entries=audit_trail(obj)[:30],
            **kwargs,
        )


class RequisitionActionView(_ActionPageView):
    model = Requisition
    detail_url = "parts:requisition_detail"
    ACTIONS = {
        "approve": (
            "parts.approve_requisition",
            None,
            lambda u, o, d: services.requisition_approve(actor=u, requisition=o),
        ),
        "reject": (
            "parts.approve_requisition",
            ReasonForm,
            lambda u, o, d: services.requisition_reject(actor=u, requisition=o, **d),
        ),
        "issue": ("parts.issue_requisition", None, lambda u, o, d: services.requisition_issue(actor=u, requisition=o)),
        "old_part": (
            "parts.add_oldpartreturn",
            OldPartForm,
            lambda u, o, d: services.old_part_register(actor=u, dealership=o.dealership, requisition=o, **d),
        ),
    }


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
