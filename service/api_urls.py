from django.urls import path
from rest_framework.routers import DefaultRouter

from . import apis, workshop_apis

router = DefaultRouter()
router.register("appointments", apis.AppointmentViewSet, basename="appointment")
router.register("loaners", apis.LoanerViewSet, basename="loaner")
router.register("loaner-reservations", apis.LoanerReservationViewSet, basename="loanerreservation")
router.register("work-orders", apis.WorkOrderViewSet, basename="workorder")
router.register("service-follow-ups", apis.ServiceFollowUpViewSet, basename="servicereminder")  # issue 17 item 5
router.register("technicians", workshop_apis.TechnicianViewSet, basename="technician")  # issue 18
router.register("job-clocks", workshop_apis.JobClockViewSet, basename="jobclock")  # issue 18
urlpatterns = [
    *router.urls,
    # Issues 17 item 5, 18 item 3: the dealership's service settings (follow-up days, overload rule, online booking).
    path("service-settings/", apis.ServiceSettingsApi.as_view(), name="api_service_settings"),
    # Issue 17 item 4: the public booking page's times (no login).
    path(
        "public/booking/<slug:code>/slots/",
        apis.OnlineBookingSlotsApi.as_view(),
        name="api_online_booking_slots",
    ),
]
