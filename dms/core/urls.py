from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("dealership/switch/", views.SwitchDealershipView.as_view(), name="switch_dealership"),
    path("reports/", views.ReportsView.as_view(), name="reports"),
    path("customers/", views.CustomerListView.as_view(), name="customer_list"),
    path("customers/new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("customers/<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_update"),
    path("customers/<int:pk>/revoke-links/", views.CustomerLinksRevokeView.as_view(), name="customer_revoke_links"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehicle_list"),
    path("vehicles/new/", views.VehicleCreateView.as_view(), name="vehicle_create"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle_detail"),
    path("vehicles/<int:pk>/edit/", views.VehicleUpdateView.as_view(), name="vehicle_update"),
    # Issue 14 item 4: the pickers' searches (JSON for the page's own forms; the API has its own lists).
    path("pick/customers/", views.CustomerPickerView.as_view(), name="pick_customers"),
    path("pick/vehicles/", views.VehiclePickerView.as_view(), name="pick_vehicles"),
    path("pick/employees/", views.EmployeePickerView.as_view(), name="pick_employees"),
]
