import json
from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from dms.core.api_base import (
    SEARCH_PARAMETER,
    ScopedCreateViewSet,
    ScopedPrimaryKeyRelatedField,
    ScopedReadOnlyViewSet,
    UserBriefSerializer,
    column_field,
)
from dms.core.filters import FilterSet, IdFilter
from dms.core.inputs import parse_date_param, parse_id
from dms.core.models import Customer, Dealership, Vehicle
from dms.core.permissions import HasPerms
from dms.core.references import resolve_reference, resolve_references
from dms.core.schema import DEALERSHIP_HEADER_PARAMETER
from dms.core.tenancy import resolve_dealership

from . import selectors, services, workshop
from .models import (
    Appointment,
    ArrivalArea,
    FindingColour,
    FuelLevel,
    InspectionFinding,
    JobKind,
    Loaner,
    LoanerReservation,
    ReminderReason,
    ReminderStatus,
    ServiceReminder,
    ServiceSettings,
    WorkOrder,
    WorkOrderJob,
    WorkOrderPart,
)

User = get_user_model()


def job_kind_named(name: str | None) -> JobKind | None:
    """A kind of job given by its name (configuration shared by the dealerships); blank is none, unknown a 400."""
    if not name:
        return None
    kind = JobKind.objects.filter(name=name).first()
    if kind is None:
        raise serializers.ValidationError(_("Unknown kind of job."))
    return kind


class AppointmentSerializer(serializers.ModelSerializer):
    advisor = ScopedPrimaryKeyRelatedField(queryset=User.objects.all())
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    vehicle = ScopedPrimaryKeyRelatedField(queryset=Vehicle.objects.all())
    area = serializers.ChoiceField(choices=ArrivalArea.choices)
    recall_campaigns = serializers.SerializerMethodField()
    # Issue 18 item 3: the visit's workshop hours and kind of job, and the load planner's warning on a booking.
    planned_hours = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )
    # The kind of job by its name, as a job's `kind` (configuration shared by the dealerships); read as its name.
    planned_kind = serializers.CharField(max_length=120, required=False, allow_blank=True, allow_null=True)
    load_warning = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id", "dealership", "advisor", "customer", "vehicle", "reason", "area", "starts_at", "duration_minutes",
            "ends_at", "handover_at", "status", "needs_loaner", "comment", "is_repeat_visit", "repeat_of",
            "recall_campaigns", "prepared_at", "customer_order", "confirmation_sent_at", "confirmed_at", "created_at",
            "planned_hours", "planned_kind", "load_warning",
            "booked_online",
        ]  # fmt: skip
        read_only_fields = [
            "dealership", "ends_at", "status", "is_repeat_visit", "repeat_of", "prepared_at", "customer_order",
            "confirmation_sent_at", "confirmed_at", "created_at", "booked_online",
        ]  # fmt: skip

    def get_recall_campaigns(self, obj) -> list[dict]:
        return [{"id": r.pk, "code": r.code, "title": r.title} for r in obj.recall_campaigns.all()]

    def validate_planned_kind(self, value: str | None) -> JobKind | None:
        return job_kind_named(value)

    def get_load_warning(self, obj) -> str:
        """The workshop-load warning of the booking just made ('' otherwise, and on reads)."""
        return getattr(obj, "load_warning", "")


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    handover_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(required=False)


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    time = serializers.CharField()
    free = serializers.BooleanField()
    bookable = serializers.BooleanField()
    hour_full = serializers.BooleanField()
    kind = serializers.CharField()


class WorkOrderPartSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkOrderPart
        fields = ["id", "part", "quantity", "price", "amount", "reserved_quantity", "ordered_quantity"]


class WorkOrderJobSerializer(serializers.ModelSerializer):
    parts = WorkOrderPartSerializer(many=True, read_only=True)
    kind = serializers.PrimaryKeyRelatedField(read_only=True)
    # Issue 18 item 2: who does the job and the hours clocked on it, beside the sold (standard) hours.
    technician = UserBriefSerializer(read_only=True, allow_null=True)
    clocked_hours = serializers.SerializerMethodField()
    work_state = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrderJob
        fields = ["id", "description", "standard_hours", "rate", "labour_amount", "is_important", "is_extra",
                  "consent", "consent_by", "consent_channel", "consent_at", "done_at", "kind", "quality_status",
                  "parts", "technician", "assigned_at", "clocked_hours", "work_state"]  # fmt: skip

    def _clocks(self, obj) -> list:
        return list(obj.clocks.all())

    def get_clocked_hours(self, obj) -> Decimal:
        now = timezone.now()
        seconds = sum(
            ((c.ended_at or max(now, c.started_at)) - c.started_at).total_seconds() for c in self._clocks(obj)
        )
        return (Decimal(seconds) / 3600).quantize(Decimal("0.01"))

    def get_work_state(self, obj) -> str:
        """not_started / in_progress / paused / done."""
        clocks = self._clocks(obj)
        return workshop.job_work_state(obj, next((c for c in clocks if c.ended_at is None), None), bool(clocks))


class WorkOrderSerializer(serializers.ModelSerializer):
    jobs = WorkOrderJobSerializer(many=True, read_only=True)
    advisor = UserBriefSerializer(read_only=True)
    labour_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    parts_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id", "dealership", "number", "appointment", "customer", "vehicle", "advisor", "status", "revision",
            "arrived_at", "mileage_in", "fuel_level", "odometer_rollback", "interview_reasons", "technician",
            "self_check_at", "rework_count", "delivered_at", "signed_by", "customer_order", "jobs", "labour_total",
            "parts_total", "total", "created_at", "next_step", "load_warning",
        ]  # fmt: skip
        read_only_fields = fields

    next_step = serializers.SerializerMethodField()
    load_warning = serializers.SerializerMethodField()

    def get_next_step(self, obj: WorkOrder) -> str:
        return selectors.workorder_next_step(obj)

    def get_load_warning(self, obj) -> str:
        """Issue 18 item 3: the workshop-load warning of the job just added or agreed ('' otherwise, and on reads)."""
        return getattr(obj, "load_warning", "")


class ReceptionInputSerializer(serializers.Serializer):
    """Arrival check-in (seed 004, R25): the same fields for a booked arrival and for a walk-in (issue 14 item 1)."""

    mileage = serializers.IntegerField(min_value=0, max_value=9_999_999)
    fuel_level = serializers.ChoiceField(choices=FuelLevel.choices)
    damage_notes = serializers.CharField(
        required=False, allow_blank=True, default="", style={"base_template": "textarea.html"}
    )
    customer_words = serializers.CharField(style={"base_template": "textarea.html"})


class InterviewInputSerializer(serializers.Serializer):
    """R25: what the customer said in the personal interview."""

    notes = serializers.CharField(style={"base_template": "textarea.html"})


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["service"])
class AppointmentViewSet(ScopedCreateViewSet):
    """Appointments on the advisors' 15-minute grid (R15, R16). Writes go through the service layer."""

    create_service = services.appointment_book
    serializer_class = AppointmentSerializer
    answer_notes = ("load_warning",)  # the workshop-load warning of a booking or a move (issue 18 item 3)
    queryset = Appointment.objects.none()
    filterset_fields = ["advisor", "status", "area", "customer", "vehicle"]
    ordering_fields = ["starts_at", "created_at"]
    action_permissions = {
        "cancel": ["service.change_appointment"],
        "reschedule": ["service.change_appointment"],
        "slots": ["service.view_appointment"],
        "reception": ["service.change_workorder"],
    }

    def get_queryset(self):
        qs = selectors.appointment_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).prefetch_related("recall_campaigns")
        if self.action == "list":
            # the items name the advisor, customer, vehicle and dealership by id: only the kind of job is read with
            # them (issue 19: a customer's phones were parsed and four more rows built per appointment for nothing)
            qs = qs.select_related(None).select_related("planned_kind")
        return qs

    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        reason = request.data.get("reason", "")
        return self.run_action(request, services.appointment_cancel, target="appointment", reason=reason)

    @extend_schema(
        summary="Receive the booked car: opens (or reuses) its work order and records the reception",
        request=ReceptionInputSerializer,
        responses={201: WorkOrderSerializer},
    )
    @action(detail=True, methods=["post"])
    def reception(self, request, pk=None):
        data = self.action_input(ReceptionInputSerializer)
        wo = services.reception_check_in(actor=request.user, appointment=self.get_object(), **data)
        return Response(WorkOrderSerializer(WorkOrder.objects.get(pk=wo.pk)).data, status=201)

    @extend_schema(request=RescheduleSerializer, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        return self.run_action(request, services.appointment_reschedule, RescheduleSerializer, target="appointment")

    @extend_schema(
        parameters=[OpenApiParameter("advisor", int, required=True), OpenApiParameter("date", str, required=True)],
        responses=SlotSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def slots(self, request):
        """The advisor's 15-minute cells on a date: free, bookable (hour not full), taken (R16)."""
        errors = {}
        advisor_id = parse_id(request.query_params.get("advisor", ""))
        day = parse_date_param(request.query_params.get("date", ""))
        if day is None:
            errors["date"] = ["Give the date as YYYY-MM-DD."]
        ids = self.scoped_dealership_ids()
        advisor = (
            User.objects.filter(pk=advisor_id, staff_profile__dealerships__in=ids).first()
            if advisor_id is not None
            else None
        )
        if advisor is None:
            errors["advisor"] = ["Unknown advisor."]
        if errors:
            raise ValidationError(errors)
        dealership = advisor.staff_profile.dealerships.filter(pk__in=ids).first()
        cells = selectors.advisor_day_slots(dealership=dealership, advisor=advisor, day=day)
        return Response(SlotSerializer(cells, many=True).data)


class LoanerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Loaner
        fields = ["id", "dealership", "plate", "make", "model", "vin", "is_active", "notes"]
        read_only_fields = ["dealership"]
        validators = []


@extend_schema(tags=["service"])
class LoanerViewSet(ScopedCreateViewSet):
    create_service = services.loaner_create
    serializer_class = LoanerSerializer
    queryset = Loaner.objects.none()
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return selectors.loaner_list(dealership_ids=self.scoped_dealership_ids(), search=self.search_param())


class LoanerReservationSerializer(serializers.ModelSerializer):
    loaner = ScopedPrimaryKeyRelatedField(queryset=Loaner.objects.all())
    appointment = ScopedPrimaryKeyRelatedField(queryset=Appointment.objects.all())
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)

    class Meta:
        model = LoanerReservation
        fields = ["id", "dealership", "loaner", "appointment", "customer", "starts_on", "ends_on", "status",
                  "driver_licence"]  # fmt: skip
        read_only_fields = ["dealership", "customer", "status"]
        # R18: the service refuses a second active loaner naming the car already reserved (the index backs it up).
        validators = []


@extend_schema(tags=["service"])
class LoanerReservationViewSet(ScopedCreateViewSet):
    """R18: reservations of loaner cars for appointments; overlapping ones are refused with 400."""

    serializer_class = LoanerReservationSerializer
    queryset = LoanerReservation.objects.none()
    filterset_fields = ["loaner", "appointment", "status"]
    action_permissions = {"cancel": ["service.change_loanerreservation"]}

    def get_queryset(self):
        return self.scope_queryset(LoanerReservation.objects.select_related("loaner"))

    def perform_create(self, serializer):
        serializer.instance = services.loaner_reserve(actor=self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=LoanerReservationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(request, services.loaner_reservation_cancel, target="reservation")


class WorkOrderOpenSerializer(serializers.Serializer):
    """A walk-in: a work order opened without an appointment (the complaint in the customer's words, R25)."""

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    vehicle = ScopedPrimaryKeyRelatedField(queryset=Vehicle.objects.all())
    complaint = serializers.CharField(max_length=2000)


class JobInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    standard_hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    rate = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)
    is_important = serializers.BooleanField(default=False)
    # Issue 14 item 6: the kind of job by its name (configuration shared by the dealerships), for its checklist.
    kind = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")

    def validate_kind(self, value: str) -> JobKind | None:
        return job_kind_named(value)


class ConsentInputSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    agreed = serializers.BooleanField()
    given_by = serializers.CharField(max_length=200)
    channel = serializers.CharField(max_length=40)


class JobQualityResultInputSerializer(serializers.Serializer):
    """One job's result (issue 14 item 6): passed or failed, the comment (required for a fail), ticked items."""

    job = serializers.IntegerField()
    passed = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    checklist_items = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


def _results_from_multipart(request) -> dict:
    """A multipart request (photos ``photos_<job id>`` travel with it) sends ``results`` as one JSON text."""
    raw = request.data.get("results") if hasattr(request.data, "getlist") else None
    if not isinstance(raw, str):
        return request.data
    data = {key: request.data.get(key) for key in request.data if key == "notes"}
    try:
        data["results"] = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError({"results": _("Send the results as a JSON list.")}) from None
    return data


class QualityCheckInputSerializer(serializers.Serializer):
    """Either ``results`` (one per job, issue 14 item 6) or the earlier ``passed`` + ``checked_jobs`` (one result
    for every ticked job, ``notes`` as its comment). Photos: multipart files named ``photos_<job id>``."""

    passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    checked_jobs = serializers.ListField(child=serializers.IntegerField(), allow_empty=True, required=False)
    results = JobQualityResultInputSerializer(many=True, required=False, allow_empty=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if "results" not in attrs and (attrs.get("passed") is None or "checked_jobs" not in attrs):
            raise serializers.ValidationError({"results": _("Send a result for each job you checked.")})
        return attrs


class SelfCheckInputSerializer(serializers.Serializer):
    technician = serializers.CharField(max_length=120)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverInputSerializer(serializers.Serializer):
    signed_by = serializers.CharField(max_length=200, allow_blank=True)


class JobRefSerializer(serializers.Serializer):
    job = serializers.IntegerField()


class AssignInputSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    technician = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True)


# -- issue 17: inspection findings and remote approval (R30) ------------------------------------------------------
class FindingPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, photo) -> str:
        return reverse("service:finding_photo", args=[photo.pk])


class FindingConsentSerializer(serializers.Serializer):
    agreed = serializers.BooleanField(read_only=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    channel = serializers.CharField(read_only=True)
    link = serializers.IntegerField(source="link_id", read_only=True, allow_null=True)
    at = serializers.DateTimeField(read_only=True)


class InspectionFindingSerializer(serializers.ModelSerializer):
    consent = serializers.CharField(read_only=True, help_text="The job's consent: pending, agreed, declined or ''.")
    photos = FindingPhotoSerializer(many=True, read_only=True)
    consents = FindingConsentSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionFinding
        fields = [
            "id", "work_order", "item", "colour", "comment", "price", "job", "consent", "sent_at", "photos",
            "consents", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class FindingInputSerializer(serializers.Serializer):
    item = column_field(InspectionFinding, "item")
    colour = serializers.ChoiceField(choices=FindingColour.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    price = column_field(InspectionFinding, "price", required=False)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="Images (multipart/form-data), at most 10."
    )


class FindingUpdateSerializer(serializers.Serializer):
    finding = serializers.IntegerField()
    item = column_field(InspectionFinding, "item", required=False)
    colour = serializers.ChoiceField(choices=FindingColour.choices, required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    price = column_field(InspectionFinding, "price", required=False)


class FindingRefSerializer(serializers.Serializer):
    finding = serializers.IntegerField()


class FindingsSentSerializer(serializers.Serializer):
    sent = InspectionFindingSerializer(many=True, read_only=True)
    channel = serializers.CharField(
        read_only=True, allow_null=True, help_text="sms, email, or null: phone the customer"
    )


@extend_schema(tags=["service"])
class WorkOrderViewSet(ScopedReadOnlyViewSet):
    """Work orders and their transitions (R30, R31). Transitions out of order answer 409."""

    serializer_class = WorkOrderSerializer
    queryset = WorkOrder.objects.none()
    answer_notes = ("load_warning",)  # a job added or agreed past the workshop's load (issue 18 item 3)
    filterset_fields = ["status", "advisor", "customer", "vehicle"]
    ordering_fields = ["created_at", "number"]
    _change = ["service.change_workorder"]
    action_permissions = {
        "add_job": _change,
        "consent": _change,
        "complete_job": _change,
        "start_diagnosis": _change,
        "start_repair": _change,
        "submit_for_quality_check": _change,
        "quality_check": ["service.qc_workorder"],
        "deliver": _change,
        "reception": _change,
        "interview": _change,
        "assign_job": _change,
        "clock_start": ["service.clock_job"],
        "clock_pause": ["service.clock_job"],
        "clock_finish": ["service.clock_job"],
        # issue 17
        "findings": ["service.view_inspectionfinding"],
        "add_finding": ["service.add_inspectionfinding"],
        "update_finding": ["service.add_inspectionfinding"],
        "remove_finding": ["service.delete_inspectionfinding"],
        "send_findings": _change,
    }

    def get_queryset(self):
        qs = selectors.workorder_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).prefetch_related("jobs__parts", "jobs__clocks", "jobs__technician")
        if self.action == "list":
            # the items name their customer, vehicle and dealership by id: only the advisor is read with them (the
            # customer's phones were parsed on every row for nothing, issue 19)
            qs = qs.select_related(None).select_related("advisor")
        return qs

    @extend_schema(
        summary="Open a work order for a walk-in customer (no appointment)",
        request=WorkOrderOpenSerializer,
        responses={201: WorkOrderSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = self.action_input(WorkOrderOpenSerializer)
        wo = services.workorder_open(
            actor=request.user,
            dealership=self.write_dealership(),
            customer=data["customer"],
            vehicle=data["vehicle"],
            complaint=data["complaint"],
        )
        return self.respond(wo, status_code=201)

    def _job(self, wo, job_id):
        # Issue 12 item 6: a job of THIS work order (one shared resolver; a 400 naming the field otherwise).
        return resolve_reference(wo.jobs.all(), job_id, dealership=wo.dealership_id, field="job")

    @extend_schema(
        summary="Record the car's reception on the work order (walk-ins included)",
        request=ReceptionInputSerializer,
        responses=WorkOrderSerializer,
    )
    @action(detail=True, methods=["post"])
    def reception(self, request, pk=None):
        # Issue 14 item 1: any work order, with or without an appointment, gets its reception (R25, R31 path).
        return self.run_action(
            request, services.workorder_record_reception, ReceptionInputSerializer, target="work_order"
        )

    @extend_schema(request=InterviewInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def interview(self, request, pk=None):
        return self.run_action(
            request, services.workorder_record_interview, InterviewInputSerializer, target="work_order"
        )

    # -- issue 17: inspection findings ------------------------------------------------------------------------
    def _finding(self, wo, finding_id):
        return resolve_reference(wo.findings.all(), finding_id, dealership=wo.dealership_id, field="finding")

    @extend_schema(summary="The work order's inspection findings", responses=InspectionFindingSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def findings(self, request, pk=None):
        wo = self.get_object()
        rows = selectors.finding_list(dealership_ids=[wo.dealership_id], work_order_id=wo.pk)
        return Response(InspectionFindingSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Record an inspection finding (green/amber/red, comment, price of the fix, photos)",
        # one content type per operation (a generated client has one way to call it): multipart, as it carries photos
        request={"multipart/form-data": FindingInputSerializer},
        responses={201: InspectionFindingSerializer},
    )
    @action(detail=True, methods=["post"], url_path="add-finding")
    def add_finding(self, request, pk=None):
        wo = self.get_object()
        data = self.action_input(FindingInputSerializer)
        photos = data.pop("photos", None) or request.FILES.getlist("photos")
        finding = services.finding_create(actor=request.user, work_order=wo, photos=photos, **data)
        return Response(InspectionFindingSerializer(finding, context=self.get_serializer_context()).data, status=201)

    @extend_schema(
        summary="Correct an inspection finding before it is sent",
        request=FindingUpdateSerializer,
        responses=InspectionFindingSerializer,
    )
    @action(detail=True, methods=["post"], url_path="update-finding")
    def update_finding(self, request, pk=None):
        wo = self.get_object()
        data = self.action_input(FindingUpdateSerializer)
        finding = self._finding(wo, data.pop("finding"))
        finding = services.finding_update(actor=request.user, finding=finding, data=data)
        return Response(InspectionFindingSerializer(finding, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Remove an unsent inspection finding", request=FindingRefSerializer, responses=WorkOrderSerializer
    )
    @action(detail=True, methods=["post"], url_path="remove-finding")
    def remove_finding(self, request, pk=None):
        wo = self.get_object()
        finding = self._finding(wo, self.action_input(FindingRefSerializer)["finding"])
        services.finding_delete(actor=request.user, finding=finding)
        return self.respond(wo)

    @extend_schema(
        summary="Send the unsent amber and red findings to the customer for approval (R30)",
        request=None,
        responses=FindingsSentSerializer,
    )
    @action(detail=True, methods=["post"], url_path="send-findings")
    def send_findings(self, request, pk=None):
        result = services.findings_send(actor=request.user, work_order=self.get_object())
        delivery = result["delivery"]
        return Response(
            FindingsSentSerializer(
                {"sent": result["sent"], "channel": delivery.channel if delivery else None},
                context=self.get_serializer_context(),
            ).data
        )

    @extend_schema(request=JobInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="add-job")
    def add_job(self, request, pk=None):
        wo = self.get_object()
        job = services.workorder_job_add(actor=request.user, work_order=wo, **self.action_input(JobInputSerializer))
        wo.load_warning = job.load_warning
        return self.respond(wo)

    @extend_schema(request=ConsentInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        wo = self.get_object()
        v = self.action_input(ConsentInputSerializer)
        job = services.workorder_consent_record(
            actor=request.user, job=self._job(wo, v["job"]), agreed=v["agreed"], given_by=v["given_by"],
            channel=v["channel"],
        )  # fmt: skip
        wo.load_warning = job.load_warning
        return self.respond(wo)

    @extend_schema(request=JobRefSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="complete-job")
    def complete_job(self, request, pk=None):
        wo = self.get_object()
        services.workorder_job_complete(
            actor=request.user, job=self._job(wo, self.action_input(JobRefSerializer)["job"])
        )
        return self.respond(wo)

    @extend_schema(request=AssignInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="assign-job")
    def assign_job(self, request, pk=None):
        """Issue 18 item 2: give a job to a technician of the dealership with its skill (null takes it back)."""
        wo = self.get_object()
        data = self.action_input(AssignInputSerializer)
        services.job_assign(actor=request.user, job=self._job(wo, data["job"]), technician=data["technician"])
        return self.respond(wo)

    def _clock(self, request, service):
        wo = self.get_object()
        service(actor=request.user, job=self._job(wo, self.action_input(JobRefSerializer)["job"]))
        return self.respond(wo)

    @extend_schema(request=JobRefSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="clock-start")
    def clock_start(self, request, pk=None):
        """The technician starts (or resumes) their job; one running job per technician."""
        return self._clock(request, services.job_clock_start)

    @extend_schema(request=JobRefSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="clock-pause")
    def clock_pause(self, request, pk=None):
        return self._clock(request, services.job_clock_pause)

    @extend_schema(request=JobRefSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="clock-finish")
    def clock_finish(self, request, pk=None):
        """Close the running interval and mark the job done."""
        return self._clock(request, services.job_clock_finish)

    @extend_schema(request=None, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="start-diagnosis")
    def start_diagnosis(self, request, pk=None):
        return self.run_action(request, services.workorder_start_diagnosis, target="work_order")

    @extend_schema(request=None, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="start-repair")
    def start_repair(self, request, pk=None):
        return self.run_action(request, services.workorder_start_repair, target="work_order")

    @extend_schema(request=SelfCheckInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="submit-for-quality-check")
    def submit_for_quality_check(self, request, pk=None):
        return self.run_action(
            request, services.workorder_submit_for_quality_check, SelfCheckInputSerializer, target="work_order"
        )

    @extend_schema(request=QualityCheckInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="quality-check")
    def quality_check(self, request, pk=None):
        wo = self.get_object()
        data = QualityCheckInputSerializer(data=_results_from_multipart(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if "results" not in v:
            # Issue 12 item 6: every id must be a job of this work order — none is silently dropped.
            jobs = resolve_references(
                wo.jobs.all(), v["checked_jobs"], dealership=wo.dealership_id, field="checked_jobs"
            )
            services.workorder_quality_check(
                actor=request.user, work_order=wo, passed=v["passed"], checked_jobs=jobs, notes=v["notes"]
            )
            return self.respond(wo)
        rows = v["results"]
        jobs = resolve_references(
            wo.jobs.all(), [row["job"] for row in rows], dealership=wo.dealership_id, field="results"
        )
        results = [
            services.JobQualityResult(
                job=job,
                passed=row["passed"],
                comment=row["comment"],
                ticked_items=services.checklist_items_of(job, row["checklist_items"], field="results"),
                photos=request.FILES.getlist(f"photos_{job.pk}"),
            )
            for job, row in zip(jobs, rows, strict=True)
        ]
        services.workorder_quality_check(actor=request.user, work_order=wo, results=results, notes=v["notes"])
        return self.respond(wo)

    @extend_schema(request=DeliverInputSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        return self.run_action(request, services.workorder_deliver, DeliverInputSerializer, target="work_order")


# -- issue 17 item 4: the public booking page's times --------------------------------------------------------------
class OnlineBookingSlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="The arrival, with the dealership's UTC offset.")
    time = serializers.CharField(help_text="HH:MM in the dealership's time zone.")
    value = serializers.CharField(help_text="The booking form's `slot` value: YYYY-MM-DDTHH:MM, local time.")


class OnlineBookingSlotsSerializer(serializers.Serializer):
    date = serializers.DateField()
    slots = OnlineBookingSlotSerializer(many=True)


@extend_schema(
    tags=["online booking"],
    summary="Times a customer may book on a date (public, no login)",
    description=(
        "The free cells of the dealership's 15-minute grid on the date: a time is listed when at least one service "
        "advisor has it free in their working hours and its hour is not full (R16: at most 3 customers an hour). "
        "Only dealerships with online booking turned on answer; dates outside the next 30 days list no times. "
        "Throttled per client address (scope `booking_slots`)."
    ),
    parameters=[OpenApiParameter("date", str, required=True, description="YYYY-MM-DD, the dealership's date.")],
    responses={200: OnlineBookingSlotsSerializer},
)
class OnlineBookingSlotsApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_scope = "booking_slots"

    def get(self, request, code):
        day = parse_date_param(request.query_params.get("date", ""))
        if day is None:
            raise ValidationError({"date": [_("Give the date as YYYY-MM-DD.")]})
        dealership = get_object_or_404(Dealership, code=code)
        if not selectors.online_booking_enabled(dealership=dealership):
            raise Http404
        tz = dealership.tz
        slots = [
            {
                "starts_at": timezone.localtime(slot["starts_at"], tz),
                "time": slot["time"],
                "value": timezone.localtime(slot["starts_at"], tz).strftime("%Y-%m-%dT%H:%M"),
            }
            for slot in selectors.online_booking_slots(dealership=dealership, day=day, now=timezone.now())
        ]
        return Response(OnlineBookingSlotsSerializer({"date": day, "slots": slots}).data)


# -- issue 17 item 5: follow-ups from service (service due, declined work) --------------------------------------------
class ServiceFollowUpFilter(FilterSet):
    reason = django_filters.ChoiceFilter(choices=ReminderReason.choices)
    status = django_filters.ChoiceFilter(choices=ReminderStatus.choices)
    assignee = IdFilter(field_name="assignee_id")
    customer = IdFilter(field_name="customer_id")
    vehicle = IdFilter(field_name="vehicle_id")
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = ServiceReminder
        fields = ["reason", "status", "assignee", "customer", "vehicle", "due_before"]


class ServiceFollowUpSerializer(serializers.ModelSerializer):
    assignee = UserBriefSerializer(read_only=True)
    called_by = UserBriefSerializer(read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    work_order = serializers.IntegerField(source="last_work_order_id", read_only=True)
    finding_item = serializers.CharField(source="finding.item", read_only=True, allow_null=True, default=None)
    finding_price = serializers.DecimalField(
        source="finding.price", max_digits=12, decimal_places=2, read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ServiceReminder
        fields = [
            "id", "dealership", "reason", "reason_display", "status", "status_display", "customer", "vehicle",
            "work_order", "finding", "finding_item", "finding_price", "due_on", "estimated_mileage", "assignee",
            "called_at", "called_by", "outcome", "outcome_display", "note", "satisfaction",
        ]  # fmt: skip
        read_only_fields = fields


class ServiceFollowUpCallSerializer(serializers.Serializer):
    # The outcome and the score are checked by the service (a 400 naming the field, in the user's language).
    outcome = serializers.CharField(max_length=20)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    satisfaction = serializers.IntegerField(required=False, allow_null=True, default=None)


@extend_schema(tags=["service"])
class ServiceFollowUpViewSet(ScopedReadOnlyViewSet):
    """Issue 17 item 5: the follow-ups from service — `reason` `time`/`mileage` (service fell due) or `declined`
    (work the customer declined, R30) — and the advisor's call (`called`: outcome, note, satisfaction 1–5)."""

    serializer_class = ServiceFollowUpSerializer
    queryset = ServiceReminder.objects.none()
    filter_backends = api_settings.DEFAULT_FILTER_BACKENDS
    filterset_class = ServiceFollowUpFilter
    ordering_fields = ["due_on", "called_at", "id"]
    action_permissions = {"called": ["service.call_servicereminder"]}

    def get_queryset(self):
        return selectors.follow_up_list(dealership_ids=self.scoped_dealership_ids())

    @extend_schema(request=ServiceFollowUpCallSerializer, responses=ServiceFollowUpSerializer)
    @action(detail=True, methods=["post"])
    def called(self, request, pk=None):
        # another dealership's follow-up → 404; a call already recorded or none needed → 409; bad input → 400
        return self.run_action(
            request, services.service_reminder_called, ServiceFollowUpCallSerializer, target="reminder"
        )


# -- issues 17 item 5, 18 item 3: the dealership's service settings (the settings pages' fields) ----------------------
class ServiceSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceSettings
        fields = [
            "dealership",
            "repeat_visit_days",
            "labour_rate",
            "warranty_ending_days",
            "reminder_months",
            "reminder_km",
            "declined_follow_up_days",
            "workshop_overload",
            "online_booking",
            "online_booking_hours",
            "booking_embed_origins",
        ]
        read_only_fields = ["dealership"]


@extend_schema(tags=["service settings"], parameters=[DEALERSHIP_HEADER_PARAMETER])
class ServiceSettingsApi(APIView):
    """``/api/service-settings/``: the acting dealership's service settings (``X-Dealership``, else the user's
    own); directors and advisors read them, the administrator changes them through the same audited service as the
    settings pages."""

    permission_classes = [HasPerms]

    @property
    def required_perms(self):
        write = self.request.method not in permissions.SAFE_METHODS
        return ["service.change_servicesettings" if write else "service.view_servicesettings"]

    def _dealership(self) -> Dealership:
        return resolve_dealership(self.request.user, self.request.headers.get("X-Dealership"))

    @extend_schema(summary="The dealership's service settings", responses=ServiceSettingsSerializer)
    def get(self, request):
        return Response(ServiceSettingsSerializer(selectors.service_settings(dealership=self._dealership())).data)

    @extend_schema(
        summary="Change the dealership's service settings (only the fields sent)",
        request=ServiceSettingsSerializer,
        responses=ServiceSettingsSerializer,
    )
    def patch(self, request):
        if not isinstance(request.data, dict) or not request.data:
            raise ValidationError({"non_field_errors": [_("Send the settings to change.")]})
        dealership = self._dealership()
        current = selectors.service_settings(dealership=dealership)
        serializer = ServiceSettingsSerializer(current, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        saved = services.service_settings_update(
            actor=request.user, dealership=dealership, data=dict(serializer.validated_data)
        )
        return Response(ServiceSettingsSerializer(saved).data)
