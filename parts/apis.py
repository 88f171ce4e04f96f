from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.text import capfirst
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import filters, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from dms.core.api_base import (
    SEARCH_PARAMETER,
    ScopedCreateViewSet,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    ScopedReadOnlyViewSet,
    UserBriefSerializer,
    id_param,
    transition_permissions,
)
from dms.core.downloads import pdf_response
from dms.core.filters import FilterSet, IdFilter
from dms.core.models import Customer

from . import pdf, selectors, services, tasks
from .models import (
    Location,
    LowStockAlert,
    OldPartReturn,
    Part,
    Requisition,
    RequisitionLine,
    Reservation,
    ReturnEvidence,
    ReturnRequest,
    SalesOrder,
    SalesOrderLine,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
    Supplier,
    SupplierPrice,
    Warehouse,
)

User = get_user_model()
# Customer orders (orders app, above parts) reached through the reservation's foreign key, not an import.
CUSTOMER_ORDERS = Reservation.customer_order.field.related_model.objects.all()


def record_action(
    name: str,
    service,
    input_serializer=None,
    *,
    target: str,
    response,
    schema_request=None,
    url_path: str = "",
):
    """A POST action on one record (``…/{id}/<url_path>/``, by default the name): ``run_action`` calls ``service``
    with the record as ``target`` and the payload ``input_serializer`` validated, and answers with ``response``."""

    def handler(self, request, pk=None):
        return self.run_action(request, service, input_serializer, target=target)

    handler.__name__ = handler.__qualname__ = name
    handler = action(detail=True, methods=["post"], url_path=url_path or name)(handler)
    return extend_schema(request=schema_request or input_serializer, responses=response)(handler)


class ReservationFilter(FilterSet):
    customer_order_id = IdFilter()

    class Meta:
        model = Reservation
        fields = ["status", "part", "warehouse", "customer_order_id"]


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "dealership", "name", "code", "delivery_days", "return_days", "email", "phone", "is_active"]
        read_only_fields = ["dealership"]
        validators = []


class SupplierPriceSerializer(serializers.ModelSerializer):
    supplier = ScopedPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    part_number = serializers.CharField(source="part.number", read_only=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)

    class Meta:
        model = SupplierPrice
        fields = ["id", "dealership", "supplier", "supplier_name", "part", "part_number", "price", "valid_from"]
        read_only_fields = ["dealership"]
        validators = []  # the service checks the (supplier, part, valid_from) uniqueness with a clear message


class PartSerializer(serializers.ModelSerializer):
    default_supplier = ScopedPrimaryKeyRelatedField(queryset=Supplier.objects.all(), required=False, allow_null=True)
    abc_class = serializers.CharField(read_only=True, help_text="A, B, C or empty (not classified yet)")

    class Meta:
        model = Part
        fields = [
            "id",
            "dealership",
            "number",
            "barcode",
            "name",
            "price",
            "unit",
            "default_supplier",
            "is_active",
            "abc_class",
            "abc_consumption_value",
            "abc_classified_at",
        ]
        read_only_fields = ["dealership", "abc_class", "abc_consumption_value", "abc_classified_at"]
        validators = []


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["parts"])
class PartViewSet(ScopedModelViewSet):
    lean_list = True
    serializer_class = PartSerializer
    queryset = Part.objects.none()
    filterset_fields = ["unit", "default_supplier", "is_active", "abc_class"]
    ordering_fields = ["number", "name", "price", "abc_consumption_value"]
    action_permissions = {"classify_abc": ["parts.run_abc_classification"]}
    create_service = services.part_create
    update_service, update_kwarg = services.part_update, "part"

    def get_queryset(self):
        return selectors.part_list(dealership_ids=self.scoped_dealership_ids(), search=self.search_param())

    @extend_schema(
        request=None,
        responses={202: inline_serializer("AbcStarted", fields={"detail": serializers.CharField()})},
    )
    @action(detail=False, methods=["post"], url_path="classify-abc")
    def classify_abc(self, request):
        """R28 on demand: recompute the ABC classes of the dealership's parts (the monthly job, now)."""
        dealership = self.write_dealership()
        tasks.classify_abc.delay(dealership.pk, request.user.pk)
        return Response({"detail": "started"}, status=202)


@extend_schema(tags=["parts"])
class SupplierViewSet(ScopedModelViewSet):
    serializer_class = SupplierSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = Supplier.objects.none()
    filterset_fields = ["is_active"]
    ordering_fields = ["name", "delivery_days"]
    create_service = services.supplier_create
    update_service, update_kwarg = services.supplier_update, "supplier"

    def get_queryset(self):
        return selectors.supplier_list(dealership_ids=self.scoped_dealership_ids())


@extend_schema(tags=["parts"])
class SupplierPriceViewSet(ScopedModelViewSet):
    """Purchase prices per supplier and part from a date (issue 15 item 5). ``?supplier=`` and ``?part=`` filter."""

    serializer_class = SupplierPriceSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = SupplierPrice.objects.none()
    filterset_fields = ["supplier", "part", "valid_from"]
    ordering_fields = ["valid_from", "price"]
    create_service = services.supplier_price_create
    update_service, update_kwarg = services.supplier_price_update, "supplier_price"

    def get_queryset(self):
        return selectors.supplier_price_list(dealership_ids=self.scoped_dealership_ids())


# ---------------------------------------------------------------------------------------------------------------------
# Warehouse and stock


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "dealership", "code", "name", "is_default", "is_active"]
        read_only_fields = ["dealership"]
        validators = []


class LocationSerializer(serializers.ModelSerializer):
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all())

    class Meta:
        model = Location
        fields = ["id", "dealership", "warehouse", "code", "description", "is_active"]
        read_only_fields = ["dealership"]
        validators = []


class StockBalanceSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    part_name = serializers.CharField(source="part.name", read_only=True)
    abc_class = serializers.CharField(source="part.abc_class", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    location = ScopedPrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    available = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    effective_alert_level = serializers.SerializerMethodField()

    class Meta:
        model = StockBalance
        fields = [
            "id",
            "dealership",
            "part",
            "part_number",
            "part_name",
            "abc_class",
            "warehouse",
            "warehouse_code",
            "location",
            "on_hand",
            "reserved",
            "available",
            "average_cost",
            "alert_level",
            "effective_alert_level",
            "last_counted_at",
        ]
        read_only_fields = [
            "dealership",
            "part",
            "warehouse",
            "on_hand",
            "reserved",
            "average_cost",
            "last_counted_at",
        ]

    def get_effective_alert_level(self, obj) -> str:
        level = getattr(obj, "effective_alert_level", None)
        return str(level if level is not None else selectors.effective_alert_level(obj))


class StockMovementSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    actor = UserBriefSerializer(read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "dealership",
            "part",
            "part_number",
            "warehouse",
            "warehouse_code",
            "kind",
            "quantity",
            "unit_cost",
            "on_hand_after",
            "occurred_at",
            "actor",
            "reference",
            "reason",
            "reservation",
            "work_order_ref",
            "work_order_id",
            "job_id",
        ]
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    # The foreign key's id under the name the API has always used (issue 13: the column became a foreign key).
    customer_order_id = serializers.IntegerField(
        read_only=True, allow_null=True, label=capfirst(Reservation._meta.get_field("customer_order").verbose_name)
    )

    class Meta:
        model = Reservation
        fields = [
            "id",
            "dealership",
            "part",
            "warehouse",
            "quantity",
            "issued_quantity",
            "status",
            "reference",
            "customer_order_id",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["dealership", "issued_quantity", "status", "customer_order_id", "created_by", "created_at"]


class LowStockAlertSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = LowStockAlert
        fields = [
            "id",
            "dealership",
            "part",
            "part_number",
            "warehouse",
            "warehouse_code",
            "status",
            "alert_level",
            "on_hand",
            "available",
            "suggested_quantity",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class ReceiveInputSerializer(serializers.Serializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit_cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    # Issue 12 item 6: an order of the dealership the receipt acts in; the service gets its id.
    reserve_for_order_id = ScopedPrimaryKeyRelatedField(
        queryset=CUSTOMER_ORDERS, required=False, allow_null=True, help_text="Id of a customer order"
    )

    def validate_reserve_for_order_id(self, order) -> int | None:
        return order.pk if order is not None else None


class IssueInputSerializer(serializers.Serializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    reservation = ScopedPrimaryKeyRelatedField(queryset=Reservation.objects.all(), required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    reference = serializers.CharField(max_length=100)
    reason = serializers.ChoiceField(choices=list(services.ISSUE_REASONS), default="work_order")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class TransferInputSerializer(serializers.Serializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    from_warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    to_warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


@extend_schema(tags=["stock"])
class WarehouseViewSet(ScopedModelViewSet):
    serializer_class = WarehouseSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = Warehouse.objects.none()
    filterset_fields = ["is_active", "is_default"]
    ordering_fields = ["code", "name"]
    create_service = services.warehouse_create
    update_service, update_kwarg = services.warehouse_update, "warehouse"

    def get_queryset(self):
        return selectors.warehouse_list(dealership_ids=self.scoped_dealership_ids())


@extend_schema(tags=["stock"])
class LocationViewSet(ScopedModelViewSet):
    serializer_class = LocationSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = Location.objects.none()
    filterset_fields = ["warehouse", "is_active"]
    create_service = services.location_create
    # Issue 15 item 9: the same service as the bins page and the admin.
    update_service, update_kwarg = services.location_update, "location"

    def get_queryset(self):
        return selectors.location_list(dealership_ids=self.scoped_dealership_ids())


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["stock"])
class StockBalanceViewSet(ScopedReadOnlyViewSet, mixins.UpdateModelMixin):
    """Stock per part and warehouse (read); PATCH sets the bin and the alert level. ``?below_alert=1`` lists the
    balances under their alert level (R27); ``?abc_class=A`` filters by class (R28)."""

    serializer_class = StockBalanceSerializer
    queryset = StockBalance.objects.none()
    filter_backends = [filters.OrderingFilter]
    update_service, update_kwarg = services.balance_update, "balance"
    ordering_fields = ["on_hand", "reserved", "average_cost"]
    action_permissions = {
        "receive": ["parts.add_stockmovement"],
        "issue": ["parts.add_stockmovement"],
        "transfer": ["parts.add_stockmovement"],
    }

    def get_queryset(self):
        params = self.request.query_params
        return selectors.stock_list(
            dealership_ids=self.scoped_dealership_ids(),
            warehouse_id=id_param(self.request, "warehouse"),
            search=params.get("search", ""),
            abc_class=params.get("abc_class", ""),
            below_alert=params.get("below_alert") in ("1", "true"),
        )

    def _post_movement(self, request, service, serializer_class):
        """A stock movement in the dealership the write acts in, answered with the ledger row(s) (201)."""
        data = self.action_input(serializer_class)
        result = service(actor=request.user, dealership=self.write_dealership(), **data)
        return self.respond(result, status_code=201, serializer_class=StockMovementSerializer)

    @extend_schema(request=ReceiveInputSerializer, responses={201: StockMovementSerializer})
    @action(detail=False, methods=["post"])
    def receive(self, request):
        return self._post_movement(request, services.stock_receive, ReceiveInputSerializer)

    @extend_schema(request=IssueInputSerializer, responses={201: StockMovementSerializer})
    @action(detail=False, methods=["post"])
    def issue(self, request):
        return self._post_movement(request, services.stock_issue, IssueInputSerializer)

    @extend_schema(request=TransferInputSerializer, responses=StockMovementSerializer(many=True))
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        return self._post_movement(request, services.stock_transfer, TransferInputSerializer)


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["stock"])
class StockMovementViewSet(ScopedReadOnlyViewSet):
    """The stock ledger (read only): every receipt, issue, sale, return, transfer, adjustment and write-off."""

    serializer_class = StockMovementSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = StockMovement.objects.none()
    filter_backends = [filters.OrderingFilter]
    ordering_fields = ["occurred_at", "quantity"]

    def get_queryset(self):
        params = self.request.query_params
        return selectors.movement_list(
            dealership_ids=self.scoped_dealership_ids(),
            part_id=id_param(self.request, "part"),
            warehouse_id=id_param(self.request, "warehouse"),
            kind=params.get("kind", ""),
            search=params.get("search", ""),
            work_order_ref=params.get("work_order", ""),
        )


@extend_schema(tags=["stock"])
class ReservationViewSet(ScopedCreateViewSet):
    serializer_class = ReservationSerializer
    queryset = Reservation.objects.none()
    filterset_class = ReservationFilter
    action_permissions = {"release": ["parts.change_reservation"]}
    create_service = services.stock_reserve

    def get_queryset(self):
        return selectors.reservation_list(dealership_ids=self.scoped_dealership_ids())

    release = record_action(
        "release", services.reservation_release, target="reservation", response=ReservationSerializer
    )


@extend_schema(tags=["stock"])
class LowStockAlertViewSet(ScopedReadOnlyViewSet):
    serializer_class = LowStockAlertSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = LowStockAlert.objects.none()
    filterset_fields = ["status", "warehouse", "part"]

    def get_queryset(self):
        return selectors.alert_list(dealership_ids=self.scoped_dealership_ids(), status="")


# ---------------------------------------------------------------------------------------------------------------------
# R26: stock counts


class StockCountLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True, default="")
    variance = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)

    class Meta:
        model = StockCountLine
        fields = [
            "id",
            "part",
            "part_number",
            "location_code",
            "expected_quantity",
            "counted_quantity",
            "variance",
            "reason",
            "adjustment",
        ]
        read_only_fields = fields


class StockCountSerializer(serializers.ModelSerializer):
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    location = ScopedPrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    committee = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    lines = StockCountLineSerializer(many=True, read_only=True)

    class Meta:
        model = StockCount
        fields = [
            "id",
            "dealership",
            "kind",
            "scope",
            "warehouse",
            "location",
            "abc_class",
            "committee",
            "note",
            "status",
            "started_by",
            "started_at",
            "submitted_at",
            "approved_by",
            "approved_at",
            "lines",
        ]
        read_only_fields = [
            "dealership",
            "status",
            "started_by",
            "started_at",
            "submitted_at",
            "approved_by",
            "approved_at",
        ]


class CountEntrySerializer(serializers.Serializer):
    line = serializers.IntegerField()
    counted = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CountRecordSerializer(serializers.Serializer):
    entries = CountEntrySerializer(many=True)


@extend_schema(tags=["stock counts"])
class StockCountViewSet(ScopedCreateViewSet):
    """R26: start a count, record counted quantities, submit (variance report), approve (adjustment rows)."""

    serializer_class = StockCountSerializer
    queryset = StockCount.objects.none()
    filterset_fields = ["status", "kind", "warehouse"]
    action_permissions = {**transition_permissions(StockCount), "record": ["parts.change_stockcount"]}
    create_service = services.stock_count_start

    def get_queryset(self):
        return selectors.count_list(dealership_ids=self.scoped_dealership_ids()).prefetch_related(
            "lines__part", "lines__location", "committee"
        )

    record = record_action(
        "record", services.stock_count_record, CountRecordSerializer, target="count", response=StockCountSerializer
    )

    submit = record_action("submit", services.stock_count_submit, target="count", response=StockCountSerializer)

    approve = record_action("approve", services.stock_count_approve, target="count", response=StockCountSerializer)

    reopen = record_action("reopen", services.stock_count_reopen, target="count", response=StockCountSerializer)

    cancel = record_action("cancel", services.stock_count_cancel, target="count", response=StockCountSerializer)


# ---------------------------------------------------------------------------------------------------------------------
# R20, R21: sales orders


class SalesOrderLineSerializer(serializers.ModelSerializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    part_number = serializers.CharField(source="part.number", read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    # Issue 19: the list's items come from rows (dms.core.lean_items): the line's total by the model's own formula.
    lean_fields = {"total": lambda row, item: SalesOrderLine.total.fget(SimpleNamespace(**row))}

    class Meta:
        model = SalesOrderLine
        fields = ["id", "part", "part_number", "quantity", "unit_price", "total", "available_at_quote", "reservation"]
        read_only_fields = ["available_at_quote", "reservation"]


class SalesOrderSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    lines = SalesOrderLineSerializer(many=True, required=False)
    manager = UserBriefSerializer(read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    # Issue 19: in a list built from rows, the order's total is its lines' totals summed, as SalesOrder.total does.
    lean_fields = {"total": lambda row, item: sum((Decimal(line["total"]) for line in item["lines"]), Decimal("0.00"))}

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "dealership",
            "number",
            "status",
            "customer",
            "manager",
            "channel",
            "payment_method",
            "warehouse",
            "need_description",
            "delivery_days",
            "delivery_method",
            "delivery_address",
            "invoice_number",
            "invoiced_at",
            "paid_at",
            "paid_amount",
            "payment_reference",
            "carrier",
            "tracking_number",
            "shipped_at",
            "customer_notified_at",
            "cancel_reason",
            "lines",
            "total",
            "created_at",
        ]
        read_only_fields = [f for f in fields if f not in services.ORDER_FIELDS and f != "lines"]


class QuoteInputSerializer(serializers.Serializer):
    delivery_days = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class PaymentInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ShipInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["sales orders"])
class SalesOrderViewSet(ScopedCreateViewSet):
    """R20/R21: inquiry → confirmed need → quote → order → invoice → payment → shipment (customer notified)."""

    serializer_class = SalesOrderSerializer
    queryset = SalesOrder.objects.none()
    lean_list = True
    filterset_fields = ["status", "customer", "payment_method"]
    action_permissions = {
        **transition_permissions(SalesOrder),
        "add_line": ["parts.change_salesorder"],
        "invoice_pdf": ["parts.view_salesorder"],
    }

    def get_queryset(self):
        return selectors.sales_order_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).prefetch_related("lines__part")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.sales_order_create(
            actor=self.request.user, dealership=self.write_dealership(), lines=data.pop("lines", []), **data
        )

    add_line = record_action(
        "add_line",
        services.sales_order_add_line,
        SalesOrderLineSerializer,
        target="order",
        response=SalesOrderSerializer,
        url_path="add-line",
    )

    confirm_need = record_action(
        "confirm_need",
        services.sales_order_confirm_need,
        target="order",
        response=SalesOrderSerializer,
        url_path="confirm-need",
    )

    quote = record_action(
        "quote", services.sales_order_quote, QuoteInputSerializer, target="order", response=SalesOrderSerializer
    )

    place = record_action("place", services.sales_order_place, target="order", response=SalesOrderSerializer)

    invoice = record_action("invoice", services.sales_order_invoice, target="order", response=SalesOrderSerializer)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], url_path="invoice-pdf")
    def invoice_pdf(self, request, pk=None):
        order = self.get_object()
        if not order.invoice_number:
            raise Http404
        return pdf_response(pdf.invoice_pdf(order), f"{order.invoice_number}.pdf")

    record_payment = record_action(
        "record_payment",
        services.sales_order_record_payment,
        PaymentInputSerializer,
        target="order",
        response=SalesOrderSerializer,
        url_path="record-payment",
    )

    ship = record_action(
        "ship", services.sales_order_ship, ShipInputSerializer, target="order", response=SalesOrderSerializer
    )

    cancel = record_action(
        "cancel", services.sales_order_cancel, ReasonInputSerializer, target="order", response=SalesOrderSerializer
    )


# ---------------------------------------------------------------------------------------------------------------------
# R29: returns and exchanges


class ReturnEvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnEvidence
        fields = ["id", "file", "description", "uploaded_by", "uploaded_at"]
        read_only_fields = ["uploaded_by", "uploaded_at"]


class ReturnRequestSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    sales_order = ScopedPrimaryKeyRelatedField(queryset=SalesOrder.objects.all(), required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    evidence = ReturnEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "dealership",
            "status",
            "customer",
            "sales_order",
            "part",
            "quantity",
            "received_on",
            "requested_on",
            "deadline",
            "reason",
            "resolution",
            "description",
            "inspection_result",
            "defect_confirmed",
            "decision_reason",
            "freight_payer",
            "freight_cost",
            "completed_at",
            "evidence",
            "created_at",
        ]
        read_only_fields = [
            "dealership",
            "status",
            "requested_on",
            "deadline",
            "inspection_result",
            "defect_confirmed",
            "decision_reason",
            "freight_payer",
            "freight_cost",
            "completed_at",
            "created_at",
        ]


class InspectionInputSerializer(serializers.Serializer):
    defect_confirmed = serializers.BooleanField()
    result = serializers.CharField()


class DecisionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    customer_at_fault = serializers.BooleanField(required=False, default=False)
    freight_cost = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, default=0, min_value=0)


class EvidenceInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@extend_schema(tags=["returns"])
class ReturnRequestViewSet(ScopedCreateViewSet):
    """R29: request (within the deadline, with evidence) → inspection (quality) → approve/refuse → complete."""

    serializer_class = ReturnRequestSerializer
    queryset = ReturnRequest.objects.none()
    filterset_fields = ["status", "reason", "customer", "sales_order"]
    action_permissions = {
        **transition_permissions(ReturnRequest),
        "evidence": ["parts.change_returnrequest"],
        "inspection": ["parts.inspect_returnrequest"],
    }

    create_service = services.return_request_create

    def get_queryset(self):
        return selectors.return_list(dealership_ids=self.scoped_dealership_ids()).prefetch_related("evidence")

    evidence = record_action(
        "evidence",
        services.return_add_evidence,
        EvidenceInputSerializer,
        target="request",
        response=ReturnRequestSerializer,
        schema_request={"multipart/form-data": EvidenceInputSerializer},
    )

    send_to_inspection = record_action(
        "send_to_inspection",
        services.return_send_to_inspection,
        target="request",
        response=ReturnRequestSerializer,
        url_path="send-to-inspection",
    )

    inspection = record_action(
        "inspection",
        services.return_record_inspection,
        InspectionInputSerializer,
        target="request",
        response=ReturnRequestSerializer,
    )

    approve = record_action(
        "approve", services.return_approve, DecisionInputSerializer, target="request", response=ReturnRequestSerializer
    )

    refuse = record_action(
        "refuse", services.return_refuse, ReasonInputSerializer, target="request", response=ReturnRequestSerializer
    )

    complete = record_action("complete", services.return_complete, target="request", response=ReturnRequestSerializer)


# ---------------------------------------------------------------------------------------------------------------------
# R32: requisitions and old parts


class RequisitionLineSerializer(serializers.ModelSerializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    part_number = serializers.CharField(source="part.number", read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)

    class Meta:
        model = RequisitionLine
        fields = ["id", "part", "part_number", "quantity", "movement"]
        read_only_fields = ["movement"]


class RequisitionSerializer(serializers.ModelSerializer):
    lines = RequisitionLineSerializer(many=True)
    warehouse = ScopedPrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    requested_by = UserBriefSerializer(read_only=True)
    approved_by = UserBriefSerializer(read_only=True)
    parts_cost = serializers.SerializerMethodField()
    # Issue 15 item 2 (R32): the work order and job (service app) by id, resolved inside the acting dealership by
    # the service (400 for a missing or foreign work order, or a job not on it); work_order_ref is now its number.
    work_order_id = serializers.IntegerField()
    job_id = serializers.IntegerField(required=False, allow_null=True, default=None)

    class Meta:
        model = Requisition
        fields = [
            "id",
            "dealership",
            "status",
            "work_order_id",
            "job_id",
            "work_order_ref",
            "work_order_line",
            "technician",
            "warehouse",
            "note",
            "lines",
            "requested_by",
            "approved_by",
            "approved_at",
            "issued_at",
            "reject_reason",
            "parts_cost",
            "created_at",
        ]
        read_only_fields = [
            "dealership",
            "status",
            "work_order_ref",
            "requested_by",
            "approved_by",
            "approved_at",
            "issued_at",
            "reject_reason",
            "created_at",
        ]

    def get_parts_cost(self, obj) -> str:
        return str(selectors.requisition_parts_cost_of(obj))


class OldPartReturnSerializer(serializers.ModelSerializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())
    requisition = ScopedPrimaryKeyRelatedField(queryset=Requisition.objects.all(), required=False, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    work_order_ref = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")

    class Meta:
        model = OldPartReturn
        fields = [
            "id",
            "dealership",
            "requisition",
            "work_order_ref",
            "part",
            "quantity",
            "condition",
            "note",
            "registered_by",
            "created_at",
        ]
        read_only_fields = ["dealership", "registered_by", "created_at"]


@extend_schema(tags=["requisitions"])
class RequisitionViewSet(ScopedCreateViewSet):
    """R32: a technician's requisition for a work order, approved by a supervisor (not the requester), issued by
    the storekeeper; ``parts_cost`` is the job's parts cost from the ledger."""

    serializer_class = RequisitionSerializer
    queryset = Requisition.objects.none()
    filterset_fields = ["status", "work_order_id", "job_id", "work_order_ref"]
    action_permissions = transition_permissions(Requisition)

    create_service = services.requisition_create

    def get_queryset(self):
        qs = selectors.requisition_list(dealership_ids=self.scoped_dealership_ids()).prefetch_related("lines__part")
        return selectors.with_requisition_parts_cost(qs)

    approve = record_action(
        "approve", services.requisition_approve, target="requisition", response=RequisitionSerializer
    )

    reject = record_action(
        "reject",
        services.requisition_reject,
        ReasonInputSerializer,
        target="requisition",
        response=RequisitionSerializer,
    )

    issue = record_action("issue", services.requisition_issue, target="requisition", response=RequisitionSerializer)


@extend_schema(tags=["requisitions"])
class OldPartReturnViewSet(ScopedCreateViewSet):
    serializer_class = OldPartReturnSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = OldPartReturn.objects.none()
    filterset_fields = ["condition", "work_order_ref", "requisition"]
    create_service = services.old_part_register

    def get_queryset(self):
        return selectors.old_part_list(dealership_ids=self.scoped_dealership_ids())
