from django.urls import path

from . import public_views, views

app_name = "service"

urlpatterns = [
    path("appointments/", views.AppointmentCalendarView.as_view(), name="appointment_calendar"),
    path("appointments/list/", views.AppointmentListView.as_view(), name="appointment_list"),
    path("appointments/new/", views.AppointmentCreateView.as_view(), name="appointment_create"),
    path("appointments/vin-check/", views.VinCheckView.as_view(), name="vin_check"),
    path("appointments/handover-slot/", views.HandoverSlotView.as_view(), name="handover_slot"),  # issue 14 item 4
    path("appointments/preparation/", views.PreparationListView.as_view(), name="preparation_list"),
    path("appointments/calendar-feed/renew/", views.CalendarFeedRenewView.as_view(), name="calendar_feed_renew"),
    path(
        "appointments/online-booking/", public_views.OnlineBookingSettingsView.as_view(), name="online_booking_settings"
    ),
    path("appointments/confirmation-calls/", views.ConfirmationCallsView.as_view(), name="confirmation_calls"),
    path("appointments/<int:pk>/", views.AppointmentDetailView.as_view(), name="appointment_detail"),
    path("appointments/<int:pk>/prepare/", views.PreparationView.as_view(), name="appointment_prepare"),
    path("appointments/<int:pk>/reception/", views.ReceptionView.as_view(), name="appointment_reception"),
    path("appointments/<int:pk>/<slug:action>/", views.AppointmentActionView.as_view(), name="appointment_action"),
    path("workorders/", views.WorkOrderListView.as_view(), name="workorder_list"),
    path("workorders/new/", views.WorkOrderCreateView.as_view(), name="workorder_create"),
    path("workorders/jobs/pick/", views.JobPickerView.as_view(), name="pick_jobs"),  # issue 14 item 4
    path("workorders/<int:pk>/", views.WorkOrderDetailView.as_view(), name="workorder_detail"),
    path("workorders/<int:pk>/print.pdf", views.WorkOrderPdfView.as_view(), name="workorder_pdf"),
    path("workorders/<int:pk>/reception/", views.WorkOrderReceptionView.as_view(), name="workorder_reception"),
    path("workorders/<int:pk>/bin-label.pdf", views.BinLabelPdfView.as_view(), name="workorder_bin_label"),
    path("workorders/quality-photos/<int:pk>/", views.QualityPhotoView.as_view(), name="quality_photo"),
    path("workorders/<int:pk>/<slug:action>/", views.WorkOrderActionView.as_view(), name="workorder_action"),
    path("workshop/", views.WorkshopBoardView.as_view(), name="workshop_board"),
    path("loaners/", views.LoanerListView.as_view(), name="loaner_list"),
    path("loaners/reservations/<int:pk>/contract.pdf", views.LoanerContractPdfView.as_view(), name="loaner_contract"),
    path("loaners/reservations/<int:pk>/cancel/", views.LoanerReservationCancelView.as_view(), name="loaner_cancel"),
    path("recalls/", views.RecallListView.as_view(), name="recall_list"),
    path("service-schedule/", views.ScheduleView.as_view(), name="schedule"),
    # Issue 17 item 4: the public booking page and its variant for a frame in the dealership's site.
    path("book/<slug:code>/", public_views.OnlineBookingView.as_view(), name="online_booking"),
    path("book/<slug:code>/embed/", public_views.OnlineBookingEmbedView.as_view(), name="online_booking_embed"),
    path("appointment-reply/<str:token>/", views.PublicReplyView.as_view(), name="public_reply"),
    path("calendar-feed/<str:token>/appointments.ics", views.AdvisorCalendarFeedView.as_view(), name="advisor_feed"),
]
