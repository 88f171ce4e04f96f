from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("parts", apis.PartViewSet, basename="part")
router.register("suppliers", apis.SupplierViewSet, basename="supplier")
urlpatterns = router.urls
