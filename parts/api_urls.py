from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("parts", apis.PartViewSet, basename="part")
router.register("suppliers", apis.SupplierViewSet, basename="supplier")
router.register("supplier-prices", apis.SupplierPriceViewSet, basename="supplierprice")
router.register("warehouses", apis.WarehouseViewSet, basename="warehouse")
router.register("bin-locations", apis.LocationViewSet, basename="location")
router.register("stock", apis.StockBalanceViewSet, basename="stock")
router.register("stock-movements", apis.StockMovementViewSet, basename="stockmovement")
router.register("reservations", apis.ReservationViewSet, basename="reservation")
router.register("stock-alerts", apis.LowStockAlertViewSet, basename="lowstockalert")
router.register("stock-counts", apis.StockCountViewSet, basename="stockcount")
router.register("sales-orders", apis.SalesOrderViewSet, basename="salesorder")
router.register("returns", apis.ReturnRequestViewSet, basename="returnrequest")
router.register("requisitions", apis.RequisitionViewSet, basename="requisition")
router.register("old-parts", apis.OldPartReturnViewSet, basename="oldpartreturn")
urlpatterns = router.urls
