"""REST API of customer orders (issue 3): the names other systems rely on.

``GET/POST /api/orders/``, ``GET /api/orders/{id}/``, ``POST /api/orders/{id}/place|receive|issue|cancel/``.
Every write goes through ``orders.services``; bad input is 400, a state conflict 409, a wrong role 403 and an
order of another dealership 404.
"""

import dataclasses
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.decorators import method_decorator
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from dms.core.api_base import (
    DEALERSHIP_PARAMETER,
    DealershipScopedMixin,
    ScopedPrimaryKeyRelatedField,
    column_field,
    dealership_ids_param,
    transition_permissions,
)
from dms.core.db_router import reads_from_replica
from dms.core.inputs import parse_id
from dms.core.models import Customer, Vehicle
from dms.core.pagination import CappedCountPagination
from dms.core.permissions import HasPerms
from parts.models import LowStockAlert, Part, Supplier

from . import kpis, promises, selectors, services
from .filters import CustomerOrderFilter
from .models import CUSTOMER_PURPOSES, CustomerOrder, CustomerOrderLine, OrderKind, OrderPurpose

User = get_user_model()


# -- reading --------------------------------------------------------------------------------------------------
class CallLogEntrySerializer(serializers.Serializer):
    completed_at = serializers.DateTimeField(allow_null=True)
    caller_name = serializers.CharField(allow_blank=True)
    outcome = serializers.CharField(allow_blank=True)
    outcome_display = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(allow_blank=True)
    agreed_date = serializers.DateField(allow_null=True)
    kind = serializers.CharField(allow_blank=True)
    kind_display = serializers.CharField(allow_blank=True)


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    part = serializers.IntegerField(source="part_id")
    part_number = serializers.CharField(source="part.number")
    part_name = serializers.CharField(source="part.name")
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    quantity_received = serializers.DecimalField(max_digits=10, decimal_places=2)


class CustomerOrderSerializer(serializers.Serializer):
    """An order as the dashboard shows it: status, colour (R1), lines, dates and the «Обзвон» column (R13)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    dealership = serializers.IntegerField(source="dealership_id")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    colour = serializers.CharField(source="row_colour", help_text="Row colour: the status colour, red when overdue")
    overdue = serializers.BooleanField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    purpose = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField(source="customer.name")
    vehicle = serializers.IntegerField(source="vehicle_id", allow_null=True)
    vehicle_vin = serializers.SerializerMethodField()
    author = serializers.IntegerField(source="author_id")
    author_name = serializers.SerializerMethodField()
    parts_manager = serializers.IntegerField(source="parts_manager_id", allow_null=True)
    lines = OrderLineSerializer(many=True)
    created_at = serializers.DateTimeField()
    placed_at = serializers.DateTimeField(allow_null=True)
    expected_at = serializers.DateField(allow_null=True)
    # Issue 15 item 8: orders.promises states the formula
    revised_expected_at = serializers.DateField(
        allow_null=True,
        read_only=True,
        help_text="Waiting for parts: the supplier's ETA pushed by the supplier's mean delay (days, rounded up) "
        "from its record; null otherwise",
    )
    received_at = serializers.DateTimeField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    on_waiting_lot = serializers.BooleanField()
    long_term_agreed = serializers.BooleanField()
    # Issue 15 item 8: received, uncollected parts — the last day they can go back to the supplier, and the flag
    # raised RETURN_WARNING_DAYS days before it.
    return_deadline = serializers.DateField(
        allow_null=True, read_only=True, help_text="Received, uncollected: the supplier's return window closes"
    )
    return_due = serializers.BooleanField(
        read_only=True, help_text="The return window closes within the warning days (or has closed)"
    )
    days_waiting = serializers.IntegerField(source="waiting_days")
    last_caller_name = serializers.CharField(source="call_log.last_caller_name")
    last_called_at = serializers.DateTimeField(source="call_log.last_called_at", allow_null=True)
    call_log = CallLogEntrySerializer(source="call_log.results", many=True)

    def get_vehicle_vin(self, order) -> str | None:
        return order.vehicle.vin if order.vehicle_id else None

    def get_author_name(self, order) -> str:
        return order.author.get_full_name() or order.author.username


_QUANTITY = serializers.DecimalField(max_digits=10, decimal_places=2)


def _iso_datetime(value, tz):
    """As ``serializers.DateTimeField`` writes it: ISO 8601 in the current time zone, ``Z`` for UTC."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def order_list_payload(rows: list[selectors.OrderRow]) -> list[dict]:
    """The API list's items, exactly as ``CustomerOrderSerializer`` writes them (a test holds the two equal), built
    from the dashboard's plain rows: a DRF serializer spent most of the request on 50 orders (issue 3 speed).
    """
    tz = timezone.get_current_timezone()
    quantity = _QUANTITY.to_representation
    payload = []
    for row in rows:
        log = row.call_log
        payload.append(
            {
                "id": row.id,
                "number": row.number,
                "dealership": row.dealership_id,
                "status": row.status,
                "status_display": row.status_display,
                "colour": row.row_colour,
                "overdue": row.overdue,
                "kind": row.kind,
                "kind_display": row.kind_display,
                "purpose": row.purpose,
                "customer": row.customer_id,
                "customer_name": row.customer_name,
                "vehicle": row.vehicle_id,
                "vehicle_vin": row.vehicle_vin if row.vehicle_id else None,
                "author": row.author_id,
                "author_name": row.author_name,
                "parts_manager": row.parts_manager_id,
                "lines": [
                    {
                        "id": line.id,
                        "part": line.part_id,
                        "part_number": line.part_number,
                        "part_name": line.part_name,
                        "quantity": quantity(line.quantity),
                        "quantity_received": quantity(line.quantity_received),
                    }
                    for line in row.lines
                ],
                "created_at": _iso_datetime(row.created_at, tz),
                "placed_at": _iso_datetime(row.placed_at, tz),
                "expected_at": row.expected_at.isoformat() if row.expected_at else None,
                "revised_expected_at": row.revised_expected_at.isoformat() if row.revised_expected_at else None,
                "received_at": _iso_datetime(row.received_at, tz),
                "issued_at": _iso_datetime(row.issued_at, tz),
                "cancelled_at": _iso_datetime(row.cancelled_at, tz),
                "on_waiting_lot": row.on_waiting_lot,
                "long_term_agreed": row.long_term_agreed,
                "return_deadline": row.return_deadline.isoformat() if row.return_deadline else None,
                "return_due": row.return_due,
                "days_waiting": row.waiting_days,
                "last_caller_name": log.last_caller_name,
                "last_called_at": _iso_datetime(log.last_called_at, tz),
                "call_log": [
                    {
                        "completed_at": _iso_datetime(entry.completed_at, tz),
                        "caller_name": entry.caller_name,
                        "outcome": entry.outcome,
                        "outcome_display": entry.outcome_display,
                        "comment": entry.comment,
                        "agreed_date": entry.agreed_date.isoformat() if entry.agreed_date else None,
                        "kind": entry.kind,
                        "kind_display": entry.kind_display,
                    }
                    for entry in log.results
                ],
            }
        )
    return payload


class CustomerOrderDetailSerializer(CustomerOrderSerializer):
    comment = serializers.CharField()
    cancel_reason = serializers.CharField()
    # Issue 15 item 8: uncollected parts returned to the supplier, and the last day they still can be.
    returned_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField()
    supplier_order = serializers.SerializerMethodField()

    def get_supplier_order(self, order) -> dict | None:
        supplier_order = getattr(order, "supplier_order", None)
        if supplier_order is None:
            return None
        return {
            "supplier": supplier_order.supplier_id,
            "supplier_name": supplier_order.supplier.name,
            "supplier_order_number": supplier_order.supplier_order_number,
            "expected_at": supplier_order.expected_at,
        }


# -- writing --------------------------------------------------------------------------------------------------
class OrderLineInputSerializer(serializers.Serializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    quantity = column_field(CustomerOrderLine, "quantity")  # numeric(10, 2): 12 digits overflowed it (issue 12)


class CustomerOrderCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    vehicle = ScopedPrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    purpose = serializers.ChoiceField(choices=CUSTOMER_PURPOSES, required=False, default=OrderPurpose.REPAIR)
    lines = OrderLineInputSerializer(many=True, allow_empty=False)
    parts_manager = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    on_waiting_lot = serializers.BooleanField(required=False, default=False)
    long_term_agreed = serializers.BooleanField(required=False, default=False, help_text="R4")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class PlacePurchasePriceSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Id of a line of this order")
    purchase_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class PlaceSerializer(serializers.Serializer):
    supplier = ScopedPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_order_number = serializers.CharField(max_length=60)
    expected_at = serializers.DateField()
    long_term_agreed = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="R4: the customer agreed to a long delivery term"
    )
    purchase_prices = PlacePurchasePriceSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Issue 15 item 5: purchase prices per line, overriding the supplier's price list (which fills "
        "the lines not named here)",
    )


class ReceiveLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Id of a line of this order")
    quantity = column_field(CustomerOrderLine, "quantity_received")


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, allow_empty=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class PlaceBatchSerializer(serializers.Serializer):
    """Issue 15 item 6: several «Неразмещён» orders placed as one supplier order."""

    orders = ScopedPrimaryKeyRelatedField(queryset=CustomerOrder.objects.all(), many=True, allow_empty=False)
    supplier = ScopedPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_order_number = serializers.CharField(max_length=60)
    expected_at = serializers.DateField()
    long_term_agreed = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="R4: the customers agreed to a long delivery term (null keeps each order's own record)",
    )
    purchase_prices = PlacePurchasePriceSerializer(
        many=True, required=False, default=list, help_text="Purchase prices per line of any of the orders"
    )


class ReceiveBatchLineSerializer(serializers.Serializer):
    order = ScopedPrimaryKeyRelatedField(queryset=CustomerOrder.objects.all())
    line = serializers.IntegerField(help_text="Id of a line of that order")
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, help_text="0: nothing arrived")


class ReceiveBatchSerializer(serializers.Serializer):
    """Issue 15 item 6: one supplier delivery received against every order placed under its number."""

    supplier = ScopedPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_order_number = serializers.CharField(max_length=60)
    lines = ReceiveBatchLineSerializer(many=True, allow_empty=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ReplenishSerializer(serializers.Serializer):
    """Issue 15 item 6, R27: the low-stock alert to order for."""

    alert = ScopedPrimaryKeyRelatedField(queryset=LowStockAlert.objects.all())


class BatchResultSerializer(serializers.Serializer):
    orders = CustomerOrderSerializer(many=True)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


_ERRORS = {
    400: OpenApiResponse(description="Bad input; the body names the field and the problem"),
    403: OpenApiResponse(description="The role may not do this"),
    404: OpenApiResponse(description="No such order in your dealerships"),
    409: OpenApiResponse(description="The order's status does not allow this, or someone changed it meanwhile"),
}


def _responses(serializer):
    return {200: serializer, **_ERRORS}


@extend_schema_view(
    list=extend_schema(summary="The order dashboard: filter, search, sort, paginate"),
    retrieve=extend_schema(summary="One order with lines, supplier order and call log"),
    create=extend_schema(
        summary="Create a customer order (status «Неразмещён»)",
        request=CustomerOrderCreateSerializer,
        responses={201: CustomerOrderDetailSerializer, **_ERRORS},
    ),
)
@extend_schema(tags=["orders"])
class CustomerOrderViewSet(
    DealershipScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = CustomerOrder.objects.none()
    serializer_class = CustomerOrderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CustomerOrderFilter
    pagination_class = CappedCountPagination
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {
        **transition_permissions(CustomerOrder),
        "place_batch": ["orders.place_customerorder"],
        "receive_batch": ["orders.receive_customerorder"],
        "replenish": ["orders.place_customerorder"],
    }

    def get_queryset(self):
        return CustomerOrder.objects.filter(dealership_id__in=self.scoped_dealership_ids())

    def get_serializer_class(self):
        return CustomerOrderDetailSerializer if self.action != "list" else CustomerOrderSerializer

    def _read(self, pk: int, status_code=status.HTTP_200_OK) -> Response:
        order = selectors.customer_order_detail(dealership_ids=self.scoped_dealership_ids(), pk=pk)
        if order is None:
            raise NotFound()
        selectors.annotate_rows([order])
        return Response(CustomerOrderDetailSerializer(order, context=self.get_serializer_context()).data, status_code)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = selectors.order_rows(page, with_lines=True)
        return self.get_paginated_response(order_list_payload(rows))

    def retrieve(self, request, *args, **kwargs):
        if set(request.query_params) - {"dealership"}:  # list filters on a detail narrow it, as get_object() does
            return self._read(self.get_object().pk)
        # One read of the order, not two (issue 19 item 4): the detail selector is scoped to the user's dealerships
        # like get_object(), so an order outside them, or an id that is no id, is the same 404
        pk = parse_id(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if pk is None:
            raise NotFound()
        return self._read(pk)

    def create(self, request, *args, **kwargs):
        serializer = CustomerOrderCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.customer_order_create(
            actor=request.user,
            dealership=self.write_dealership(),
            customer=data["customer"],
            vehicle=data.get("vehicle"),
            kind=data["kind"],
            purpose=data["purpose"],
            lines=[{"part": line["part"], "quantity": line["quantity"]} for line in data["lines"]],
            parts_manager=data.get("parts_manager"),
            on_waiting_lot=data["on_waiting_lot"],
            long_term_agreed=data["long_term_agreed"],
            comment=data["comment"],
        )
        return self._read(order.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Place the order with the supplier: «Неразмещён» → «Полностью заказан у поставщика» (R1, R4)",
        request=PlaceSerializer,
        responses=_responses(CustomerOrderDetailSerializer),
    )
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None):
        order = self.get_object()
        data = self.action_input(PlaceSerializer)
        services.customer_order_place(
            actor=request.user,
            order=order,
            supplier=data["supplier"],
            supplier_order_number=data["supplier_order_number"],
            expected_at=data["expected_at"],
            long_term_agreed=data.get("long_term_agreed"),
            purchase_prices={row["line"]: row["purchase_price"] for row in data["purchase_prices"]},
        )
        return self._read(order.pk)

    @extend_schema(
        summary="Record arrived parts per line: «Частично получен» or «Получен» by the quantities (R2)",
        request=ReceiveSerializer,
        responses=_responses(CustomerOrderDetailSerializer),
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        order = self.get_object()
        data = self.action_input(ReceiveSerializer)
        services.customer_order_receive(
            actor=request.user, order=order, lines=[dict(line) for line in data["lines"]], comment=data["comment"]
        )
        return self._read(order.pk)

    @extend_schema(
        summary="Hand the received parts over (closes the order)",
        request=None,
        responses=_responses(CustomerOrderDetailSerializer),
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        order = self.get_object()
        services.customer_order_issue(actor=request.user, order=order)
        return self._read(order.pk)

    @extend_schema(
        summary="Cancel an unplaced or ordered order, with the reason",
        request=CancelSerializer,
        responses=_responses(CustomerOrderDetailSerializer),
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        data = self.action_input(CancelSerializer)
        services.customer_order_cancel(actor=request.user, order=order, reason=data["reason"])
        return self._read(order.pk)

    @extend_schema(
        summary="Return a received order's uncollected parts to the supplier, with the reason (closes the order)",
        request=CancelSerializer,
        responses=_responses(CustomerOrderDetailSerializer),
    )
    @action(detail=True, methods=["post"], url_path="return-to-supplier")
    def return_to_supplier(self, request, pk=None):
        # Issue 15 item 8: «Получен» → «Возвращён поставщику»; 409 from any other status.
        order = self.get_object()
        data = self.action_input(CancelSerializer)
        services.customer_order_return_to_supplier(actor=request.user, order=order, reason=data["reason"])
        return self._read(order.pk)

    def _read_many(self, ids: Iterable[int]) -> Response:
        orders = [
            selectors.customer_order_detail(dealership_ids=self.scoped_dealership_ids(), pk=pk) for pk in sorted(ids)
        ]
        selectors.annotate_rows(orders)
        context = self.get_serializer_context()
        return Response({"orders": CustomerOrderDetailSerializer(orders, many=True, context=context).data})

    @extend_schema(
        summary="Place several «Неразмещён» orders as one supplier order, all or nothing (issue 15 item 6, R1, R4)",
        request=PlaceBatchSerializer,
        responses=_responses(BatchResultSerializer),
    )
    @action(detail=False, methods=["post"], url_path="place-batch")
    def place_batch(self, request):
        data = self.action_input(PlaceBatchSerializer)
        placed = services.customer_order_place_batch(
            actor=request.user,
            dealership=self.write_dealership(),
            orders=data["orders"],
            supplier=data["supplier"],
            supplier_order_number=data["supplier_order_number"],
            expected_at=data["expected_at"],
            long_term_agreed=data.get("long_term_agreed"),
            purchase_prices={row["line"]: row["purchase_price"] for row in data["purchase_prices"]},
        )
        return self._read_many([order.pk for order in placed])

    @extend_schema(
        summary="Receive one supplier delivery against all its orders, all or nothing (issue 15 item 6, R2)",
        request=ReceiveBatchSerializer,
        responses=_responses(BatchResultSerializer),
    )
    @action(detail=False, methods=["post"], url_path="receive-batch")
    def receive_batch(self, request):
        data = self.action_input(ReceiveBatchSerializer)
        receipts = services.customer_order_receive_batch(
            actor=request.user,
            dealership=self.write_dealership(),
            supplier=data["supplier"],
            supplier_order_number=data["supplier_order_number"],
            lines=[{"order": row["order"], "line": row["line"], "quantity": row["quantity"]} for row in data["lines"]],
            comment=data["comment"],
        )
        return self._read_many([receipt.order_id for receipt in receipts])

    @extend_schema(
        summary="Create the replenishment order of a low-stock alert (R27), once: 201 when created, 200 with the "
        "existing order when the alert already has one (issue 15 item 6)",
        request=ReplenishSerializer,
        responses={201: CustomerOrderDetailSerializer, **_responses(CustomerOrderDetailSerializer)},
    )
    @action(detail=False, methods=["post"], url_path="replenish")
    def replenish(self, request):
        data = self.action_input(ReplenishSerializer)
        order, created = services.customer_order_replenish(actor=request.user, alert=data["alert"])
        return self._read(order.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# -- issue 15 item 8: each supplier's record from receipts ------------------------------------------------------------
class SupplierRecordSerializer(serializers.Serializer):
    supplier = serializers.IntegerField(source="supplier_id")
    orders = serializers.IntegerField(help_text="Fully received orders placed with the supplier")
    on_time = serializers.IntegerField(help_text="Received on or before the ETA promised at placing")
    on_time_share = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    mean_promised_days = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    mean_actual_days = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    mean_delay_days = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class ClassRecordSerializer(SupplierRecordSerializer):
    abc_class = serializers.CharField(allow_blank=True, help_text="Part class A, B, C; empty: not classified yet")


class SupplierRecordWithClassesSerializer(SupplierRecordSerializer):
    # Issue 15 item 8: the same figures per part class (R28); an order with parts of two classes counts in both.
    by_class = ClassRecordSerializer(many=True)


@extend_schema(tags=["parts"])
class SupplierRecordViewSet(DealershipScopedMixin, viewsets.GenericViewSet):
    """``GET /api/suppliers/{id}/record/``: promised against actual delivery days (the supplier's orders live here,
    in orders, which parts does not import)."""

    queryset = Supplier.objects.none()
    serializer_class = SupplierRecordWithClassesSerializer
    http_method_names = ["get", "head", "options"]
    action_permissions = {"record": ["parts.view_supplier"]}

    def get_queryset(self):
        return Supplier.objects.filter(dealership_id__in=self.scoped_dealership_ids())

    @extend_schema(summary="The supplier's record: promised against actual days, on-time share, mean delay")
    @action(detail=True, methods=["get"])
    def record(self, request, pk=None):
        supplier = self.get_object()
        history = promises.supplier_history(supplier=supplier)  # read once for both (issue 19)
        record = dataclasses.asdict(selectors.supplier_record(supplier=supplier, history=history))
        record["by_class"] = [
            dataclasses.asdict(row) for row in promises.supplier_record_by_class(supplier=supplier, history=history)
        ]
        return Response(SupplierRecordWithClassesSerializer(record).data)


# -- issue 15 item 8: parts KPIs for directors --------------------------------------------------------------------
class AgeBucketSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="Age band in days: 0–90, 366+ …")
    lines = serializers.IntegerField(help_text="Stock lines (aged stock) or orders (special-order parts)")
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3)
    value = serializers.DecimalField(max_digits=18, decimal_places=2)


class PartsKpiSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    dealership_ids = serializers.ListField(child=serializers.IntegerField())
    demand_lines = serializers.IntegerField()
    from_stock_lines = serializers.IntegerField()
    fill_rate = serializers.DecimalField(
        max_digits=4, decimal_places=3, allow_null=True, help_text="Share of demand lines served from stock at once"
    )
    lost_lines = serializers.IntegerField(help_text="Cancelled counter-sale and customer-order lines")
    lost_value = serializers.DecimalField(max_digits=18, decimal_places=2)
    consumed_cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    stock_value = serializers.DecimalField(max_digits=18, decimal_places=2)
    turnover = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    turnover_annual = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    aged_stock = AgeBucketSerializer(many=True)
    special_orders = AgeBucketSerializer(many=True)


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
@extend_schema(tags=["parts"])
class PartsKpiApi(APIView):
    """``GET /api/reports/parts-kpis/``: orders.kpis over every dealership of the user (a director: all of theirs),
    or the one asked for."""

    permission_classes = [HasPerms]
    required_perms = ["parts.view_stock_value_report"]

    @extend_schema(
        summary="Parts KPIs: fill rate from stock, lost demand, turnover, aged stock, special-order parts by age",
        responses=PartsKpiSerializer,
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default: 30 days back."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD); default: today."),
            DEALERSHIP_PARAMETER,
        ],
    )
    def get(self, request):
        date_from, date_to = kpis.parse_period(
            request.query_params.get("from"), request.query_params.get("to"), today=timezone.localdate()
        )
        dealership_ids = set(dealership_ids_param(request))
        report = kpis.parts_kpis(
            dealership_ids=dealership_ids, date_from=date_from, date_to=date_to, now=timezone.now()
        )
        return Response(PartsKpiSerializer(kpis.kpis_as_dict(report)).data)
