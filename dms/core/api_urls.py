from rest_framework.routers import DefaultRouter

from . import apis, webhook_apis

router = DefaultRouter()
router.register("customers", apis.CustomerViewSet, basename="customer")
router.register("vehicles", apis.VehicleViewSet, basename="vehicle")
router.register("webhook-subscriptions", webhook_apis.WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhook-deliveries", webhook_apis.WebhookDeliveryViewSet, basename="webhook-delivery")
urlpatterns = router.urls
