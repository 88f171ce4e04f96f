"""Rule audit (R20, R21, R26–R29, R32): the rules read literally, checked at every entry point (services, API,
pages)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dms.core import roles
from parts import services
from parts.models import LowStockAlert, OldPartReturn, ReturnRequest, SalesOrder, StockBalance, StockCount, Warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def head_of_parts(make_user):
    return make_user(roles.DIRECTOR, first_name="Елена", last_name="Морозова")


@pytest.fixture
def inspector_user(make_user):
    return make_user(roles.QUALITY_INSPECTOR)


def _order(pm, customer, part, *, payment="cashless", quantity=2):
    order = services.sales_order_create(
        actor=pm,
        dealership=part.dealership,
        customer=customer,
        payment_method=payment,
        channel="phone",
        lines=[{"part": part, "quantity": quantity, "unit_price": Decimal("1000")}],
    )
    for step in (
        services.sales_order_confirm_need,
        services.sales_order_quote,
        services.sales_order_place,
        services.sales_order_invoice,
    ):
        step(actor=pm, order=order)
    return order


# R21 ------------------------------------------------------------------------------------------------------------------


def test_r21_cashless_order_is_not_shipped_before_payment_over_the_api_or_the_page(
    api_as, client, parts_manager, storekeeper, customer, part, receive
):
    receive(part, 5)
    order = _order(parts_manager, customer, part)
    r = api_as(storekeeper).post(f"/api/sales-orders/{order.pk}/ship/", {"carrier": "СДЭК"}, format="json")
    assert r.status_code == 409, r.content
    client.force_login(storekeeper)
    client.post(reverse("parts:sales_action", args=[order.pk, "ship"]), {"carrier": "СДЭК"})
    order.refresh_from_db()
    assert order.status == SalesOrder.Status.INVOICED and order.shipped_at is None
    assert StockBalance.objects.get(part=part).on_hand == 5


# R29 ------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def shipped(parts_manager, storekeeper, customer, part, receive):
    receive(part, 5, cost="400")
    order = _order(parts_manager, customer, part, payment="cash", quantity=2)
    return services.sales_order_ship(actor=storekeeper, order=order, carrier="Самовывоз")


def _return(pm, customer, part, order, quantity, **kwargs):
    data = {
        "actor": pm,
        "dealership": part.dealership,
        "customer": customer,
        "part": part,
        "quantity": quantity,
        "received_on": timezone.localdate(),
        "reason": "wrong_specification",
        "resolution": "refund",
        "description": "Не подошла",
        "sales_order": order,
    }
    data.update(kwargs)
    return services.return_request_create(**data)


def test_r29_returns_against_an_order_never_add_up_to_more_than_was_sold(
    api_as, parts_manager, customer, part, shipped
):
    _return(parts_manager, customer, part, shipped, 1)
    _return(parts_manager, customer, part, shipped, 1)
    with pytest.raises(ValidationError) as error:
        _return(parts_manager, customer, part, shipped, 1)
    assert "quantity" in error.value.message_dict
    r = api_as(parts_manager).post(
        "/api/returns/",
        {
            "customer": customer.pk,
            "part": part.pk,
            "sales_order": shipped.pk,
            "quantity": "1",
            "received_on": str(timezone.localdate()),
            "reason": "wrong_specification",
            "resolution": "refund",
            "description": "Ещё одна",
        },
        format="json",
    )
    assert r.status_code == 400 and "quantity" in r.json()
    assert ReturnRequest.objects.count() == 2


def test_r29_a_refused_return_frees_its_quantity(parts_manager, customer, part, shipped):
    first = _return(parts_manager, customer, part, shipped, 2)
    services.return_refuse(actor=parts_manager, request=first, reason="Следы установки")
    assert _return(parts_manager, customer, part, shipped, 2).quantity == 2


def test_r29_late_request_is_refused_over_the_api(api_as, parts_manager, customer, part):
    received = timezone.localdate() - datetime.timedelta(days=40)
    r = api_as(parts_manager).post(
        "/api/returns/",
        {
            "customer": customer.pk,
            "part": part.pk,
            "quantity": "1",
            "received_on": str(received),
            "reason": "wrong_shipment",
            "resolution": "exchange",
            "description": "Не та деталь",
        },
        format="json",
    )
    assert r.status_code == 400 and "received_on" in r.json()


# R26 ------------------------------------------------------------------------------------------------------------------


def test_r26_annual_count_over_the_api_needs_a_committee(api_as, storekeeper, parts_manager, dealership, part, receive):
    receive(part, 3)
    warehouse = Warehouse.objects.get(dealership=dealership)
    api = api_as(storekeeper)
    r = api.post(
        "/api/stock-counts/",
        {"warehouse": warehouse.pk, "kind": "annual", "committee": [storekeeper.pk, storekeeper.pk]},
        format="json",
    )
    assert r.status_code == 400 and "committee" in r.json()
    r = api.post(
        "/api/stock-counts/",
        {"warehouse": warehouse.pk, "kind": "annual", "committee": [storekeeper.pk, parts_manager.pk]},
        format="json",
    )
    assert r.status_code == 201 and r.json()["scope"] == "all"
    assert StockCount.objects.get().committee.count() == 2


# R27 ------------------------------------------------------------------------------------------------------------------


def test_r27_alert_when_a_sale_takes_stock_below_the_level(
    parts_manager, storekeeper, customer, part, receive, django_capture_on_commit_callbacks
):
    receive(part, 5)
    balance = StockBalance.objects.get(part=part)
    services.balance_update(actor=storekeeper, balance=balance, data={"alert_level": Decimal("4")})
    assert not LowStockAlert.objects.exists()
    order = _order(parts_manager, customer, part, payment="cash", quantity=2)
    assert LowStockAlert.objects.filter(status="open").count() == 1  # reserved: free stock 3 < 4
    services.sales_order_ship(actor=storekeeper, order=order, carrier="Самовывоз")
    assert LowStockAlert.objects.filter(status="open").count() == 1


# R32 ------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def issued(advisor, parts_manager, storekeeper, dealership, part, receive, work_order):
    receive(part, 4, cost="250")
    requisition = services.requisition_create(
        actor=advisor, dealership=dealership, work_order_id=work_order.pk, lines=[{"part": part, "quantity": 2}]
    )
    services.requisition_approve(actor=parts_manager, requisition=requisition)
    return services.requisition_issue(actor=storekeeper, requisition=requisition)


def test_r32_old_parts_returned_never_exceed_what_was_issued(storekeeper, dealership, part, issued):
    services.old_part_register(
        actor=storekeeper, dealership=dealership, part=part, quantity=1, condition="scrap", requisition=issued
    )
    services.old_part_register(
        actor=storekeeper, dealership=dealership, part=part, quantity=1, condition="scrap", requisition=issued
    )
    with pytest.raises(ValidationError) as error:
        services.old_part_register(
            actor=storekeeper, dealership=dealership, part=part, quantity=1, condition="scrap", requisition=issued
        )
    assert "quantity" in error.value.message_dict
    assert OldPartReturn.objects.count() == 2


@pytest.mark.parametrize("reason,resolution", [("wrong_shipment", "exchange"), ("missing_shipment", "replacement")])
def test_r29_company_pays_freight_for_its_own_shipping_faults(
    api_as, parts_manager, customer, part, shipped, reason, resolution
):
    request = _return(parts_manager, customer, part, shipped, 1, reason=reason, resolution=resolution)
    r = api_as(parts_manager).post(
        f"/api/returns/{request.pk}/approve/",
        {"reason": "Ошибка комплектовщика", "customer_at_fault": True, "freight_cost": "300"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["freight_payer"] == "company"


def test_r29_company_pays_freight_for_a_confirmed_defect(parts_manager, inspector_user, customer, part, shipped):
    request = _return(parts_manager, customer, part, shipped, 1, reason="quality_defect")
    services.return_send_to_inspection(actor=parts_manager, request=request)
    services.return_record_inspection(actor=inspector_user, request=request, defect_confirmed=True, result="Брак")
    request = services.return_approve(actor=parts_manager, request=request, customer_at_fault=True)
    assert request.freight_payer == ReturnRequest.FreightPayer.COMPANY


def test_r29_wrong_specification_freight_follows_the_decision(parts_manager, customer, part, shipped):
    request = _return(parts_manager, customer, part, shipped, 1)
    request = services.return_approve(actor=parts_manager, request=request, customer_at_fault=True)
    assert request.freight_payer == ReturnRequest.FreightPayer.CUSTOMER


def test_r26_tablet_page_answers_a_huge_count_with_a_message(client, storekeeper, dealership, part, receive):
    receive(part, 3)
    count = services.stock_count_start(
        actor=storekeeper, dealership=dealership, warehouse=Warehouse.objects.get(dealership=dealership), scope="all"
    )
    line = count.lines.get()
    client.force_login(storekeeper)
    r = client.post(reverse("parts:count_enter", args=[count.pk]), {f"counted_{line.pk}": "99999999999999"})
    assert r.status_code in (200, 400)  # a message, never a 500
    line.refresh_from_db()
    assert line.counted_quantity is None
    with pytest.raises(ValidationError):
        services.stock_count_record(actor=storekeeper, count=count, entries=[{"line": line.pk, "counted": "abc"}])
