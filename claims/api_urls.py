from django.urls import path
from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("complaints", apis.ComplaintViewSet, basename="complaint")
router.register("goodwill-claims", apis.GoodwillClaimViewSet, basename="goodwillclaim")
router.register("warranty-claims", apis.WarrantyClaimViewSet, basename="warrantyclaim")
router.register("quarantined-parts", apis.QuarantinedPartViewSet, basename="quarantinedpart")
router.register("staff-appraisals", apis.StaffAppraisalViewSet, basename="staffappraisal")  # issue 18 item 6
urlpatterns = [
    path("public/complaints/", apis.PublicComplaintApi.as_view(), name="public_complaint_api"),
    path("claims-kpi/", apis.ClaimsKpiApi.as_view(), name="claims_kpi_api"),
    path("staff-kpis/", apis.StaffKpiApi.as_view(), name="staff_kpis_api"),  # issue 18 item 6
    path("technician-efficiency/", apis.TechnicianEfficiencyApi.as_view(), name="technician_efficiency_api"),
    *router.urls,
]
