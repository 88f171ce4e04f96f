from django.urls import path, re_path

from . import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.DashboardView.as_view(), name="dashboard"),
    re_path(r"^orders/export\.(?P<fmt>csv|xlsx)$", views.ExportView.as_view(), name="export"),
    path("orders/place-batch/", views.PlaceBatchView.as_view(), name="place_batch"),
    path("orders/receive-batch/", views.ReceiveBatchView.as_view(), name="receive_batch"),
    path("orders/kpis/", views.PartsKpiView.as_view(), name="kpis"),  # issue 15 item 8
    path("orders/replenish/<int:pk>/", views.ReplenishView.as_view(), name="replenish"),
    path("orders/new/", views.OrderCreateView.as_view(), name="create"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="detail"),
    path("orders/<int:pk>/print.pdf", views.OrderPdfView.as_view(), name="print"),
    path("orders/<int:pk>/place/", views.PlaceView.as_view(), name="place"),
    path("orders/<int:pk>/receive/", views.ReceiveView.as_view(), name="receive"),
    path("orders/<int:pk>/issue/", views.IssueView.as_view(), name="issue"),
    path("orders/<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("orders/<int:pk>/return-to-supplier/", views.ReturnToSupplierView.as_view(), name="return_to_supplier"),
]
