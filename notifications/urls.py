from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("calls/", views.MyCallsView.as_view(), name="my_calls"),
    path("calls/<int:pk>/complete/", views.CompleteCallView.as_view(), name="complete_call"),
    path("customers/<int:customer_pk>/opt-outs/", views.OptOutCreateView.as_view(), name="optout_create"),
    path("opt-outs/<int:pk>/delete/", views.OptOutDeleteView.as_view(), name="optout_delete"),
    path("reports/call-compliance/", views.CallComplianceView.as_view(), name="call_compliance"),
    path("notifications/twilio/status/", views.TwilioStatusCallbackView.as_view(), name="twilio_status"),
    path("notifications/twilio/inbound/", views.TwilioInboundView.as_view(), name="twilio_inbound"),
    path("calls/<int:pk>/", views.CallEventDetailView.as_view(), name="call_detail"),
    path("customers/<int:customer_pk>/messages/", views.MessageSendView.as_view(), name="message_send"),
    path("messages/", views.InboxView.as_view(), name="inbox"),
    path("messages/<int:pk>/handle/", views.InboundHandleView.as_view(), name="inbound_handle"),
]
