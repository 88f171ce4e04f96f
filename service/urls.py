from django.urls import path

from dms.core.routes import record_pages

from . import public_views, views, workshop_views

app_name = "service"

urlpatterns = [
    path("appointments/", views.AppointmentCalendarView.as_view(), name="appointment_calendar"),
    path("appointments/list/", views.AppointmentListView.as_view(), name="appointment_list"),
    path("appointments/vin-check/", views.VinCheckView.as_view(), name="vin_check"),
    path("appointments/handover-slot/", views.HandoverSlotView.as_view(), name="handover_slot"),  # issue 14 item 4
    path("appointments/preparation/", views.PreparationListView.as_view(), name="preparation_list"),
    path("appointments/calendar-feed/renew/", views.CalendarFeedRenewView.as_view(), name="calendar_feed_renew"),
    path(
        "appointments/online-booking/", public_views.OnlineBookingSettingsView.as_view(), name="online_booking_settings"
    ),
    path("reminders/settings/", public_views.FollowUpSettingsView.as_view(), name="follow_up_settings"),
    path("appointments/confirmation-calls/", views.ConfirmationCallsView.as_view(), name="confirmation_calls"),
    *record_pages("appointments/", "Appointment", views, "create", "detail"),
    path("appointments/<int:pk>/prepare/", views.PreparationView.as_view(), name="appointment_prepare"),
    path("appointments/<int:pk>/reception/", views.ReceptionView.as_view(), name="appointment_reception"),
    path("appointments/<int:pk>/<slug:action>/", views.AppointmentActionView.as_view(), name="appointment_action"),
    *record_pages("workorders/", "WorkOrder", views, "list", "create", "detail"),
    path("workorders/jobs/pick/", views.JobPickerView.as_view(), name="pick_jobs"),  # issue 14 item 4
    path("workorders/pick/", views.OpenWorkOrderPickerView.as_view(), name="pick_work_orders"),
    path("workorders/<int:pk>/print.pdf", views.WorkOrderPdfView.as_view(), name="workorder_pdf"),
    path("workorders/<int:pk>/reception/", views.WorkOrderReceptionView.as_view(), name="workorder_reception"),
    path("workorders/<int:pk>/bin-label.pdf", views.BinLabelPdfView.as_view(), name="workorder_bin_label"),
    path("workorders/quality-photos/<int:pk>/", views.QualityPhotoView.as_view(), name="quality_photo"),
    path("workorders/<int:pk>/<slug:action>/", views.WorkOrderActionView.as_view(), name="workorder_action"),
    path("workshop/", views.WorkshopBoardView.as_view(), name="workshop_board"),
    # Issue 18: technicians, the tablet page, job assignment, the load per day, the board by technician.
    path("workshop/technicians/", workshop_views.TechnicianListView.as_view(), name="technician_list"),
    path("workshop/technicians/new/", workshop_views.TechnicianCreateView.as_view(), name="technician_create"),
    path("workshop/technicians/<int:pk>/", workshop_views.TechnicianDetailView.as_view(), name="technician_detail"),
    path("workshop/my-jobs/", workshop_views.MyJobsView.as_view(), name="my_jobs"),
    path("workshop/my-jobs/<int:pk>/<slug:action>/", workshop_views.JobClockActionView.as_view(), name="job_clock"),
    path("workshop/load/", workshop_views.WorkshopLoadView.as_view(), name="workshop_load"),
    path("workshop/load/settings/", public_views.WorkshopLoadSettingsView.as_view(), name="workshop_load_settings"),
    path("workshop/board/", workshop_views.TechnicianBoardView.as_view(), name="technician_board"),
    path("workorders/<int:pk>/jobs/<int:job>/assign/", workshop_views.JobAssignView.as_view(), name="job_assign"),
    path("loaners/", views.LoanerListView.as_view(), name="loaner_list"),
    path("loaners/reservations/<int:pk>/contract.pdf", views.LoanerContractPdfView.as_view(), name="loaner_contract"),
    path("loaners/reservations/<int:pk>/cancel/", views.LoanerReservationCancelView.as_view(), name="loaner_cancel"),
    path("recalls/", views.RecallListView.as_view(), name="recall_list"),
    path("reminders/<int:pk>/called/", views.ServiceReminderActionView.as_view(), name="reminder_called"),
    path("service-schedule/", views.ScheduleView.as_view(), name="schedule"),
    # Issue 17 item 4: the public booking page and its variant for a frame in the dealership's site.
    path("book/<slug:code>/", public_views.OnlineBookingView.as_view(), name="online_booking"),
    path("book/<slug:code>/embed/", public_views.OnlineBookingEmbedView.as_view(), name="online_booking_embed"),
    path("appointment-reply/<str:token>/", views.PublicReplyView.as_view(), name="public_reply"),
    path("workorders/finding-photos/<int:pk>/", views.FindingPhotoView.as_view(), name="finding_photo"),
    # Issue 17: the customer's status page (a customer link, no login) and the photos shown on it.
    path("c/<str:token>/", views.CustomerStatusView.as_view(), name="customer_status"),
    path("c/<str:token>/photos/<int:pk>/", views.CustomerFindingPhotoView.as_view(), name="customer_finding_photo"),
    path("calendar-feed/<str:token>/appointments.ics", views.AdvisorCalendarFeedView.as_view(), name="advisor_feed"),
]
