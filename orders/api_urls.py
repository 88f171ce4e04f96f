from django.urls import path
from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("orders", apis.CustomerOrderViewSet, basename="customerorder")
# Issue 15 item 8: only /api/suppliers/{id}/record/ (the suppliers themselves are parts' routes).
router.register("suppliers", apis.SupplierRecordViewSet, basename="supplier-record")
urlpatterns = [
    # issue 15 item 8: the directors' parts KPIs
    path("reports/parts-kpis/", apis.PartsKpiApi.as_view(), name="api_parts_kpis"),
    *router.urls,
]
