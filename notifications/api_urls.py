from django.urls import path
from rest_framework.routers import DefaultRouter

from . import apis

# DefaultRouter for its format-suffix routes (an id like "0.5" still gets the API's JSON 404); the API root is core's.
router = DefaultRouter()
router.include_root_view = False
router.register("call-events", apis.CallEventViewSet, basename="callevent")
router.register("opt-outs", apis.OptOutViewSet, basename="optout")
router.register("message-threads", apis.MessageThreadViewSet, basename="messagethread")
router.register("inbound-messages", apis.InboundMessageViewSet, basename="inboundmessage")
urlpatterns = [
    path("reports/call-compliance/", apis.CallComplianceReportApi.as_view(), name="api_call_compliance"),
    *router.urls,
]
