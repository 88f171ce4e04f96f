from django.urls import path

from dms.core.routes import record_pages

from . import views

app_name = "claims"

urlpatterns = [
    # Complaints (R33, R24)
    *record_pages("complaints/", "Complaint", views),
    path("complaints/pick/", views.ComplaintPickerView.as_view(), name="pick_complaints"),
    path("complaints/<int:pk>/assign/", views.ComplaintAssignView.as_view(), name="complaint_assign"),
    path(
        "complaints/<int:pk>/investigate/",
        views.ComplaintActionView.as_view(action_name="start_investigation"),
        name="complaint_investigate",
    ),
    path("complaints/<int:pk>/note/", views.ComplaintNoteView.as_view(), name="complaint_note"),
    path("complaints/<int:pk>/solution/", views.ComplaintSolutionView.as_view(), name="complaint_solution"),
    path("complaints/<int:pk>/close/", views.ComplaintCloseView.as_view(), name="complaint_close"),
    path("complaints/<int:pk>/attach/", views.ComplaintAttachmentView.as_view(), name="complaint_attach"),
    path("complaint/<slug:code>/", views.PublicComplaintView.as_view(), name="public_complaint"),
    # Warranty claims (R22)
    *record_pages("claims/", "Claim", views),
    path("claims/jobs/pick/", views.ClaimJobPickerView.as_view(), name="pick_claim_jobs"),  # issue 14 item 4
    path("claims/workorders/pick/", views.ClaimWorkOrderPickerView.as_view(), name="pick_claim_work_orders"),
    path("claims/<int:pk>/submit/", views.ClaimActionView.as_view(action_name="submit"), name="claim_submit"),
    path(
        "claims/<int:pk>/fmc-confirm/",
        views.ClaimActionView.as_view(action_name="fmc_confirm"),
        name="claim_fmc_confirm",
    ),
    path("claims/<int:pk>/confirm/", views.ClaimConfirmView.as_view(), name="claim_confirm"),
    path("claims/<int:pk>/payment/", views.ClaimPaymentView.as_view(), name="claim_payment"),
    path("claims/<int:pk>/return/", views.ClaimReturnView.as_view(), name="claim_return"),
    path("claims/<int:pk>/reject/", views.ClaimRejectView.as_view(), name="claim_reject"),
    path("claims/<int:pk>/attach/", views.ClaimAttachmentView.as_view(), name="claim_attach"),
    path("claims/quarantine/", views.QuarantineListView.as_view(), name="quarantine_list"),
    path("claims/quarantine/<int:pk>/", views.QuarantineDisposeView.as_view(), name="quarantine_dispose"),
    # Goodwill claims (R23)
    *record_pages("goodwill/", "Goodwill", views),
    path("goodwill/<int:pk>/submit/", views.GoodwillActionView.as_view(action_name="submit"), name="goodwill_submit"),
    path(
        "goodwill/<int:pk>/fmc-confirm/",
        views.GoodwillActionView.as_view(action_name="fmc_confirm"),
        name="goodwill_fmc_confirm",
    ),
    path(
        "goodwill/<int:pk>/cac-confirm/",
        views.GoodwillActionView.as_view(action_name="cac_confirm"),
        name="goodwill_cac_confirm",
    ),
    path("goodwill/<int:pk>/payment/", views.GoodwillPaymentView.as_view(), name="goodwill_payment"),
    path("goodwill/<int:pk>/return/", views.GoodwillReturnView.as_view(), name="goodwill_return"),
    path("goodwill/<int:pk>/reject/", views.GoodwillRejectView.as_view(), name="goodwill_reject"),
    path("goodwill/<int:pk>/attach/", views.GoodwillAttachmentView.as_view(), name="goodwill_attach"),
    # Files, KPIs, settings
    path("claims/files/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment_download"),
    path("claims/kpi/", views.KpiView.as_view(), name="kpi"),
    path("claims/kpi/export.csv", views.KpiExportView.as_view(), name="kpi_export"),
    path("claims/settings/", views.ClaimsSettingsView.as_view(), name="settings"),
    # Issue 18 item 6: staff KPIs and appraisal (seed 004)
    path("staff/kpis/", views.StaffKpiView.as_view(), name="staff_kpis"),
    path("staff/efficiency/", views.TechnicianEfficiencyView.as_view(), name="technician_efficiency"),  # item 5
    path("staff/appraisals/open/", views.StaffAppraisalOpenView.as_view(), name="staff_appraisal_open"),
    path("staff/appraisals/<int:pk>/", views.StaffAppraisalDetailView.as_view(), name="staff_appraisal_detail"),
    path(
        "staff/appraisals/<int:pk>/<str:action>/",
        views.StaffAppraisalActionView.as_view(),
        name="staff_appraisal_action",
    ),
]
