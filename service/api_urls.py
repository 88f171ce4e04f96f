from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter()
router.register("appointments", apis.AppointmentViewSet, basename="appointment")
router.register("loaners", apis.LoanerViewSet, basename="loaner")
router.register("loaner-reservations", apis.LoanerReservationViewSet, basename="loanerreservation")
router.register("work-orders", apis.WorkOrderViewSet, basename="workorder")
urlpatterns = router.urls
