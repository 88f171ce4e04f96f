"""REST API for complaints, goodwill and warranty claims with their transitions (same services as the pages)."""

import dataclasses
import datetime
import zoneinfo
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiTypes,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dms.core.api_base import (
    DEALERSHIP_PARAMETER,
    SEARCH_PARAMETER,
    ScopedCreateViewSet,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    ScopedReadOnlyViewSet,
    UserBriefSerializer,
    dealership_ids_param,
    transition_permissions,
)
from dms.core.db_router import reads_from_replica
from dms.core.models import Customer, Dealership, Vehicle
from dms.core.parsers import BoundedJSONParser
from dms.core.permissions import HasPerms
from dms.core.security import client_address
from dms.core.tenancy import report_today, resolve_dealership
from parts.models import Part
from service import efficiency

from . import kpi, selectors, services, staff_kpi
from .models import (
    SCORE_MAX,
    SCORE_MIN,
    AppraisalPeriod,
    AppraisalScore,
    Attachment,
    AttachmentKind,
    Complaint,
    ComplaintCategory,
    ComplaintNote,
    Department,
    GoodwillClaim,
    PartInstruction,
    QuarantinedPart,
    ScoreSource,
    StaffAppraisal,
    WarrantyClaim,
    WarrantyClaimPart,
    complaint_is_overdue,
)

User = get_user_model()
WORK_ORDER_ID_MAX = 2147483647  # the bound the API documented for the id before it became a foreign key


# ----------------------------------------------------------------------------------------------------------------
# serializers
# ----------------------------------------------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    # Issue 19: in a list built from rows (dms.core.lean_items), the download URL by the model's own method.
    lean_fields = {"url": lambda row, item: Attachment.get_absolute_url(SimpleNamespace(pk=row["pk"]))}

    class Meta:
        model = Attachment
        fields = ["id", "kind", "original_name", "content_type", "size", "description", "created_at", "url"]

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()


class AttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField()
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ComplaintNoteSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True)

    class Meta:
        model = ComplaintNote
        fields = ["id", "kind", "text", "author", "created_at"]
        read_only_fields = ["author", "created_at"]


class ComplaintSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    vehicle = ScopedPrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    category = serializers.CharField(read_only=True, help_text="Empty until classified.")
    department = serializers.CharField(read_only=True, help_text="Empty until assigned.")
    notes = ComplaintNoteSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    received_at = serializers.DateTimeField(required=False)
    is_overdue = serializers.SerializerMethodField()
    # Issue 19: in a list built from rows, R33's overdue flag by the model's formula, in the dealership's zone.
    lean_fields = {"is_overdue": (("dealership__time_zone",), lambda row, item: _row_is_overdue(row))}

    class Meta:
        model = Complaint
        fields = [
            "id",
            "dealership",
            "number",
            "status",
            *services.COMPLAINT_INTAKE_FIELDS[:9],  # channel … description
            "category",
            "department",
            "assignee",
            "deadline",
            "cause",
            "responsibility",
            "solution",
            "closing_report",
            "satisfaction",
            "improvement",
            "closed_at",
            "overdue_flagged_at",
            "escalated_at",
            "is_overdue",
            *services.COMPLAINT_INTAKE_FIELDS[9:],
            "contacts_notified_at",
            "notes",
            "attachments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "dealership",
            "number",
            "status",
            "category",
            "department",
            "deadline",
            "cause",
            "responsibility",
            "solution",
            "closing_report",
            "satisfaction",
            "improvement",
            "closed_at",
            "overdue_flagged_at",
            "escalated_at",
            "contacts_notified_at",
            "created_at",
            "updated_at",
        ]

    def get_is_overdue(self, obj) -> bool:
        return obj.is_overdue()


def _row_is_overdue(row: dict) -> bool:
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(row["dealership__time_zone"])).date()
    return complaint_is_overdue(status=row["status"], deadline=row["deadline"], today=today)


class AssignSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    department = serializers.ChoiceField(choices=Department.choices)
    assignee = ScopedPrimaryKeyRelatedField(queryset=User.objects.all())
    deadline = serializers.DateField()


class SolutionSerializer(serializers.Serializer):
    cause = serializers.CharField()
    responsibility = serializers.CharField(required=False, allow_blank=True, default="")
    solution = serializers.CharField()


class CloseSerializer(serializers.Serializer):
    closing_report = serializers.CharField(allow_blank=True)
    satisfaction = serializers.IntegerField(required=False, allow_null=True)
    improvement = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class RejectSerializer(ReasonSerializer):
    part_instruction = serializers.ChoiceField(choices=PartInstruction.choices)


class PaymentSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    reference = serializers.CharField(allow_blank=True)


class ClaimsConfirmSerializer(serializers.Serializer):
    part_instruction = serializers.ChoiceField(choices=PartInstruction.choices)
    approved_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False)


class GoodwillClaimSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    vehicle = ScopedPrimaryKeyRelatedField(queryset=Vehicle.objects.all())
    complaint = ScopedPrimaryKeyRelatedField(queryset=Complaint.objects.all(), required=False, allow_null=True)
    # The work order's id (a foreign key since issue 13): the service resolves it inside the acting dealership.
    work_order_id = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=WORK_ORDER_ID_MAX)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = GoodwillClaim
        fields = [
            "id",
            "dealership",
            "number",
            "status",
            *services.GOODWILL_FIELDS,
            "submitted_at",
            "fmc_confirmed_at",
            "cac_confirmed_at",
            "paid_at",
            "paid_amount",
            "payment_reference",
            "decision_reason",
            "attachments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "dealership",
            "number",
            "status",
            "submitted_at",
            "fmc_confirmed_at",
            "cac_confirmed_at",
            "paid_at",
            "paid_amount",
            "payment_reference",
            "decision_reason",
            "created_at",
            "updated_at",
        ]


class WarrantyPartSerializer(serializers.ModelSerializer):
    part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all())

    class Meta:
        model = WarrantyClaimPart
        fields = ["part", "quantity", "unit_price", "is_special"]
        read_only_fields = ["unit_price"]


# What the checks and the decisions write on a warranty claim (read-only in the API).
WARRANTY_OUTCOME_FIELDS = (
    "check_results",
    "checked_at",
    "submitted_at",
    "fmc_confirmed_at",
    "confirmed_at",
    "approved_amount",
    "part_instruction",
    "paid_at",
    "paid_amount",
    "payment_reference",
    "rejected_at",
    "decision_reason",
    "return_count",
)


class WarrantyClaimSerializer(serializers.ModelSerializer):
    causal_part = ScopedPrimaryKeyRelatedField(queryset=Part.objects.all(), required=False, allow_null=True)
    parts = WarrantyPartSerializer(many=True, required=False, source="part_lines")
    # Null only for a claim whose work order was gone before the link became a foreign key (issue 13).
    work_order_id = serializers.IntegerField(allow_null=True, min_value=0, max_value=WORK_ORDER_ID_MAX)
    attachments = AttachmentSerializer(many=True, read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    quarantine_location = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=QuarantinedPart._meta.get_field("location").max_length,  # its column (issue 12 item 5)
    )
    quarantined_part = serializers.SerializerMethodField()
    part_instruction = serializers.CharField(read_only=True, help_text="scrap / return; empty until decided.")

    class Meta:
        model = WarrantyClaim
        fields = [
            "id",
            "dealership",
            "number",
            "status",
            "kind",
            "work_order_id",
            "work_order_number",
            "job_id",
            "job_description",
            "customer",
            "vehicle",
            *services.WARRANTY_FIELDS[1:],
            "parts",
            "total",
            *WARRANTY_OUTCOME_FIELDS,
            "quarantine_location",
            "quarantined_part",
            "attachments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "dealership",
            "number",
            "status",
            "work_order_number",
            "job_description",
            "customer",
            "vehicle",
            "causal_part_number",
            "labour_rate",
            *WARRANTY_OUTCOME_FIELDS,
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"mileage": {"required": False}}

    def get_quarantined_part(self, obj) -> dict | None:
        # the reverse one-to-one, read with the list's rows (select_related): no query per claim (issue 19)
        try:
            held = obj.quarantined_part
        except QuarantinedPart.DoesNotExist:
            return None
        return {"id": held.pk, "serial_number": held.serial_number, "status": held.status, "location": held.location}


class QuarantinedPartSerializer(serializers.ModelSerializer):
    claim_number = serializers.CharField(source="claim.number", read_only=True)

    class Meta:
        model = QuarantinedPart
        fields = [
            "id",
            "claim",
            "claim_number",
            "part_number",
            "serial_number",
            "location",
            "status",
            "disposed_at",
            "shipment_reference",
        ]


class DisposeSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=PartInstruction.choices)
    reference = serializers.CharField(required=False, allow_blank=True, default="")


class PublicComplaintSerializer(serializers.Serializer):
    dealership = serializers.SlugField()
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    vin = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=5000)
    website = serializers.CharField(required=False, allow_blank=True, default="")  # honeypot

    def validate(self, data):
        if not data.get("phone") and not data.get("email"):
            raise serializers.ValidationError("Leave a phone number or an e-mail so that we can reply.")
        return data


# ----------------------------------------------------------------------------------------------------------------
# viewsets
# ----------------------------------------------------------------------------------------------------------------


# The attachment upload of complaints and claims (one action, three viewsets).
ATTACH_SCHEMA = extend_schema(
    request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer}
)


def _step(name: str, service, serializer_class=None, *, responses, **answer):
    """One POST action of a record (``/{id}/<name with dashes>/``): the payload through ``serializer_class``, then
    the service with the record as its ``target`` keyword; the answer (``responses``) is the record unless
    ``answer`` says else."""

    def step(self, request, pk=None):
        return self.run_action(request, service, serializer_class, target=self.target, **answer)

    step.__name__ = name
    url_path = {"return_for_correction": "return"}.get(name, name.replace("_", "-"))
    return extend_schema(request=serializer_class, responses=responses)(
        action(detail=True, methods=["post"], url_path=url_path)(step)
    )


_complaint_step = partial(_step, responses=ComplaintSerializer)
_goodwill_step = partial(_step, responses=GoodwillClaimSerializer)
_warranty_step = partial(_step, responses=WarrantyClaimSerializer)


class _ClaimsViewSet(ScopedModelViewSet):
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    target = ""  # the services' keyword for the record

    @ATTACH_SCHEMA
    @action(detail=True, methods=["post"])
    def attachments(self, request, pk=None):
        return self.run_action(
            request,
            services.attachment_add,
            AttachmentUploadSerializer,
            target="owner",
            status_code=status.HTTP_201_CREATED,
            response_serializer=AttachmentSerializer,
        )


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["complaints"])
class ComplaintViewSet(_ClaimsViewSet):
    serializer_class = ComplaintSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = Complaint.objects.none()
    filterset_fields = ["status", "channel", "category", "department", "severity", "assignee"]
    ordering_fields = ["received_at", "deadline", "number"]
    action_permissions = {
        **transition_permissions(Complaint),
        "notes": ["claims.investigate_complaint"],
        "attachments": ["claims.investigate_complaint"],
    }
    create_service = services.complaint_register
    update_service = services.complaint_update
    update_kwarg = target = "complaint"

    def get_queryset(self):
        return selectors.complaint_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).prefetch_related("notes__author", "attachments")

    assign = _complaint_step("assign", services.complaint_assign, AssignSerializer)
    start_investigation = _complaint_step("start_investigation", services.complaint_start_investigation)
    notes = _step(
        "notes",
        services.complaint_add_note,
        ComplaintNoteSerializer,
        responses={201: ComplaintNoteSerializer},
        status_code=status.HTTP_201_CREATED,
        response_serializer=ComplaintNoteSerializer,
    )
    agree_solution = _complaint_step("agree_solution", services.complaint_agree_solution, SolutionSerializer)
    close = _complaint_step("close", services.complaint_close, CloseSerializer)


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["goodwill claims"])
class GoodwillClaimViewSet(_ClaimsViewSet):
    serializer_class = GoodwillClaimSerializer
    lean_list = True  # issue 19: the list's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = GoodwillClaim.objects.none()
    filterset_fields = ["status", "customer", "vehicle", "complaint"]
    ordering_fields = ["created_at", "number"]
    action_permissions = {**transition_permissions(GoodwillClaim), "attachments": ["claims.change_goodwillclaim"]}
    create_service = services.goodwill_claim_create
    update_service = services.goodwill_claim_update
    update_kwarg = target = "claim"

    def get_queryset(self):
        qs = selectors.goodwill_claim_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).prefetch_related("attachments")
        # the items name customer, vehicle and dealership by id: nothing is read with the list's claims (issue 19)
        return qs.select_related(None) if self.action == "list" else qs

    submit = _goodwill_step("submit", services.goodwill_claim_submit)
    fmc_confirm = _goodwill_step("fmc_confirm", services.goodwill_claim_fmc_confirm)
    cac_confirm = _goodwill_step("cac_confirm", services.goodwill_claim_cac_confirm)
    record_payment = _goodwill_step("record_payment", services.goodwill_claim_record_payment, PaymentSerializer)
    return_for_correction = _goodwill_step("return_for_correction", services.goodwill_claim_return, ReasonSerializer)
    reject = _goodwill_step("reject", services.goodwill_claim_reject, ReasonSerializer)


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["warranty claims"])
class WarrantyClaimViewSet(_ClaimsViewSet):
    serializer_class = WarrantyClaimSerializer
    queryset = WarrantyClaim.objects.none()
    filterset_fields = ["status", "kind", "vehicle", "work_order_id"]
    ordering_fields = ["created_at", "number", "submitted_at"]
    action_permissions = {**transition_permissions(WarrantyClaim), "attachments": ["claims.change_warrantyclaim"]}
    target = "claim"

    def get_queryset(self):
        qs = selectors.warranty_claim_list(dealership_ids=self.scoped_dealership_ids(), search=self.search_param())
        if self.action == "list":
            # the items name customer, vehicle, engineer and dealership by id: only the quarantined part is read with
            # the list's claims (issue 19)
            qs = qs.select_related(None)
        return qs.select_related("quarantined_part").prefetch_related("part_lines", "attachments")

    @staticmethod
    def _split(data: dict) -> tuple[dict, list | None, str | None]:
        data = dict(data)
        parts = data.pop("part_lines", None)
        location = data.pop("quarantine_location", None)
        return data, ([dict(p) for p in parts] if parts is not None else None), location

    def perform_create(self, serializer):
        data, parts, location = self._split(serializer.validated_data)
        serializer.instance = services.warranty_claim_create(
            actor=self.request.user,
            dealership=self.write_dealership(),
            parts=parts or [],
            quarantine_location=location or "",
            **data,
        )

    def perform_update(self, serializer):
        data, parts, location = self._split(serializer.validated_data)
        serializer.instance = services.warranty_claim_update(
            actor=self.request.user, claim=serializer.instance, data=data, parts=parts, quarantine_location=location
        )

    submit = _warranty_step("submit", services.warranty_claim_submit)
    fmc_confirm = _warranty_step("fmc_confirm", services.warranty_claim_fmc_confirm)
    claims_confirm = _warranty_step("claims_confirm", services.warranty_claim_claims_confirm, ClaimsConfirmSerializer)
    record_payment = _warranty_step("record_payment", services.warranty_claim_record_payment, PaymentSerializer)
    return_for_correction = _warranty_step("return_for_correction", services.warranty_claim_return, ReasonSerializer)
    reject = _warranty_step("reject", services.warranty_claim_reject, RejectSerializer)


@extend_schema(tags=["warranty claims"])
class QuarantinedPartViewSet(ScopedReadOnlyViewSet):
    serializer_class = QuarantinedPartSerializer
    queryset = QuarantinedPart.objects.none()
    filterset_fields = ["status"]
    action_permissions = {"dispose": ["claims.dispose_quarantinedpart"]}

    def get_queryset(self):
        return selectors.quarantine_list(dealership_ids=self.scoped_dealership_ids())

    @extend_schema(request=DisposeSerializer, responses=QuarantinedPartSerializer)
    @action(detail=True, methods=["post"])
    def dispose(self, request, pk=None):
        return self.run_action(request, services.quarantined_part_dispose, DisposeSerializer, target="part")


@extend_schema(
    tags=["complaints"],
    request=PublicComplaintSerializer,
    responses={
        201: inline_serializer(
            "PublicComplaintAccepted",
            # `number` for a registered complaint; `detail` alone when the honeypot caught a bot (nothing is stored).
            fields={"number": serializers.CharField(required=False), "detail": serializers.CharField(required=False)},
        )
    },
)
class PublicComplaintApi(APIView):
    """The public complaint intake (no login): throttled with the "public" scope; a honeypot field drops spam."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_scope = "public"

    def post(self, request):
        serializer = PublicComplaintSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        dealership = get_object_or_404(Dealership, code=data.pop("dealership"))
        if data.pop("website"):
            return Response({"detail": "Thank you."}, status=status.HTTP_201_CREATED)
        complaint = services.complaint_register_public(dealership=dealership, source_ip=client_address(request), **data)
        return Response({"number": complaint.number}, status=status.HTTP_201_CREATED)


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
@extend_schema(tags=["claims KPI"], responses={200: OpenApiTypes.OBJECT})
class ClaimsKpiApi(APIView):
    """KPIs for directors: complaint timeliness, claim turnaround and rejection rate, warranty cost."""

    permission_classes = [HasPerms]
    required_perms = ["claims.view_claims_kpi"]

    def get(self, request):
        dealership = resolve_dealership(request.user, request.query_params.get("dealership"))
        period = kpi.Period.from_params(request.query_params, dealership)
        data = kpi.report(dealership=dealership, period=period)
        for group in data["cost"].values():
            for row in group:
                row["cost"] = str(row["cost"])
        return Response({"dealership": dealership.pk, "start": period.start, "end": period.end, **data})


# ----------------------------------------------------------------------------------------------------------------
# Issue 18 item 6: staff KPIs and appraisal (seed 004)
# ----------------------------------------------------------------------------------------------------------------


class StaffKpiRowSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    sales_orders = serializers.IntegerField(help_text="Sales orders shipped in the period (responsible manager)")
    sales_lines = serializers.IntegerField()
    sales_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    issued_lines = serializers.IntegerField(help_text="Requisition lines the employee issued to jobs")
    work_orders = serializers.IntegerField(help_text="Work orders delivered in the period (advisor)")
    labour_hours = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Sold hours of their jobs done")
    jobs_done = serializers.IntegerField(help_text="Jobs the employee finished in the period as their technician")
    jobs_hours = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Sold (standard) hours of the jobs the technician finished"
    )
    returns = serializers.IntegerField(help_text="Return/exchange requests (not refused) against the sales orders")
    return_rate = serializers.FloatField(allow_null=True, help_text="Returns per line sold, %")
    complaints = serializers.IntegerField()
    complaints_on_time = serializers.IntegerField()
    complaints_late = serializers.IntegerField()
    complaints_open_overdue = serializers.IntegerField()
    complaint_on_time_rate = serializers.FloatField(allow_null=True)
    satisfaction = serializers.FloatField(
        allow_null=True,
        help_text="Average 1–5 of the customers' scores: complaint closings and follow-up calls (call events, service "
        "follow-ups) of customers the employee is responsible for",
    )
    satisfaction_scores = serializers.IntegerField(help_text="How many scores the average is of")
    calls_due = serializers.IntegerField()
    calls_on_time = serializers.IntegerField()
    calls_on_time_rate = serializers.FloatField(allow_null=True)


class StaffKpiSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM (a month) or YYYY (a year)")
    period_kind = serializers.ChoiceField(choices=AppraisalPeriod.choices)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    dealership_ids = serializers.ListField(child=serializers.IntegerField())
    employees = StaffKpiRowSerializer(many=True)


def _staff_period(request, dealership_ids) -> staff_kpi.StaffPeriod:
    today = report_today(dealership_ids, timezone.now())
    try:
        return staff_kpi.StaffPeriod.parse(request.query_params.get("period"), today=today)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict) from error


@extend_schema(tags=["staff KPIs"])
class StaffKpiApi(APIView):
    """``GET /api/staff-kpis/``: claims.staff_kpi per employee for a month or a year; a supervisor reads every
    employee of his dealerships (or the one asked for), anyone else his own row."""

    permission_classes = [HasPerms]
    required_perms = ["claims.view_staff_kpi"]

    @extend_schema(
        summary="Staff KPIs (seed 004): parts sales, repair volume, return rate, complaints, satisfaction, calls",
        responses=StaffKpiSerializer,
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM or YYYY; default: this month."),
            DEALERSHIP_PARAMETER,
        ],
    )
    def get(self, request):
        ids = dealership_ids_param(request)
        period = _staff_period(request, ids)
        employee_id = None if request.user.has_perm("claims.appraise_staff") else request.user.pk
        rows = staff_kpi.staff_kpis(dealership_ids=ids, period=period, now=timezone.now(), employee_id=employee_id)
        data = {
            "period": period.code,
            "period_kind": period.kind,
            "date_from": period.start,
            "date_to": period.end,
            "dealership_ids": ids,
            "employees": [dataclasses.asdict(r) for r in rows],
        }
        return Response(StaffKpiSerializer(data).data)


class AppraisalScoreSerializer(serializers.ModelSerializer):
    entered_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = AppraisalScore
        fields = ["id", "source", "score", "comment", "entered_by", "entered_at"]
        read_only_fields = fields


class StaffAppraisalSerializer(serializers.ModelSerializer):
    employee = UserBriefSerializer(read_only=True)
    figures = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()

    class Meta:
        model = StaffAppraisal
        fields = [
            "id",
            "dealership",
            "employee",
            "period_kind",
            "period_start",
            "status",
            "figures",
            "figures_at",
            "summary",
            "finalised_at",
            "scores",
        ]
        read_only_fields = fields

    def _full(self, obj) -> bool:
        request = self.context.get("request")
        return request is not None and selectors.may_see_appraisal_figures(request.user, obj)

    @extend_schema_field(StaffKpiRowSerializer(allow_null=True))
    def get_figures(self, obj):
        """The frozen figures (null for a colleague, who sees only his own score)."""
        return obj.figures if self._full(obj) else None

    @extend_schema_field(AppraisalScoreSerializer(many=True))
    def get_scores(self, obj):
        scores = list(obj.scores.all())
        if not self._full(obj):
            scores = [s for s in scores if s.entered_by_id == self.context["request"].user.pk]
        return AppraisalScoreSerializer(scores, many=True).data


class StaffAppraisalOpenSerializer(serializers.Serializer):
    employee = ScopedPrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    period = serializers.CharField(max_length=7, help_text="YYYY-MM (a month) or YYYY (a year)")


class AppraisalScoreInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=ScoreSource.choices)
    score = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AppraisalFinaliseSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


@extend_schema(tags=["staff KPIs"])
class StaffAppraisalViewSet(ScopedCreateViewSet):
    serializer_class = StaffAppraisalSerializer
    queryset = StaffAppraisal.objects.none()
    filterset_fields = ["status", "period_kind", "employee"]
    ordering_fields = ["period_start"]
    # Everyone reads (the selector narrows: a supervisor all, others their own and colleagues' open ones).
    action_permissions = {
        "list": ["claims.view_staff_kpi"],
        "retrieve": ["claims.view_staff_kpi"],
        "create": ["claims.appraise_staff"],
        "score": ["claims.view_staff_kpi"],
        "finalise": ["claims.appraise_staff"],
    }

    def get_queryset(self):
        return selectors.staff_appraisals(user=self.request.user, dealership_ids=self.scoped_dealership_ids())

    def get_serializer_class(self):
        if self.action == "create":
            return StaffAppraisalOpenSerializer
        return super().get_serializer_class()

    @extend_schema(request=StaffAppraisalOpenSerializer, responses={201: StaffAppraisalSerializer})
    def create(self, request, *args, **kwargs):
        data = self.action_input(StaffAppraisalOpenSerializer)
        dealership = self.write_dealership()
        today = timezone.localtime(timezone.now(), dealership.tz).date()
        try:
            period = staff_kpi.StaffPeriod.parse(data["period"], today=today)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        appraisal = services.staff_appraisal_open(
            actor=request.user, dealership=dealership, employee=data["employee"], period=period
        )
        return self.respond(appraisal, status_code=status.HTTP_201_CREATED, serializer_class=StaffAppraisalSerializer)

    @extend_schema(request=AppraisalScoreInputSerializer, responses={201: AppraisalScoreSerializer})
    @action(detail=True, methods=["post"])
    def score(self, request, pk=None):
        return self.run_action(
            request,
            services.appraisal_score_record,
            AppraisalScoreInputSerializer,
            target="appraisal",
            status_code=status.HTTP_201_CREATED,
            response_serializer=AppraisalScoreSerializer,
        )

    @extend_schema(request=AppraisalFinaliseSerializer, responses=StaffAppraisalSerializer)
    @action(detail=True, methods=["post"])
    def finalise(self, request, pk=None):
        return self.run_action(
            request, services.staff_appraisal_finalise, AppraisalFinaliseSerializer, target="appraisal"
        )


class EfficiencyRowSerializer(serializers.Serializer):
    technician_id = serializers.IntegerField(help_text="The technician's profile (service)")
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    dealership_id = serializers.IntegerField()
    present_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    clocked_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    jobs_finished = serializers.IntegerField()
    sold_hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    clocked_on_finished = serializers.DecimalField(max_digits=10, decimal_places=2)
    efficiency = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, help_text="Sold ÷ clocked on the jobs finished, %"
    )
    productivity = serializers.DecimalField(
        max_digits=8, decimal_places=1, allow_null=True, help_text="Clocked ÷ present, %"
    )


class EfficiencySerializer(serializers.Serializer):
    week = serializers.CharField(help_text="YYYY-Www")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    dealership_ids = serializers.ListField(child=serializers.IntegerField())
    technicians = EfficiencyRowSerializer(many=True)


@extend_schema(tags=["staff KPIs"])
class TechnicianEfficiencyApi(APIView):
    """``GET /api/technician-efficiency/``: service.efficiency per technician for a week; a supervisor reads every
    technician of his dealerships (or the one asked for), a technician his own row."""

    permission_classes = [HasPerms]
    required_perms = ["claims.view_staff_kpi"]

    @extend_schema(
        summary="Technician efficiency (sold ÷ clocked) and productivity (clocked ÷ present) for a week",
        responses=EfficiencySerializer,
        parameters=[
            OpenApiParameter("week", OpenApiTypes.STR, description="YYYY-Www (ISO week); default: this week."),
            DEALERSHIP_PARAMETER,
        ],
    )
    def get(self, request):
        ids = dealership_ids_param(request)
        now = timezone.now()
        try:
            monday = staff_kpi.parse_week(request.query_params.get("week"), today=report_today(ids, now))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        user_id = None if request.user.has_perm("claims.appraise_staff") else request.user.pk
        rows = efficiency.technician_efficiency(dealership_ids=ids, week_start=monday, now=now, user_id=user_id)
        data = {
            "week": efficiency.week_code(monday),
            "date_from": monday,
            "date_to": monday + datetime.timedelta(days=6),
            "dealership_ids": ids,
            "technicians": [dataclasses.asdict(r) for r in rows],
        }
        return Response(EfficiencySerializer(data).data)
