from django.urls import path

from dms.core.routes import record_pages

from . import views

app_name = "parts"

urlpatterns = [
    path("parts/", views.PartListView.as_view(), name="part_list"),
    path("parts/<int:pk>/", views.PartDetailView.as_view(), name="part_detail"),
    path("parts/lookup/", views.PartLookupView.as_view(), name="part_lookup"),
    path("parts/pick/", views.PartPickerView.as_view(), name="pick_parts"),  # issue 14 item 4
    path("parts/abc/run/", views.AbcRunView.as_view(), name="abc_run"),
    path("parts/dashboard/", views.PartsDashboardView.as_view(), name="dashboard"),
    path("parts/stock/", views.StockListView.as_view(), name="stock_list"),
    path("parts/stock/<int:pk>/edit/", views.BalanceUpdateView.as_view(), name="balance_update"),
    path("parts/stock/receive/", views.ReceiveView.as_view(), name="receive"),
    path("parts/stock/issue/", views.IssueView.as_view(), name="issue"),
    path("parts/stock/transfer/", views.TransferView.as_view(), name="transfer"),
    *record_pages("parts/warehouses/", "Warehouse", views, "list", "create", "update"),
    path("parts/warehouses/<int:warehouse_pk>/bins/new/", views.LocationCreateView.as_view(), name="location_create"),
    path("parts/bins/<int:pk>/edit/", views.LocationUpdateView.as_view(), name="location_update"),
    path("parts/bins/<int:pk>/close/", views.LocationDeactivateView.as_view(), name="location_deactivate"),
    path("parts/movements/", views.MovementListView.as_view(), name="movement_list"),
    path("parts/reports/stock-value/", views.StockValueReportView.as_view(), name="stock_value"),
    path("parts/reports/job-cost/", views.JobCostReportView.as_view(), name="job_cost"),
    path("parts/counts/", views.CountListView.as_view(), name="count_list"),
    path("parts/counts/new/", views.CountStartView.as_view(), name="count_start"),
    path("parts/counts/<int:pk>/", views.CountDetailView.as_view(), name="count_detail"),
    path("parts/counts/<int:pk>/enter/", views.CountEnterView.as_view(), name="count_enter"),
    path("parts/counts/<int:pk>/sheet.pdf", views.CountSheetPdfView.as_view(), name="count_sheet"),
    path(
        "parts/counts/<int:pk>/<str:action>/",
        views.CountActionView.as_view(),
        name="count_action",
    ),
    path("parts/sales/<int:pk>/invoice.pdf", views.SalesInvoicePdfView.as_view(), name="sales_invoice"),
    *record_pages("parts/sales/", "Sales", views, "list", "create", "detail", "action"),
    path("parts/sales/pick/", views.ShippedSalesOrderPickerView.as_view(), name="pick_sales_orders"),
    *record_pages("parts/returns/", "Return", views, "list", "create", "detail", "action"),
    *record_pages("parts/requisitions/", "Requisition", views, "list", "create", "detail", "action"),
]
