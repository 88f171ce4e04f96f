"""Pages of customer orders: the colour-coded dashboard (R1, R13), exports, the order page and its actions.

Every action calls the same service as the API; a service's ValidationError lands on the form, a conflict
(status changed meanwhile, a concurrent action) becomes a message on the order page — never a 500.
"""

import io
import zoneinfo
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from dms.core.db_router import reads_from_replica
from dms.core.downloads import EXPORT_TYPES, pdf_response, set_download_name, table_export
from dms.core.exceptions import ConflictError
from dms.core.exports import BOM, CsvExportWriter, XlsxExport, csv_dialect
from dms.core.formatting import plain_quantity
from dms.core.inputs import parse_id, parse_ids
from dms.core.models import Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import available_transitions, is_available
from dms.core.views import DealershipPageMixin, PaginatedListMixin, parsed_or_default, report_dealership_scope
from parts.models import LowStockAlert, Supplier

from . import kpis, pdf, promises, selectors, services
from .filters import CustomerOrderFilter
from .forms import (
    CancelForm,
    CustomerOrderForm,
    IssueForm,
    OrderLineFormSet,
    PlaceBatchForm,
    PlaceForm,
    ReceiveForm,
    staff_choices,
)
from .models import OVERDUE_COLOUR, STATUS_COLOURS, CustomerOrder, OrderKind, OrderStatus
from .rendering import render_options, render_order_rows, render_sort_headers

CONFLICTS = (ConflictError, TransitionNotAllowed, ConcurrentTransition, IntegrityError)

# (sort key, column title) in the order the dashboard shows them; None = not sortable.
COLUMNS = [
    ("number", gettext_lazy("Number")),
    ("status", gettext_lazy("Status")),
    ("placed_at", gettext_lazy("Placed")),
    ("expected_at", gettext_lazy("ETA")),
    ("received_at", pgettext_lazy("customer order", "Received")),
    ("customer", gettext_lazy("Customer")),
    ("vehicle", gettext_lazy("Vehicle")),
    ("kind", gettext_lazy("Kind")),
    ("author", gettext_lazy("Author")),
    ("days_waiting", gettext_lazy("Обзвон")),
]


def tint(colour: str, share: float = 0.22) -> str:
    """The colour mixed with white: a row background light enough to read on."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - c) * share) for c in (red, green, blue))
    return "#" + "".join(f"{c:02x}" for c in mixed)


STATUS_TINTS = {status: tint(colour) for status, colour in STATUS_COLOURS.items()}


def legend():
    items = [
        {"status": s.value, "label": s.label, "colour": STATUS_COLOURS[s], "tint": STATUS_TINTS[s]} for s in OrderStatus
    ]
    items.append(
        {"status": "overdue", "label": _("ETA overdue"), "colour": OVERDUE_COLOUR, "tint": tint(OVERDUE_COLOUR)}
    )
    return items


def _order_filter(request):
    dealership = request.dealership
    return CustomerOrderFilter(
        request.GET,
        queryset=CustomerOrder.objects.filter(dealership=dealership),
        dealership=dealership,
        today=selectors.local_today(dealership),
    )


def _entry_value(entry, name):
    return entry.get(name) if isinstance(entry, dict) else getattr(entry, name, None)


def call_results_text(call_log, *, date_format: str = "%d.%m.%Y") -> str:
    """The «Обзвон» results as one line of text (exports), dates in the export dialect's format."""
    parts = []
    for entry in call_log.results:
        when = _entry_value(entry, "completed_at")
        text = " ".join(
            str(bit)
            for bit in (
                timezone.localtime(when).strftime(date_format) if when else "",
                _entry_value(entry, "caller_name") or "",
                _entry_value(entry, "outcome_display") or "",
            )
            if bit
        )
        comment = _entry_value(entry, "comment")
        agreed = _entry_value(entry, "agreed_date")
        if comment:
            text += f": {comment}"
        if agreed:
            text += " → " + agreed.strftime(date_format)
        parts.append(text)
    return "; ".join(parts)


FILTER_BAR_PARAMS = ("search", "date_from", "date_to", "overdue", "return_due", "on_waiting_lot")


class DashboardView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    """The parts managers' order list: one coloured row per order, the «Обзвон» column, filters (R1, R13)."""

    permission_required = "orders.view_customerorder"
    template_name = "orders/dashboard.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        order_filter = _order_filter(self.request)
        # Paginated like every list page, counting at most LIST_COUNT_CAP orders: counting 10,000 of a dealership's
        # orders cost 2 ms of PostgreSQL on every view (issue 19 item 1). /api/orders/ keeps its documented 10,000.
        page_obj = self.paginate(order_filter.qs)
        rows = selectors.order_rows(page_obj.object_list)
        cleaned = order_filter.form.cleaned_data if order_filter.form.is_valid() else {}
        staff = staff_choices(self.request.dealership)
        sort = selectors.valid_sort(self.request.GET.get("sort"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            filter=order_filter,
            filter_errors=order_filter.form.errors,
            page_obj=page_obj,
            rows=rows,
            rows_html=render_order_rows(rows, tints=STATUS_TINTS),
            status_options=render_options(OrderStatus.choices, cleaned.get("status") or []),
            kind_options=render_options(OrderKind.choices, [self.request.GET.get("kind")]),
            author_options=render_options(staff, [self.request.GET.get("author")]),
            manager_options=render_options(staff, [self.request.GET.get("manager")]),
            header_cells=render_sort_headers(COLUMNS, sort=sort, query=self.request.GET),
            columns=COLUMNS,
            sort=sort,
            legend=legend(),
            export_query=query.urlencode(),
            # the filter bar's values: a missing key of request.GET made the template raise and log six times a view
            params={name: self.request.GET.get(name, "") for name in FILTER_BAR_PARAMS},
            **kwargs,
        )


EXPORT_HEADER = [
    gettext_lazy("Number"),
    gettext_lazy("Status"),
    gettext_lazy("Ordered"),
    gettext_lazy("Placed"),
    gettext_lazy("ETA"),
    pgettext_lazy("customer order", "Received"),
    gettext_lazy("Customer"),
    gettext_lazy("Vehicle"),
    gettext_lazy("Kind"),
    gettext_lazy("Author"),
    gettext_lazy("Parts manager"),
    gettext_lazy("Car waits on the lot"),
    gettext_lazy("Days waiting"),
    gettext_lazy("Last caller"),
    gettext_lazy("Call results"),
]
EXPORT_BATCH = 500


def _export_rows(queryset, *, date_format: str):
    """The filtered orders as export rows (streamed in batches with their call logs): raw typed values — local
    datetimes, dates, ints — that dms.core.exports writes in the request's dialect (issue 16 item 3)."""
    for order in selectors.iter_order_rows(queryset, batch_size=EXPORT_BATCH):
        tz = zoneinfo.ZoneInfo(order.time_zone)

        def local(value, tz=tz):
            # the dealership's wall clock: spreadsheets have no time zones
            return timezone.make_naive(value, tz) if value else None

        yield [
            order.number,
            order.status_display,
            local(order.created_at),
            local(order.placed_at),
            order.expected_at,
            local(order.received_at),
            order.customer_name,
            order.vehicle_vin or "",
            order.kind_display,
            order.author_name,
            order.parts_manager_name,
            _("Yes") if order.on_waiting_lot else "",
            order.waiting_days,
            order.call_log.last_caller_name or "",
            call_results_text(order.call_log, date_format=date_format),
        ]


class _Echo:
    def write(self, value):
        return value


class ExportView(DealershipPageMixin, View):
    """The filtered dashboard as CSV (streamed) or XLSX."""

    permission_required = "orders.export_customerorder"

    def get(self, request, fmt):
        order_filter = _order_filter(request)
        if not order_filter.form.is_valid():
            messages.error(request, _("Fix the filters before exporting."))
            return redirect(reverse("orders:dashboard") + "?" + request.GET.urlencode())
        queryset = order_filter.qs
        stamp = timezone.localtime(timezone.now(), request.dealership.tz).strftime("%Y%m%d-%H%M")
        header = [str(title) for title in EXPORT_HEADER]
        if fmt == "csv":
            # issue 12 item 3: text cells neutralised; issue 16 item 3: the request language's dialect
            writer = CsvExportWriter(_Echo())

            def stream():
                yield BOM + writer.writerow(header)
                for row in _export_rows(queryset, date_format=writer.dialect.date_format):
                    yield writer.writerow(row)

            response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
            set_download_name(response, f"orders-{stamp}.csv")
            return response
        # issue 12 item 3: text typed as strings and neutralised; issue 16 item 3: dates and numbers typed
        export = XlsxExport(_("Orders"), header)
        export.extend(_export_rows(queryset, date_format=csv_dialect().date_format))
        buffer = io.BytesIO()
        export.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        set_download_name(response, f"orders-{stamp}.xlsx")
        return response


class OrderDetailView(DealershipPageMixin, TemplateView):
    permission_required = "orders.view_customerorder"
    template_name = "orders/detail.html"

    def get_context_data(self, **kwargs):
        order = selectors.customer_order_detail(dealership_ids=[self.request.dealership.pk], pk=self.kwargs["pk"])
        if order is None:
            raise Http404
        selectors.annotate_rows([order])
        status = order.status
        supplier_order = getattr(order, "supplier_order", None)
        # Issue 15 item 8: how this supplier keeps its promised delivery terms, overall and per part class — from
        # one read of its history (issue 19).
        history = promises.supplier_history(supplier=supplier_order.supplier) if supplier_order else []
        return super().get_context_data(
            order=order,
            lines=list(order.lines.all()),
            receipts=list(order.receipts.all()),
            supplier_order=supplier_order,
            supplier_record=selectors.supplier_record(supplier=supplier_order.supplier, history=history)
            if supplier_order
            else None,
            supplier_classes=promises.supplier_record_by_class(supplier=supplier_order.supplier, history=history)
            if supplier_order
            else [],
            timeline=selectors.customer_order_timeline(order),
            status_colour=STATUS_COLOURS[status],
            status_tint=STATUS_TINTS[status],
            # The buttons: what django-fsm says this user may run now (state and role, issue 13).
            actions=set(available_transitions(order, self.request.user)),
            # Issue 15 item 8: the supplier's return window for received, uncollected parts.
            return_deadline=order.return_deadline(),
            return_due=order.return_due(),
            **kwargs,
        )


class OrderPdfView(DealershipPageMixin, View):
    """The printable customer order with the dealership's requisites (issue 16, item 4)."""

    permission_required = "orders.view_customerorder"

    def get(self, request, pk):
        order = selectors.customer_order_detail(dealership_ids=[request.dealership.pk], pk=pk)
        if order is None:
            raise Http404
        return pdf_response(pdf.customer_order_pdf(order), _("order-%(number)s.pdf") % {"number": order.number})


class OrderCreateView(DealershipPageMixin, View):
    """The advisor's order form: customer, vehicle (filtered to the customer), kind, lines, R4 and waiting lot."""

    permission_required = "orders.add_customerorder"
    template_name = "orders/order_form.html"

    def _forms(self, data=None):
        dealership = self.request.dealership
        initial = {"customer": self.request.GET.get("customer"), "vehicle": self.request.GET.get("vehicle")}
        form = CustomerOrderForm(data, dealership=dealership, initial=initial)
        formset = OrderLineFormSet(data, prefix="lines", form_kwargs={"dealership": dealership})
        return form, formset

    def _render(self, form, formset):
        return render(self.request, self.template_name, {"form": form, "formset": formset, "title": _("New order")})

    def get(self, request):
        return self._render(*self._forms())

    def post(self, request):
        form, formset = self._forms(request.POST)
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                order = services.customer_order_create(
                    actor=request.user,
                    dealership=request.dealership,
                    customer=data["customer"],
                    vehicle=data["vehicle"],
                    kind=data["kind"],
                    purpose=data["purpose"],
                    lines=formset.lines,
                    parts_manager=data["parts_manager"],
                    on_waiting_lot=data["on_waiting_lot"],
                    long_term_agreed=data["long_term_agreed"],
                    comment=data["comment"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Order %(number)s created.") % {"number": order.number})
                return redirect(order.get_absolute_url())
        return self._render(form, formset)


class OrderActionView(DealershipPageMixin, FormView):
    """A transition form on one order. Subclasses set the form, the transition it runs and the service call."""

    template_name = "orders/action_form.html"
    transition = ""
    title = ""
    button = gettext_lazy("Save")
    button_class = "btn-primary"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and getattr(request, "dealership", None) is not None:
            if not self.has_permission():
                return self.handle_no_permission()
            self.order = self.get_scoped_object(CustomerOrder, kwargs["pk"])
            if not is_available(self.order, self.transition):
                messages.error(
                    request,
                    _("Order %(number)s is %(status)s: this action is not possible any more.")
                    % {"number": self.order.number, "status": self.order.get_status_display()},
                )
                return redirect(self.order.get_absolute_url())
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "dealership": self.request.dealership, "instance": self.order}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            order=self.order,
            title=self.get_title(),
            button=self.button,
            button_class=self.button_class,
            cancel_url=self.order.get_absolute_url(),
            **kwargs,
        )

    def get_title(self):
        return self.title

    def form_valid(self, form):
        try:
            self.perform(form)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except CONFLICTS as error:
            message = getattr(error, "message", "") or _(
                "Someone else changed this order at the same moment; here is its current state."
            )
            messages.error(self.request, message)
            return redirect(self.order.get_absolute_url())
        messages.success(self.request, self.success_message())
        return redirect(self.order.get_absolute_url())

    def perform(self, form):
        raise NotImplementedError

    def success_message(self) -> str:
        order = CustomerOrder.objects.get(pk=self.order.pk)
        return _("Order %(number)s: %(status)s.") % {"number": order.number, "status": order.get_status_display()}


class PlaceView(OrderActionView):
    permission_required = "orders.place_customerorder"
    form_class = PlaceForm
    transition = "place"
    button = gettext_lazy("Place with the supplier")

    def get_title(self):
        return _("Place order %(number)s with the supplier") % {"number": self.order.number}

    def perform(self, form):
        data = form.cleaned_data
        services.customer_order_place(
            actor=self.request.user,
            order=self.order,
            supplier=data["supplier"],
            supplier_order_number=data["supplier_order_number"],
            expected_at=data["expected_at"],
            long_term_agreed=data["long_term_agreed"],
            purchase_prices=form.purchase_prices(),
        )


class ReceiveView(OrderActionView):
    permission_required = "orders.receive_customerorder"
    form_class = ReceiveForm
    transition = "receive"
    template_name = "orders/receive_form.html"  # issue 15 item 7: with the scanner field
    button = gettext_lazy("Record the receipt")

    def get_title(self):
        return _("Parts arrived for order %(number)s") % {"number": self.order.number}

    def perform(self, form):
        services.customer_order_receive(
            actor=self.request.user,
            order=self.order,
            lines=form.received_lines(),
            comment=form.cleaned_data.get("comment", ""),
        )


class IssueView(OrderActionView):
    permission_required = "orders.issue_customerorder"
    form_class = IssueForm
    transition = "issue"
    button = gettext_lazy("Issue the parts")

    def get_title(self):
        return _("Issue the parts of order %(number)s") % {"number": self.order.number}

    def perform(self, form):
        services.customer_order_issue(actor=self.request.user, order=self.order)


class ClosingActionView(OrderActionView):
    """An action that ends the order with a reason: ``services.<service>(actor=…, order=…, reason=…)``."""

    form_class = CancelForm
    button_class = "btn-danger"
    service = "customer_order_cancel"

    def get_title(self):
        return self.title % {"number": self.order.number}

    def perform(self, form):
        call = getattr(services, self.service)
        call(actor=self.request.user, order=self.order, reason=form.cleaned_data["reason"])


class CancelView(ClosingActionView):
    permission_required = "orders.cancel_customerorder"
    transition = "cancel"
    title = gettext_lazy("Cancel order %(number)s")
    button = gettext_lazy("Cancel the order")


class ReturnToSupplierView(ClosingActionView):
    """Issue 15 item 8: received parts the customer never collected go back to the supplier (a terminal state)."""

    permission_required = "orders.return_customerorder"
    transition = "return_to_supplier"
    title = gettext_lazy("Return the parts of order %(number)s to the supplier")
    button = gettext_lazy("Return to the supplier")
    service = "customer_order_return_to_supplier"


# -- issue 15 item 6: batch work ----------------------------------------------------------------------------------
class PlaceBatchView(DealershipPageMixin, View):
    """Several «Неразмещён» orders, their lines shown, placed as one supplier order (all or nothing)."""

    permission_required = "orders.place_customerorder"
    template_name = "orders/place_batch.html"

    def _render(self, request, form, chosen: set[int]):
        part_query = request.GET.get("part", "")
        supplier_id = parse_id(request.GET.get("supplier"))
        orders = selectors.orders_to_place(
            dealership_id=request.dealership.pk, part_query=part_query, supplier_id=supplier_id
        )
        suppliers = Supplier.objects.filter(dealership=request.dealership, is_active=True).order_by("name")
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "orders": orders,
                "chosen": chosen,
                "part_query": part_query,
                "supplier_id": supplier_id,
                "suppliers": suppliers,
            },
        )

    def get(self, request):
        # The supplier filter also proposes that supplier for the placing.
        initial = {"supplier": parse_id(request.GET.get("supplier"))}
        form = PlaceBatchForm(dealership=request.dealership, initial=initial)
        return self._render(request, form, set())

    def post(self, request):
        form = PlaceBatchForm(request.POST, dealership=request.dealership)
        chosen = set(parse_ids(request.POST.getlist("orders")))
        if form.is_valid():
            data = form.cleaned_data
            try:
                placed = services.customer_order_place_batch(
                    actor=request.user,
                    dealership=request.dealership,
                    orders=list(data["orders"]),
                    supplier=data["supplier"],
                    supplier_order_number=data["supplier_order_number"],
                    expected_at=data["expected_at"],
                    long_term_agreed=True if data["long_term_agreed"] else None,
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                number = data["supplier_order_number"].strip()
                messages.success(
                    request,
                    _("%(count)s orders placed with %(supplier)s under order %(number)s.")
                    % {"count": len(placed), "supplier": data["supplier"], "number": number},
                )
                query = urlencode({"supplier": data["supplier"].pk, "number": number})
                return redirect(f"{reverse('orders:receive_batch')}?{query}")
        return self._render(request, form, chosen)


def _typed_quantity(raw: str) -> Decimal | None:
    """A quantity typed on a page; None when it is no finite number (NaN, Infinity: and ``NaN > 0`` raises)."""
    try:
        quantity = Decimal(raw)
    except InvalidOperation:
        return None
    return quantity if quantity.is_finite() else None


class ReceiveBatchView(DealershipPageMixin, View):
    """One supplier delivery: every line of every order placed under the supplier order number, the remaining
    quantities prefilled; "receive all" or edited quantities, one transaction (R2 per order)."""

    permission_required = "orders.receive_customerorder"
    template_name = "orders/receive_batch.html"

    def _delivery(self, request):
        supplier_id = parse_id(request.GET.get("supplier"))
        number = (request.GET.get("number") or "").strip()
        supplier = (
            Supplier.objects.filter(dealership=request.dealership, pk=supplier_id).first() if supplier_id else None
        )
        orders = []
        if supplier is not None and number:
            orders = selectors.supplier_delivery_orders(
                dealership_id=request.dealership.pk, supplier_id=supplier.pk, supplier_order_number=number
            )
        return supplier, number, orders

    def _render(self, request, supplier, number, orders, *, errors=(), entered=None):
        rows = []
        for order in orders:
            for line in order.lines.all():
                key = f"qty-{order.pk}-{line.pk}"
                outstanding = line.quantity_outstanding
                rows.append(
                    {
                        "order": order,
                        "line": line,
                        "key": key,
                        "outstanding": plain_quantity(outstanding),
                        "value": (entered or {}).get(key, plain_quantity(outstanding)),
                        "open": outstanding > 0 and is_available(order, "receive"),
                    }
                )
        suppliers = Supplier.objects.filter(dealership=request.dealership).order_by("name")
        return render(
            request,
            self.template_name,
            {
                "supplier": supplier,
                "number": number,
                "orders": orders,
                "rows": rows,
                "suppliers": suppliers,
                "errors": errors,
                "can_receive": any(row["open"] for row in rows),
            },
        )

    def get(self, request):
        supplier, number, orders = self._delivery(request)
        return self._render(request, supplier, number, orders)

    @staticmethod
    def _entered_lines(request, orders) -> tuple[list[dict], list[str], dict[str, str]]:
        """The quantities typed per line (or every outstanding one with "receive all"), the typing errors, and
        what was typed, to show the form again."""
        receive_all = "receive_all" in request.POST
        lines, errors, entered = [], [], {}
        for order in orders:
            if not is_available(order, "receive"):
                continue
            for line in order.lines.all():
                key = f"qty-{order.pk}-{line.pk}"
                if receive_all:
                    quantity = line.quantity_outstanding
                else:
                    raw = (request.POST.get(key) or "").strip().replace(",", ".")
                    entered[key] = raw
                    if not raw:
                        continue
                    quantity = _typed_quantity(raw)
                    if quantity is None:
                        errors.append(
                            _("Order %(number)s, part %(part)s: enter a number.")
                            % {"number": order.number, "part": line.part.number}
                        )
                        continue
                if quantity > 0 or not receive_all:
                    lines.append({"order": order.pk, "line": line.pk, "quantity": quantity})
        return lines, errors, entered

    def post(self, request):
        supplier, number, orders = self._delivery(request)
        if supplier is None or not orders:
            raise Http404
        lines, errors, entered = self._entered_lines(request, orders)
        if not errors:
            try:
                services.customer_order_receive_batch(
                    actor=request.user,
                    dealership=request.dealership,
                    supplier=supplier,
                    supplier_order_number=number,
                    lines=lines,
                    comment=(request.POST.get("comment") or "")[:500],
                )
            except ValidationError as error:
                errors = error.messages
            except CONFLICTS as error:
                errors = [getattr(error, "message", "") or str(error)]
            else:
                messages.success(request, _("Delivery %(number)s received.") % {"number": number})
                return redirect(request.get_full_path())
        return self._render(request, supplier, number, orders, errors=errors, entered=entered)


class ReplenishView(DealershipPageMixin, View):
    """Issue 15 item 6, R27: one click on a low-stock alert creates its replenishment order (once)."""

    permission_required = "orders.place_customerorder"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        alert = self.get_scoped_object(LowStockAlert, pk)
        try:
            order, created = services.customer_order_replenish(actor=request.user, alert=alert)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("parts:dashboard")
        except CONFLICTS as error:
            messages.error(request, getattr(error, "message", "") or str(error))
            return redirect("parts:dashboard")
        if created:
            messages.success(request, _("Replenishment order %(number)s created.") % {"number": order.number})
        else:
            messages.info(
                request, _("The alert already has replenishment order %(number)s.") % {"number": order.number}
            )
        return redirect(order.get_absolute_url())


# -- issue 15 item 8: parts KPIs for directors ------------------------------------------------------------------------
@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class PartsKpiView(DealershipPageMixin, TemplateView):
    """Fill rate from stock, lost demand, turnover, aged stock and special-order parts by age (orders.kpis), over
    every dealership the user may see (a director: all of theirs) or the one chosen; ?export=csv|xlsx."""

    permission_required = "parts.view_stock_value_report"
    template_name = "orders/kpis.html"

    def get(self, request, *args, **kwargs):
        allowed = allowed_dealership_ids(request.user)
        today = selectors.local_today(request.dealership)
        errors = {}
        raw = request.GET.get("from"), request.GET.get("to")
        date_from, date_to = parsed_or_default(kpis.parse_period, *raw, errors=errors, today=today)
        # A dealership that is not one of the user's is named as such, never shown as an empty report.
        ids, dealership_errors = report_dealership_scope(request)
        errors.update(dealership_errors)
        dealership_ids = set(ids)
        report = kpis.parts_kpis(
            dealership_ids=dealership_ids, date_from=date_from, date_to=date_to, now=timezone.now()
        )
        export = request.GET.get("export")
        if export in EXPORT_TYPES and not errors:
            return table_export(
                export,
                title=_("Parts KPIs"),
                header=kpis.export_header(),
                rows=kpis.export_rows(report),
                filename=f"parts-kpis-{date_from}-{date_to}",
            )
        context = self.get_context_data(
            report=report,
            errors=errors,
            sections=[
                (
                    _("Aged stock"),
                    kpis.bar_chart(report.aged_stock, title=_("Aged stock")),
                    report.aged_stock,
                    "kpi-aged-stock",
                ),
                (
                    _("Special-order parts by age"),
                    kpis.bar_chart(report.special_orders, title=_("Special-order parts by age")),
                    report.special_orders,
                    "kpi-special-orders",
                ),
            ],
            dealerships=Dealership.objects.filter(pk__in=allowed) if len(allowed) > 1 else [],
            selected_dealership=parse_id(request.GET.get("dealership", "")),
            raw_from=request.GET.get("from", date_from.isoformat()),
            raw_to=request.GET.get("to", date_to.isoformat()),
        )
        return self.render_to_response(context, status=400 if errors else 200)
