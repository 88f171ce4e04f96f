from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("orders", apis.CustomerOrderViewSet, basename="customerorder")
urlpatterns = router.urls
