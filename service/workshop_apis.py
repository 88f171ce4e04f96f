"""API of the workshop (issue 18 items 1-4): technicians with their hours and absences, clocked intervals, the load
per day and the board by technician. Job assignment and clocking are actions of the work-order API (``apis.py``).
Every write calls ``services/technicians.py``, as the pages do."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from dms.core.api_base import (
    SEARCH_PARAMETER,
    ScopedModelViewSet,
    ScopedPrimaryKeyRelatedField,
    ScopedReadOnlyViewSet,
    UserBriefSerializer,
)
from dms.core.inputs import parse_date_param
from dms.core.references import resolve_reference
from dms.core.tenancy import resolve_dealership

from . import services, workshop
from .models import CertificationLevel, JobClock, JobKind, TechnicianAbsence, TechnicianHours, TechnicianProfile

User = get_user_model()
MAX_LOAD_DAYS = 31


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "09:00:00"})
class WallClockTimeField(serializers.TimeField):
    """A time of the dealership's working day, "09:00:00": no UTC offset, so not JSON Schema's "time" format (RFC
    3339 demands one), which the schema would otherwise promise."""


class TechnicianHoursSerializer(serializers.ModelSerializer):
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    starts_at = WallClockTimeField(label=_lazy("from"))
    ends_at = WallClockTimeField(label=_lazy("until"))

    class Meta:
        model = TechnicianHours
        fields = ["id", "weekday", "starts_at", "ends_at", "break_minutes", "hours"]


class TechnicianAbsenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = TechnicianAbsence
        fields = ["id", "kind", "starts_on", "ends_on", "reason"]


class TechnicianSerializer(serializers.ModelSerializer):
    user = ScopedPrimaryKeyRelatedField(queryset=User.objects.all())
    user_detail = UserBriefSerializer(source="user", read_only=True)
    # Kinds of job by name, as a job's `kind` (configuration shared by the dealerships).
    skills = serializers.ListField(
        child=serializers.CharField(max_length=120), required=False, write_only=True, max_length=50
    )
    skill_names = serializers.SerializerMethodField()
    certification_level = serializers.ChoiceField(choices=CertificationLevel.choices, required=False)
    hours = TechnicianHoursSerializer(many=True, read_only=True)
    absences = serializers.SerializerMethodField()
    load_warning = serializers.SerializerMethodField()

    class Meta:
        model = TechnicianProfile
        fields = ["id", "dealership", "user", "user_detail", "skills", "skill_names", "certification_level",
                  "is_active", "notes", "hours", "absences", "load_warning", "created_at"]  # fmt: skip
        read_only_fields = ["dealership", "created_at"]

    def get_load_warning(self, obj) -> str:
        """The answer of an absence, shorter hours or a day off: the days it overloads (issue 18 item 3); ''
        otherwise and on reads."""
        return getattr(obj, "load_warning", "")

    def get_skill_names(self, obj) -> list[str]:
        return [kind.name for kind in obj.skills.all()]

    def validate_skills(self, names: list[str]) -> list[JobKind]:
        kinds = {kind.name: kind for kind in JobKind.objects.filter(name__in=names)}
        unknown = [name for name in names if name not in kinds]
        if unknown:
            raise serializers.ValidationError(_("Unknown kind of job: %(names)s.") % {"names": ", ".join(unknown)})
        return [kinds[name] for name in dict.fromkeys(names)]

    def get_absences(self, obj) -> list[dict]:
        today = timezone.localdate()
        cutoff = today - datetime.timedelta(days=31)
        # Filtered in Python over the list's prefetched absences: a query per technician otherwise (issue 19).
        rows = sorted(
            (row for row in obj.absences.all() if row.ends_on >= cutoff), key=lambda row: (row.starts_on, row.id)
        )
        return TechnicianAbsenceSerializer(rows, many=True).data

    def validate(self, attrs):
        if self.instance is not None and "user" in attrs and attrs["user"] != self.instance.user:
            raise serializers.ValidationError({"user": _("The technician's user cannot be changed.")})
        return attrs


class HoursInputSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    starts_at = serializers.TimeField()
    ends_at = serializers.TimeField()
    break_minutes = serializers.IntegerField(min_value=0, max_value=240, default=60)


class WeekdayInputSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)


class AbsenceInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TechnicianAbsence.Kind.choices, default=TechnicianAbsence.Kind.DAY_OFF)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AbsenceRefSerializer(serializers.Serializer):
    absence = serializers.IntegerField()


class SkillLoadSerializer(serializers.Serializer):
    kind_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    capacity = serializers.DecimalField(max_digits=8, decimal_places=2)
    load = serializers.DecimalField(max_digits=8, decimal_places=2)
    overloaded = serializers.BooleanField()


class DayLoadSerializer(serializers.Serializer):
    day = serializers.DateField()
    technicians = serializers.IntegerField()
    capacity = serializers.DecimalField(max_digits=8, decimal_places=2)
    booked = serializers.DecimalField(max_digits=8, decimal_places=2)
    open_jobs = serializers.DecimalField(max_digits=8, decimal_places=2)
    load = serializers.DecimalField(max_digits=8, decimal_places=2)
    free = serializers.DecimalField(max_digits=8, decimal_places=2)
    percent = serializers.IntegerField()
    overloaded = serializers.BooleanField()
    # Hours no present technician with the skill can take (a multi-skill technician's hours count once).
    unassigned = serializers.DecimalField(max_digits=8, decimal_places=2)
    skills = SkillLoadSerializer(many=True)


class BoardJobSerializer(serializers.Serializer):
    job = serializers.IntegerField(source="job.pk")
    description = serializers.CharField(source="job.description")
    work_order = serializers.IntegerField(source="work_order.pk")
    work_order_number = serializers.CharField(source="work_order.number")
    sold_hours = serializers.DecimalField(source="job.standard_hours", max_digits=6, decimal_places=2)
    clocked_hours = serializers.DecimalField(source="clocked", max_digits=8, decimal_places=2)
    state = serializers.CharField()
    late_reasons = serializers.ListField(child=serializers.CharField())


class BoardRowSerializer(serializers.Serializer):
    technician = serializers.IntegerField(source="technician.pk")
    user = UserBriefSerializer(source="technician.user")
    present_today = serializers.DecimalField(max_digits=5, decimal_places=2)
    now = BoardJobSerializer(allow_null=True)
    next = BoardJobSerializer(many=True)
    late = BoardJobSerializer(many=True)


def _one_dealership(view):
    """A read of one dealership's workshop: ``?dealership=`` (id or code) or the user's default."""
    return resolve_dealership(view.request.user, view.request.query_params.get("dealership"))


LOAD_PARAMETERS = [
    OpenApiParameter("date_from", str, description="First day, YYYY-MM-DD (default today)"),
    OpenApiParameter("days", int, description=f"Number of days, 1-{MAX_LOAD_DAYS} (default 7)"),
    OpenApiParameter("dealership", str, description="Dealership id or code (default: the user's)"),
]


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["service"])
class TechnicianViewSet(ScopedModelViewSet):
    """Technicians (issue 18 item 1): skills, certification level, working hours, absences; the workshop's load per
    day and the board by technician."""

    serializer_class = TechnicianSerializer
    queryset = TechnicianProfile.objects.none()
    create_service = services.technician_create
    update_service = services.technician_update
    update_kwarg = "technician"
    answer_notes = ("load_warning",)  # the days an absence or shorter hours overload (issue 18 item 3)
    filterset_fields = ["is_active", "certification_level"]
    ordering_fields = ["created_at"]
    _manage = ["service.change_technicianprofile"]
    action_permissions = {
        "set_hours": _manage,
        "remove_hours": _manage,
        "add_absence": _manage,
        "remove_absence": _manage,
        "load": ["service.view_appointment"],
        "board": ["service.view_workshop_board"],
        "board_unassigned": ["service.view_workshop_board"],
    }

    def get_queryset(self):
        return workshop.technician_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).prefetch_related("absences")

    @extend_schema(request=HoursInputSerializer, responses=TechnicianSerializer)
    @action(detail=True, methods=["post"], url_path="set-hours")
    def set_hours(self, request, pk=None):
        return self.run_action(request, services.technician_hours_set, HoursInputSerializer, target="technician")

    @extend_schema(request=WeekdayInputSerializer, responses=TechnicianSerializer)
    @action(detail=True, methods=["post"], url_path="remove-hours")
    def remove_hours(self, request, pk=None):
        technician = self.get_object()
        weekday = self.action_input(WeekdayInputSerializer)["weekday"]
        hours = technician.hours.filter(weekday=weekday).first()
        if hours is None:
            raise ValidationError({"weekday": _("The technician does not work on this weekday.")})
        technician.load_warning = services.technician_hours_delete(actor=request.user, hours=hours)
        return self.respond(technician)

    @extend_schema(request=AbsenceInputSerializer, responses=TechnicianSerializer)
    @action(detail=True, methods=["post"], url_path="add-absence")
    def add_absence(self, request, pk=None):
        return self.run_action(request, services.technician_absence_create, AbsenceInputSerializer, target="technician")

    @extend_schema(request=AbsenceRefSerializer, responses=TechnicianSerializer)
    @action(detail=True, methods=["post"], url_path="remove-absence")
    def remove_absence(self, request, pk=None):
        technician = self.get_object()
        absence = resolve_reference(
            technician.absences.all(),
            self.action_input(AbsenceRefSerializer)["absence"],
            dealership=technician.dealership_id,
            field="absence",
        )
        services.technician_absence_delete(actor=request.user, absence=absence)
        return self.respond(technician)

    @extend_schema(parameters=LOAD_PARAMETERS, responses=DayLoadSerializer(many=True))
    @action(detail=False, methods=["get"])
    def load(self, request):
        """The workshop's load per day (issue 18 item 3): present technicians' hours against booked and open jobs,
        in total and per skill."""
        dealership = _one_dealership(self)
        params = request.query_params
        date_from = timezone.localtime(timezone.now(), dealership.tz).date()
        if params.get("date_from"):
            date_from = parse_date_param(params["date_from"])
            if date_from is None:
                raise ValidationError({"date_from": _("Give the date as YYYY-MM-DD.")})
        raw_days = params.get("days", "7")
        days = int(raw_days) if raw_days.isascii() and raw_days.isdigit() and len(raw_days) < 4 else 0
        if not 1 <= days <= MAX_LOAD_DAYS:
            raise ValidationError({"days": _("Give from 1 to %(max)s days.") % {"max": MAX_LOAD_DAYS}})
        loads = workshop.workshop_load(
            dealership=dealership, date_from=date_from, date_to=date_from + datetime.timedelta(days=days - 1)
        )
        return Response(DayLoadSerializer(loads, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("dealership", str, description="Dealership id or code (default: the user's)")],
        responses=BoardRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def board(self, request):
        """The workshop board by technician (issue 18 item 4): now (clocked in), next (assigned, not started or
        paused), late (past the promised hand-over or clocked over the sold hours)."""
        rows = workshop.workshop_board_by_technician(dealership=_one_dealership(self))
        return Response(BoardRowSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("dealership", str, description="Dealership id or code (default: the user's)")],
        responses=BoardJobSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="board-unassigned")
    def board_unassigned(self, request):
        """The board's jobs nobody takes yet (issue 18 item 4): open work orders' unfinished jobs without a
        technician, earliest promised hand-over first, with their late reasons."""
        return Response(BoardJobSerializer(workshop.unassigned_jobs(dealership=_one_dealership(self)), many=True).data)


class JobClockSerializer(serializers.ModelSerializer):
    work_order = serializers.IntegerField(source="job.work_order_id", read_only=True)
    technician = UserBriefSerializer(read_only=True)
    hours = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = JobClock
        fields = ["id", "dealership", "job", "work_order", "technician", "started_at", "ended_at", "hours"]
        read_only_fields = fields


@extend_schema(tags=["service"])
class JobClockViewSet(ScopedReadOnlyViewSet):
    """Clocked intervals of technicians on jobs (issue 18 item 2); an open one has no end."""

    serializer_class = JobClockSerializer
    queryset = JobClock.objects.none()
    filterset_fields = ["technician", "job"]
    ordering_fields = ["started_at"]

    def get_queryset(self):
        return workshop.clock_list(dealership_ids=self.scoped_dealership_ids())
