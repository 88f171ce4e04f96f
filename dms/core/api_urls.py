from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("customers", apis.CustomerViewSet, basename="customer")
router.register("vehicles", apis.VehicleViewSet, basename="vehicle")
urlpatterns = router.urls
