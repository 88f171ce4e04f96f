from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("call-events", apis.CallEventViewSet, basename="callevent")
router.register("opt-outs", apis.OptOutViewSet, basename="optout")
urlpatterns = [
    path("reports/call-compliance/", apis.CallComplianceReportApi.as_view(), name="api_call_compliance"),
    *router.urls,
]
