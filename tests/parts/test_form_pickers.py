"""The return request form's order and the requisition form's work order are searched as the user types
(parts:pick_sales_orders, service:pick_work_orders): the pages never list a dealership's every shipped order or open
work order, and the forms still accept only the dealership's own matching records."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from dms.core import roles
from parts.models import Requisition, ReturnRequest, SalesOrder, SalesOrderLine
from tests.factories import CustomerFactory
from tests.service.factories import make_work_order

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[str]:
    """The values of the <option>s of the form's <select name=…>."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def sales_order(*, customer, manager, number, status=SalesOrder.Status.SHIPPED):
    return SalesOrder.objects.create(
        dealership=customer.dealership, customer=customer, manager=manager, number=number, status=status
    )


@pytest.fixture
def orders(customer, parts_manager, dealership, other_dealership, make_user):
    petrov = CustomerFactory(dealership=dealership, name="Петров Игорь")
    foreign = CustomerFactory(dealership=other_dealership, name="Петров Чужой")
    foreign_manager = make_user(roles.PARTS_MANAGER, dealerships=[other_dealership])
    return {
        "first": sales_order(customer=customer, manager=parts_manager, number="ПЗ-000101"),
        "second": sales_order(customer=customer, manager=parts_manager, number="ПЗ-000102"),
        "petrov": sales_order(customer=petrov, manager=parts_manager, number="ПЗ-000103"),
        "not_shipped": sales_order(
            customer=customer, manager=parts_manager, number="ПЗ-000104", status=SalesOrder.Status.INVOICED
        ),
        "foreign": sales_order(customer=foreign, manager=foreign_manager, number="ПЗ-000105"),
    }


def test_sales_order_picker_lists_the_dealerships_shipped_orders(client, parts_manager, orders):
    client.force_login(parts_manager)
    url = reverse("parts:pick_sales_orders")
    listed = client.get(url).json()["results"]
    assert [r["id"] for r in listed] == [orders[key].pk for key in ("petrov", "second", "first")]  # newest first
    petrov = orders["petrov"]
    assert client.get(url, {"q": "петров"}).json()["results"] == [
        {"id": petrov.pk, "text": "ПЗ-000103", "detail": "Петров Игорь", "customer": petrov.customer_id}
    ]
    assert [r["id"] for r in client.get(url, {"q": "000102"}).json()["results"]] == [orders["second"].pk]
    for hidden in ("not_shipped", "foreign"):
        assert client.get(url, {"q": orders[hidden].number}).json()["results"] == [], hidden
    narrowed = client.get(url, {"customer": orders["first"].customer_id}).json()["results"]
    assert [r["id"] for r in narrowed] == [orders["second"].pk, orders["first"].pk]
    assert client.get(url, {"customer": orders["foreign"].customer_id}).json()["results"] == []
    assert client.get(url, {"customer": "Петров"}).status_code == 400


def test_sales_order_picker_needs_the_sales_order_view_permission(client, make_user):
    client.force_login(make_user(None))
    assert client.get(reverse("parts:pick_sales_orders")).status_code == 403
    client.force_login(make_user(roles.TECHNICIAN))
    assert client.get(reverse("parts:pick_sales_orders")).status_code == 403


def test_return_form_lists_no_order_and_refuses_a_foreign_or_unshipped_one(
    client, parts_manager, customer, part, receive, orders
):
    receive(part, 2)
    SalesOrderLine.objects.create(order=orders["first"], part=part, quantity=2, unit_price=100)
    client.force_login(parts_manager)
    url = reverse("parts:return_create")
    html = client.get(url).content.decode()
    assert options(html, "sales_order") == [""]  # three shipped orders, none listed
    assert 'data-url="/parts/sales/pick/"' in html and 'data-depends-on="customer:customer"' in html
    data = {
        "customer": customer.pk, "part": part.number, "quantity": "1", "received_on": str(timezone.localdate()),
        "reason": "wrong_specification", "resolution": "refund", "description": "Не тот",
    }  # fmt: skip
    for key in ("foreign", "not_shipped"):
        response = client.post(url, {**data, "sales_order": orders[key].pk})
        assert response.status_code == 200 and "sales_order" in response.context["form"].errors, key
        assert options(response.content.decode(), "sales_order") == [""]
    assert not ReturnRequest.objects.exists()
    invalid = client.post(url, {**data, "sales_order": orders["first"].pk, "quantity": "0"})
    assert options(invalid.content.decode(), "sales_order") == ["", str(orders["first"].pk)]  # shown again
    response = client.post(url, {**data, "sales_order": orders["first"].pk})
    assert response.status_code == 302
    assert ReturnRequest.objects.get().sales_order == orders["first"]


def test_requisition_form_lists_no_work_order_and_refuses_a_foreign_one(
    client, advisor, dealership, other_dealership, make_user, part, receive, work_order
):
    receive(part, 3)
    for n in range(3):
        make_work_order(dealership=dealership, advisor=advisor, number=f"ЗН-OPEN-{n}")
    foreign = make_work_order(
        dealership=other_dealership,
        advisor=make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership]),
        number="ЗН-FOREIGN",
    )
    client.force_login(advisor)
    url = reverse("parts:requisition_create")
    html = client.get(url).content.decode()
    assert options(html, "work_order_id") == [""] and "ЗН-OPEN-1" not in html
    assert 'data-url="/workorders/pick/"' in html
    data = {"job_id": work_order.jobs.get().pk, "part": part.number, "quantity": "1"}
    response = client.post(url, {**data, "work_order_id": foreign.pk})
    assert response.status_code == 200 and "work_order_id" in response.context["form"].errors
    invalid = client.post(url, {**data, "work_order_id": work_order.pk, "quantity": "-1"})
    assert options(invalid.content.decode(), "work_order_id") == ["", str(work_order.pk)]  # shown again
    assert not Requisition.objects.exists()
    response = client.post(url, {**data, "work_order_id": work_order.pk})
    assert response.status_code == 302 and Requisition.objects.get().work_order_id == work_order.pk
