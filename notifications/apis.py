"""REST API of call-backs: call events, completing them, the compliance report (R14) and opt-outs."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from dms.core.api_base import (
    DEALERSHIP_PARAMETER,
    DealershipScopedMixin,
    ScopedGenericViewSet,
    ScopedPrimaryKeyRelatedField,
    ScopedReadOnlyViewSet,
    UserBriefSerializer,
    id_param,
)
from dms.core.db_router import reads_from_replica
from dms.core.filters import FilterSet, IdFilter
from dms.core.models import Customer, Dealership
from dms.core.permissions import HasPerms
from dms.core.tenancy import allowed_dealership_ids, default_dealership_id, user_dealerships

from . import conversations, reports, selectors, services
from .models import CallEvent, CallKind, CallStatus, InboundMessage, InboundStatus, OptOut, ReplyIntent


def overdue_q(dealership_ids) -> Q:
    """Open events due before today, where "today" is each dealership's own local date."""
    now = timezone.now()
    q = Q(pk__in=[])
    for dealership in Dealership.objects.filter(pk__in=list(dealership_ids)):
        q |= Q(dealership_id=dealership.pk, due_date__lt=timezone.localtime(now, dealership.tz).date())
    return q & Q(status=CallStatus.OPEN)


class CallEventFilter(FilterSet):
    order = IdFilter(field_name="order_id")
    assignee = IdFilter(field_name="assignee_id")
    status = django_filters.ChoiceFilter(choices=CallStatus.choices)
    kind = django_filters.ChoiceFilter(choices=CallKind.choices)
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = CallEvent
        fields = ["order", "assignee", "status", "kind", "due_before", "overdue"]

    def filter_overdue(self, queryset, name, value):
        ids = allowed_dealership_ids(self.request.user) if self.request else frozenset()
        q = overdue_q(ids)
        return queryset.filter(q) if value else queryset.exclude(q)


class CallEventSerializer(serializers.ModelSerializer):
    assignee = UserBriefSerializer(read_only=True)
    completed_by = UserBriefSerializer(read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)

    class Meta:
        model = CallEvent
        fields = [
            "id",
            "order",
            "order_number",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "due_date",
            "assignee",
            "completed_at",
            "completed_by",
            "outcome",
            "outcome_display",
            "comment",
            "agreed_date",
            "satisfaction",
            "dealership",
        ]
        read_only_fields = fields


class CallEventCompleteSerializer(serializers.Serializer):
    # The outcome is checked by the service (unknown or unfit for the event → 400 with the service's message).
    outcome = serializers.CharField(max_length=40)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    agreed_date = serializers.DateField(required=False, allow_null=True, default=None)
    # Issue 18 item 6: 1–5 or null (not asked); the service refuses other numbers with a 400 naming the field.
    satisfaction = serializers.IntegerField(required=False, allow_null=True, default=None)


@extend_schema(tags=["call-backs"])
class CallEventViewSet(ScopedReadOnlyViewSet):
    serializer_class = CallEventSerializer
    lean_list = True  # issue 19: the call log's items from rows (dms.core.lean_items), equal to the serializer's
    queryset = CallEvent.objects.none()
    filter_backends = api_settings.DEFAULT_FILTER_BACKENDS
    filterset_class = CallEventFilter
    ordering_fields = ["due_date", "completed_at", "id"]
    action_permissions = {"complete": ["notifications.complete_callevent"]}

    def get_queryset(self):
        return selectors.call_event_list(dealership_ids=self.scoped_dealership_ids())

    @extend_schema(request=CallEventCompleteSerializer, responses=CallEventSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        # another dealership's event → 404; the service's refusals → 400/403/409
        return self.run_action(request, services.call_event_complete, CallEventCompleteSerializer, target="event")


@extend_schema(
    tags=["call-backs"],
    parameters=[
        OpenApiParameter("from", str, description="YYYY-MM-DD (default: 6 days before `to`)"),
        OpenApiParameter("to", str, description="YYYY-MM-DD (default: today)"),
        OpenApiParameter("dealership", int, description="Narrow to one of your dealerships"),
    ],
)
def _row_fields() -> dict:
    return {
        "id": serializers.IntegerField(allow_null=True),
        "name": serializers.CharField(allow_null=True),
        "due": serializers.IntegerField(),
        "done_on_time": serializers.IntegerField(),
        "done_late": serializers.IntegerField(),
        "open_past_due": serializers.IntegerField(),
        "open_not_yet_due": serializers.IntegerField(),
        "on_time_share": serializers.FloatField(allow_null=True),
    }


_DAY = inline_serializer(
    "CallComplianceDay",
    {
        "date": serializers.DateField(),
        "on_time": serializers.IntegerField(),
        "late": serializers.IntegerField(),
        "missed": serializers.IntegerField(),
    },
)
REPORT_SCHEMA = inline_serializer(
    "CallComplianceReport",
    {
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "totals": inline_serializer("CallComplianceTotals", _row_fields()),
        "employees": inline_serializer(
            "CallComplianceEmployee", _row_fields() | {"days": _DAY.__class__(many=True)}, many=True
        ),
        "orders": inline_serializer(
            "CallComplianceOrder", _row_fields() | {"number": serializers.CharField()}, many=True
        ),
    },
)


def _report_today(user, wanted: int | None):
    """Today in the dealership's calendar (the rules' dates), as the report page takes it: the one asked for, else
    the user's own dealership — never the server's zone (an API token's request has no dealership zone active)."""
    dealerships = user_dealerships(user)
    dealership_id = wanted if wanted in dealerships else default_dealership_id(user)
    if dealership_id is None:
        return timezone.localdate()
    return timezone.localtime(timezone.now(), dealerships[dealership_id].tz).date()


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class CallComplianceReportApi(APIView):
    """R14: per employee and per order — due, done on time, done late, open past due; the on-time share."""

    permission_classes = [HasPerms]
    required_perms = ["notifications.view_call_compliance_report"]

    @extend_schema(
        responses=REPORT_SCHEMA,
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default: 7 days before `to`."
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD); default: today."),
            DEALERSHIP_PARAMETER,
        ],
    )
    def get(self, request):
        wanted = id_param(request, "dealership")
        date_from, date_to = reports.parse_range(
            request.query_params.get("from"), request.query_params.get("to"), today=_report_today(request.user, wanted)
        )
        dealership_ids = None if wanted is None else {wanted}
        report = reports.compliance_for_user(
            user=request.user, date_from=date_from, date_to=date_to, dealership_ids=dealership_ids
        )
        return Response(reports.report_as_dict(report))


class OptOutSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    # Checked by the service (400 "Unknown channel."); a plain string keeps the schema's one channel enum (core's).
    channel = serializers.CharField(max_length=10, help_text="sms, email or phone")
    created_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = OptOut
        fields = ["id", "customer", "channel", "reason", "created_by", "created_at", "dealership"]
        read_only_fields = ["created_by", "created_at", "dealership"]
        validators = []  # uniqueness is the service's (409)


@extend_schema(tags=["call-backs"])
class OptOutViewSet(
    DealershipScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Per-channel opt-outs with a reason; every notification honours them. DELETE opts the customer back in."""

    serializer_class = OptOutSerializer
    queryset = OptOut.objects.none()
    lookup_value_regex = "[^/]+"
    filterset_fields = ["customer", "channel"]

    def get_queryset(self):
        return OptOut.objects.filter(dealership_id__in=self.scoped_dealership_ids()).select_related("created_by")

    def perform_create(self, serializer):
        serializer.instance = services.opt_out_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.opt_out_delete(actor=self.request.user, opt_out=instance)


# -- issue 17 item 3: the customer's message thread and customers' messages -----------------------------------------
class ThreadEntrySerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        source="kind", choices=[("in", "in"), ("out", "out")], help_text="in: from the customer; out: sent by us"
    )
    id = serializers.IntegerField(source="pk", help_text="The inbound message's or the delivery's id")
    at = serializers.DateTimeField()
    channel = serializers.CharField(help_text="sms, whatsapp or email")
    channel_display = serializers.CharField()
    body = serializers.CharField()
    status = serializers.CharField(help_text="A delivery's status (out) or open/handled (in)")
    status_display = serializers.CharField()
    author = serializers.CharField(allow_null=True, help_text="The employee who wrote it (out); null for the system")
    event = serializers.IntegerField(source="event_id", allow_null=True)
    intent = serializers.CharField(allow_blank=True, help_text="in: confirm, reschedule, stop, start or other")
    intent_display = serializers.CharField(allow_blank=True)


class MessageThreadSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="pk")
    messages = serializers.SerializerMethodField()

    @extend_schema_field(ThreadEntrySerializer(many=True))
    def get_messages(self, customer) -> list:
        return ThreadEntrySerializer(selectors.customer_thread(customer=customer, limit=None), many=True).data


class MessageReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=1600)
    # Checked by the service: sms or whatsapp (where configured); empty: the channel the customer last wrote on.
    channel = serializers.CharField(required=False, allow_blank=True, default="", max_length=10)
    event = ScopedPrimaryKeyRelatedField(
        queryset=CallEvent.objects.all(), required=False, allow_null=True, default=None
    )


@extend_schema(tags=["messages"])
class MessageThreadViewSet(ScopedGenericViewSet, mixins.RetrieveModelMixin):
    """The messages between a customer and the dealership, both ways, oldest first; an employee's reply."""

    serializer_class = MessageThreadSerializer
    queryset = Customer.objects.none()
    filter_backends = []
    action_permissions = {
        "retrieve": ["notifications.view_delivery", "notifications.view_inboundmessage"],
        "reply": ["notifications.add_delivery"],
    }

    def get_queryset(self):
        return Customer.objects.filter(dealership_id__in=self.scoped_dealership_ids())

    @extend_schema(request=MessageReplySerializer, responses={201: MessageThreadSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        # the customer opted out of the channel → 409; no phone, bad channel or another customer's event → 400
        return self.run_action(
            request, conversations.message_send, MessageReplySerializer, target="customer",
            status_code=status.HTTP_201_CREATED,
        )  # fmt: skip


class InboundMessageSerializer(serializers.ModelSerializer):
    # A plain string keeps the schema's one channel enum (core's), as for opt-outs.
    channel = serializers.CharField(read_only=True, help_text="sms or whatsapp")
    assignee = UserBriefSerializer(read_only=True)
    handled_by = UserBriefSerializer(read_only=True)
    intent_display = serializers.CharField(source="get_intent_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "customer",
            "event",
            "reply_to",
            "channel",
            "sender",
            "body",
            "intent",
            "intent_display",
            "status",
            "status_display",
            "assignee",
            "received_at",
            "handled_at",
            "handled_by",
            "dealership",
        ]
        read_only_fields = fields


class InboundMessageFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")
    assignee = IdFilter(field_name="assignee_id")
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices)
    intent = django_filters.ChoiceFilter(choices=ReplyIntent.choices)

    class Meta:
        model = InboundMessage
        fields = ["customer", "assignee", "status", "intent"]


@extend_schema(tags=["messages"])
class InboundMessageViewSet(ScopedReadOnlyViewSet):
    """Customers' messages of the user's dealerships (SMS and WhatsApp replies), newest first; marking one handled."""

    serializer_class = InboundMessageSerializer
    queryset = InboundMessage.objects.none()
    filter_backends = api_settings.DEFAULT_FILTER_BACKENDS
    filterset_class = InboundMessageFilter
    ordering_fields = ["received_at", "id"]
    action_permissions = {"handle": ["notifications.handle_inboundmessage"]}

    def get_queryset(self):
        return selectors.inbound_list(dealership_ids=self.scoped_dealership_ids())

    @extend_schema(request=None, responses=InboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        # already handled → 409
        return self.run_action(request, conversations.inbound_message_handle, target="message")
