"""API of outbound webhooks (issue 16 item 5): subscriptions (CRUD, secret rotation) and the delivery log."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import webhooks
from .api_base import DealershipScopedMixin
from .models import WebhookAttempt, WebhookDelivery, WebhookEventType, WebhookSubscription


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "dealership",
            "target_url",
            "event_types",
            "is_active",
            "description",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "dealership",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


class WebhookSubscriptionSecretSerializer(WebhookSubscriptionSerializer):
    """The answer to creating a subscription or rotating its secret: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "dealership",
            "subscription",
            "delivery_id",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


@extend_schema_view(
    create=extend_schema(
        summary="Subscribe an endpoint; the answer shows the signing secret, once",
        responses={201: WebhookSubscriptionSecretSerializer},
    ),
)
@extend_schema(tags=["webhooks"])
class WebhookSubscriptionViewSet(DealershipScopedMixin, viewsets.ModelViewSet):
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.none()
    filterset_fields = ["is_active"]
    ordering_fields = ["id", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {"rotate_secret": ["core.change_webhooksubscription"]}

    def get_queryset(self):
        return webhooks.subscription_list(dealership_ids=self.scoped_dealership_ids())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhooks.webhook_subscription_create(
            actor=request.user, dealership=self.write_dealership(), **serializer.validated_data
        )
        data = WebhookSubscriptionSecretSerializer(subscription, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = webhooks.webhook_subscription_update(
            actor=self.request.user, subscription=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        webhooks.webhook_subscription_delete(actor=self.request.user, subscription=instance)

    @extend_schema(
        summary="Replace the signing secret; the answer shows the new one, once",
        request=None,
        responses=WebhookSubscriptionSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription = webhooks.webhook_subscription_rotate_secret(actor=request.user, subscription=self.get_object())
        return Response(WebhookSubscriptionSecretSerializer(subscription, context=self.get_serializer_context()).data)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(
    DealershipScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    filterset_fields = ["subscription", "event_type", "status"]
    ordering_fields = ["created_at", "id"]
    action_permissions = {"redeliver": ["core.change_webhookdelivery"]}

    def get_queryset(self):
        return webhooks.delivery_list(dealership_ids=self.scoped_dealership_ids())

    @extend_schema(
        summary="Send the delivery again (same X-DMS-Delivery id); 409 while its subscription is disabled",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = webhooks.webhook_delivery_redeliver(actor=request.user, delivery=self.get_object())
        delivery.refresh_from_db()
        return Response(
            WebhookDeliverySerializer(delivery, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )
