"""A customer who comes without an appointment: the advisor opens a work order (page and API)."""

import pytest
from django.urls import reverse

from dms.core import roles
from service.models import WorkOrder, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_advisor_opens_a_walk_in_work_order_on_the_page(client, advisor, vehicle):
    client.force_login(advisor)
    page = client.get(reverse("service:workorder_list"))
    assert 'id="new-workorder"' in page.content.decode()
    form = client.get(reverse("service:workorder_create") + f"?customer={vehicle.customer_id}&vehicle={vehicle.pk}")
    assert form.status_code == 200 and vehicle.vin in form.content.decode()
    response = client.post(
        reverse("service:workorder_create"),
        {"customer": vehicle.customer_id, "vehicle": vehicle.pk, "complaint": "Стучит спереди справа на кочках"},
    )
    wo = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == wo.get_absolute_url()
    assert (wo.customer_id, wo.vehicle_id, wo.advisor_id, wo.appointment_id) == (
        vehicle.customer_id,
        vehicle.pk,
        advisor.pk,
        None,
    )
    assert wo.status == WorkOrderStatus.OPENED and wo.complaint.startswith("Стучит") and wo.number.startswith("ЗН-")


def test_page_refuses_a_vehicle_of_another_customer_and_an_empty_complaint(client, advisor, vehicle, dealership):
    client.force_login(advisor)
    stranger = CustomerFactory(dealership=dealership)
    response = client.post(
        reverse("service:workorder_create"), {"customer": stranger.pk, "vehicle": vehicle.pk, "complaint": "x"}
    )
    assert response.status_code == 200 and "vehicle" in response.context["form"].errors
    empty = client.post(
        reverse("service:workorder_create"), {"customer": vehicle.customer_id, "vehicle": vehicle.pk, "complaint": ""}
    )
    assert "complaint" in empty.context["form"].errors
    assert WorkOrder.objects.count() == 0


def test_roles_without_add_permission_see_no_button_and_get_403(client, make_user):
    storekeeper = make_user(roles.STOREKEEPER)
    client.force_login(storekeeper)
    assert 'id="new-workorder"' not in client.get(reverse("service:workorder_list")).content.decode()
    assert client.get(reverse("service:workorder_create")).status_code == 403


def test_api_opens_a_walk_in_work_order(api_as, advisor, vehicle, other_dealership, make_user):
    client = api_as(advisor)
    response = client.post(
        "/api/work-orders/",
        {"customer": vehicle.customer_id, "vehicle": vehicle.pk, "complaint": "Не заводится в мороз"},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["status"] == WorkOrderStatus.OPENED and response.data["vehicle"] == vehicle.pk
    assert WorkOrder.objects.get(pk=response.data["id"]).complaint == "Не заводится в мороз"

    foreign = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    bad = client.post(
        "/api/work-orders/", {"customer": foreign.customer_id, "vehicle": foreign.pk, "complaint": "x"}, format="json"
    )
    assert bad.status_code == 400 and {"customer", "vehicle"} <= set(bad.data)
    missing = client.post("/api/work-orders/", {"customer": vehicle.customer_id}, format="json")
    assert missing.status_code == 400 and {"vehicle", "complaint"} <= set(missing.data)
    denied = api_as(make_user(roles.STOREKEEPER)).post(
        "/api/work-orders/", {"customer": vehicle.customer_id, "vehicle": vehicle.pk, "complaint": "x"}, format="json"
    )
    assert denied.status_code == 403
    assert WorkOrder.objects.count() == 1
