from django.urls import path

from . import views
from .routes import record_pages

app_name = "core"

urlpatterns = [
    path("dealership/switch/", views.SwitchDealershipView.as_view(), name="switch_dealership"),
    path("reports/", views.ReportsView.as_view(), name="reports"),
    *record_pages("customers/", "Customer", views),
    path("customers/<int:pk>/revoke-links/", views.CustomerLinksRevokeView.as_view(), name="customer_revoke_links"),
    *record_pages("vehicles/", "Vehicle", views),
    # Issue 14 item 4: the pickers' searches (JSON for the page's own forms; the API has its own lists).
    path("pick/customers/", views.CustomerPickerView.as_view(), name="pick_customers"),
    path("pick/vehicles/", views.VehiclePickerView.as_view(), name="pick_vehicles"),
    path("pick/employees/", views.EmployeePickerView.as_view(), name="pick_employees"),
]
