from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from . import links, selectors, services
from .api_base import DRF_LOOKUP_REGEX, SEARCH_PARAMETER, ScopedModelViewSet, ScopedPrimaryKeyRelatedField
from .history import API_MAX_ROWS, API_ROWS, item_as_data, load_sections, sections_for
from .inputs import parse_id
from .models import Customer, Vehicle, normalize_vin, validate_vin
from .parsers import BoundedJSONParser
from .security import ClientAddressThrottle

User = get_user_model()


class BoundedAuthTokenSerializer(AuthTokenSerializer):
    """A username longer than the column names nobody: refused before the login-failure log would store it (a 500
    from its column before; issue 12 item 5)."""

    username = serializers.CharField(
        label=AuthTokenSerializer._declared_fields["username"].label,
        write_only=True,
        max_length=User._meta.get_field("username").max_length,
    )


class TokenObtainApi(ObtainAuthToken):
    """POST username and password, get ``{"token": ...}``; throttled, and locked out after repeated failures."""

    # ObtainAuthToken turns throttling off (throttle_classes = ()): switch the scoped throttle back on, keyed on the
    # client address as the trusted proxy reports it (issue 12 item 4).
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "auth"
    permission_classes = ()
    # ObtainAuthToken names its own parsers: keep the JSON depth limit here too (issue 12 item 5).
    parser_classes = [FormParser, MultiPartParser, BoundedJSONParser]
    serializer_class = BoundedAuthTokenSerializer

    def get_serializer_context(self):
        # django-axes marks a locked-out login on the Django request, which its middleware then answers with 429.
        return {"request": self.request._request, "format": self.format_kwarg, "view": self}


class RevokedLinksSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(read_only=True)


class CustomerSerializer(serializers.ModelSerializer):
    phone = PhoneNumberField()
    phone_alt = PhoneNumberField(required=False, allow_blank=True)
    assigned_manager = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    vehicles = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "dealership",
            "name",
            "phone",
            "phone_alt",
            "email",
            "preferred_channel",
            "first_contact_channel",
            "lead_source",
            "assigned_manager",
            "is_vip",
            "notes",
            "language",
            "vehicles",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["dealership", "created_at", "updated_at"]


class VehicleSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    # Declared without the model's validators: the VIN is upper-cased first, then checked.
    vin = serializers.CharField(max_length=40)

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "dealership",
            "vin",
            "make",
            "model",
            "year",
            "plate",
            "mileage",
            "warranty_start",
            "warranty_end",
            "warranty_mileage_limit",
            "customer",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["dealership", "created_at", "updated_at"]
        # Uniqueness per dealership is checked by the service, which knows the dealership.
        validators = []

    def validate_vin(self, value: str) -> str:
        value = normalize_vin(value)
        validate_vin(value)
        return value

    def validate_year(self, value):
        if value is not None and not 1950 <= value <= 2100:
            raise serializers.ValidationError("Year must be between 1950 and 2100.")
        return value


class HistoryItemSerializer(serializers.Serializer):
    """One record on a customer's or vehicle's history (issue 14 item 3)."""

    kind = serializers.CharField(
        help_text="customer_order, call, message, sales_order, return, appointment, "
        "work_order, loan, recall, declined_finding, complaint, warranty_claim or goodwill_claim"
    )
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="The record's number, or what it is when it has none.")
    status = serializers.CharField(help_text="The status code.")
    status_label = serializers.CharField(help_text="The status in the reader's language.")
    date = serializers.DateField(allow_null=True, help_text="The record's day in the dealership's calendar.")
    at = serializers.DateTimeField(allow_null=True, help_text="The moment, for records that have one.")
    is_open = serializers.BooleanField()
    url = serializers.CharField(allow_null=True, help_text="The record's page (or the page it is shown on).")
    detail = serializers.CharField(allow_blank=True)
    mileage = serializers.IntegerField(allow_null=True, help_text="Mileage read at reception, km (work orders).")


class HistorySectionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    total = serializers.IntegerField(help_text="How many records of this kind there are; items holds the first.")
    items = HistoryItemSerializer(many=True)


class HistorySerializer(serializers.Serializer):
    sections = HistorySectionSerializer(many=True, help_text="Open records first, then newest first.")


HISTORY_LIMIT_PARAMETER = OpenApiParameter(
    "limit", int, description=f"Records per section (default {API_ROWS}, at most {API_MAX_ROWS})."
)


def history_response(request, subject, hook_name: str) -> Response:
    """Issue 14 item 3: the card's sections the user may see, bounded per section (``?limit=``)."""
    limit = min(parse_id(request.query_params.get("limit", "")) or API_ROWS, API_MAX_ROWS)
    sections = [section for section in sections_for(request.user, subject, hook_name) if section.in_api]
    tz = subject.dealership.tz
    data = {
        "sections": [
            {
                "kind": loaded.kind,
                "title": str(loaded.title),
                "total": loaded.total,
                "items": [item_as_data(item, tz) for item in loaded.items],
            }
            for loaded in load_sections(sections, limit=limit)
        ]
    }
    return Response(HistorySerializer(data).data)


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["customers"])
class CustomerViewSet(ScopedModelViewSet):
    lean_list = True
    serializer_class = CustomerSerializer
    queryset = Customer.objects.none()
    filterset_fields = ["preferred_channel", "lead_source", "assigned_manager", "is_vip"]
    ordering_fields = ["name", "created_at"]
    lookup_value_regex = DRF_LOOKUP_REGEX
    create_service = services.customer_create
    update_service = services.customer_update
    update_kwarg = "customer"

    def get_queryset(self):
        # Issue 19: the items give the manager's, the dealership's and the vehicles' ids only — no related rows are
        # built (each would cost a model instance per item; the list was 20× its raw query).
        return (
            selectors.customer_list(dealership_ids=self.scoped_dealership_ids(), search=self.search_param())
            .select_related(None)
            .prefetch_related(Prefetch("vehicles", queryset=Vehicle.objects.only("id", "customer_id")))
        )

    @extend_schema(responses=HistorySerializer, parameters=[HISTORY_LIMIT_PARAMETER])
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Everything the dealership has done with the customer, by kind: open records first, then newest."""
        return history_response(request, self.get_object(), "customer_history")

    action_permissions = {"revoke_links": ["core.change_customerlink"]}

    @extend_schema(summary="Revoke every live link of the customer (status page, replies)", request=None,
                   responses=RevokedLinksSerializer)  # fmt: skip
    @action(detail=True, methods=["post"], url_path="revoke-links")
    def revoke_links(self, request, pk=None):
        """Issue 17: a lost phone or a forwarded message — the customer's links stop opening at once (410)."""
        count = links.links_revoke(actor=request.user, customer=self.get_object())
        return Response({"revoked": count})


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
@extend_schema(tags=["vehicles"])
class VehicleViewSet(ScopedModelViewSet):
    lean_list = True
    serializer_class = VehicleSerializer
    queryset = Vehicle.objects.none()
    filterset_fields = ["customer", "make", "year"]
    ordering_fields = ["vin", "make", "created_at", "mileage"]

    lookup_value_regex = DRF_LOOKUP_REGEX
    create_service = services.vehicle_create
    update_service = services.vehicle_update
    update_kwarg = "vehicle"

    def get_queryset(self):
        # Issue 19: the items give the customer's id only; building the customer (and parsing its two phone numbers)
        # for every item made the list 20× its raw query.
        return selectors.vehicle_list(
            dealership_ids=self.scoped_dealership_ids(), search=self.search_param()
        ).select_related(None)

    @extend_schema(responses=HistorySerializer, parameters=[HISTORY_LIMIT_PARAMETER])
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Everything the dealership has done with the vehicle, by kind — its open recall campaigns included."""
        return history_response(request, self.get_object(), "vehicle_history")
