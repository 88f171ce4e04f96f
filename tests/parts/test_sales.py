"""R20, R21: sales orders — inquiry to shipment, payment gate for cash-less orders, dispatch notice."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_fsm import TransitionNotAllowed

from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from notifications.models import Delivery
from parts import services
from parts.models import MovementKind, Reservation, SalesOrder, StockBalance, StockMovement

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_for(parts_manager, dealership):
    def make(customer, part, quantity=2, payment="cashless", **kwargs):
        return services.sales_order_create(
            actor=parts_manager,
            dealership=dealership,
            customer=customer,
            payment_method=payment,
            channel="phone",
            lines=[{"part": part, "quantity": quantity, "unit_price": Decimal("1000")}],
            **kwargs,
        )

    return make


def run_to_invoice(pm, order, delivery_days=None):
    services.sales_order_confirm_need(actor=pm, order=order)
    services.sales_order_quote(actor=pm, order=order, delivery_days=delivery_days)
    services.sales_order_place(actor=pm, order=order)
    return services.sales_order_invoice(actor=pm, order=order)


def test_r20_order_goes_to_the_customers_assigned_manager_and_records_first_channel(
    parts_manager, advisor, customer, part, dealership
):
    customer.assigned_manager = advisor
    customer.save()
    order = services.sales_order_create(
        actor=parts_manager, dealership=dealership, customer=customer, channel="website", payment_method="cash"
    )
    customer.refresh_from_db()
    assert order.manager == advisor and order.number.endswith(f"{order.pk:06d}")
    assert customer.first_contact_channel == "website"


def test_r21_full_flow_cashless_is_blocked_until_paid_then_ships_and_notifies(
    parts_manager, storekeeper, customer, part, receive, django_capture_on_commit_callbacks
):
    receive(part, 5, cost="600")
    order = services.sales_order_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=customer,
        payment_method="cashless",
        lines=[{"part": part, "quantity": 2, "unit_price": Decimal("1000")}],
    )
    assert order.status == SalesOrder.Status.INQUIRY
    run_to_invoice(parts_manager, order)
    order.refresh_from_db()
    line = order.lines.get()
    assert line.available_at_quote == 5 and order.delivery_days == 1
    assert line.reservation.quantity == 2 and StockBalance.objects.get(part=part).reserved == 2
    assert order.status == SalesOrder.Status.INVOICED and order.invoice_number

    with pytest.raises(ConflictError, match="оплата"):
        services.sales_order_ship(actor=storekeeper, order=order, carrier="СДЭК", tracking_number="1")
    order.refresh_from_db()
    assert order.status == "invoiced" and StockBalance.objects.get(part=part).on_hand == 5

    with pytest.raises(ValidationError):
        services.sales_order_record_payment(actor=parts_manager, order=order, amount="100")
    services.sales_order_record_payment(actor=parts_manager, order=order, amount="2000", reference="п/п 15")
    with pytest.raises(ValidationError):
        services.sales_order_ship(actor=storekeeper, order=order, carrier="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.sales_order_ship(actor=storekeeper, order=order, carrier="СДЭК", tracking_number="1234567")
    order.refresh_from_db()
    assert order.status == SalesOrder.Status.SHIPPED and order.carrier == "СДЭК"
    sale = StockMovement.objects.get(kind=MovementKind.COUNTER_SALE)
    assert sale.quantity == -2 and sale.reference == order.number and sale.unit_cost == Decimal("600")
    balance = StockBalance.objects.get(part=part)
    assert balance.on_hand == 3 and balance.reserved == 0
    # R21 on the customer's preferred channel (the factory's customer prefers SMS), recorded as a delivery
    notice = Delivery.objects.get(customer=customer, reference=f"dispatch:{order.number}")
    assert notice.channel == "sms" and notice.recipient == str(customer.phone) and "1234567" in notice.body
    assert notice.status == "sent" and mail.outbox == []
    assert order.customer_notified_at is not None
    transitions = AuditEntry.objects.filter(object_id=order.pk, action="transition").count()
    assert transitions == 6


def test_r21_cash_order_ships_from_invoice_and_quote_uses_supplier_term_when_short(
    parts_manager, storekeeper, customer, dealership, receive, order_for
):
    part = PartFactory(dealership=dealership, default_supplier=SupplierFactory(dealership=dealership, delivery_days=21))
    receive(part, 1)
    order = order_for(customer, part, quantity=1, payment="cash")
    services.sales_order_confirm_need(actor=parts_manager, order=order)
    short = order_for(customer, part, quantity=3)
    services.sales_order_confirm_need(actor=parts_manager, order=short)
    services.sales_order_quote(actor=parts_manager, order=short)
    short.refresh_from_db()
    assert short.delivery_days == 21 and short.lines.get().available_at_quote == 1
    with pytest.raises(ConflictError):
        services.sales_order_add_line(actor=parts_manager, order=short, part=part, quantity=1)
    services.sales_order_quote(actor=parts_manager, order=order)
    services.sales_order_place(actor=parts_manager, order=order)
    services.sales_order_invoice(actor=parts_manager, order=order)
    services.sales_order_ship(actor=storekeeper, order=order, carrier="Самовывоз")
    order.refresh_from_db()
    assert order.status == "shipped" and order.paid_amount == Decimal("1000.00")


def test_r21_transitions_out_of_order_and_cancel_releases_reservation(
    parts_manager, customer, part, receive, order_for
):
    receive(part, 2)
    order = order_for(customer, part)
    with pytest.raises(TransitionNotAllowed):
        services.sales_order_invoice(actor=parts_manager, order=order)
    services.sales_order_confirm_need(actor=parts_manager, order=order)
    services.sales_order_quote(actor=parts_manager, order=order)
    services.sales_order_place(actor=parts_manager, order=order)
    assert StockBalance.objects.get(part=part).reserved == 2
    with pytest.raises(ValidationError):
        services.sales_order_cancel(actor=parts_manager, order=order, reason="")
    services.sales_order_cancel(actor=parts_manager, order=order, reason="Клиент передумал")
    assert StockBalance.objects.get(part=part).reserved == 0
    assert Reservation.objects.get().status == "released"


def test_confirm_need_without_lines_is_a_conflict(parts_manager, customer, dealership):
    order = services.sales_order_create(actor=parts_manager, dealership=dealership, customer=customer)
    with pytest.raises(ConflictError):
        services.sales_order_confirm_need(actor=parts_manager, order=order)


def test_sales_pages_and_invoice_pdf(client, parts_manager, customer, part, receive, order_for):
    receive(part, 5)
    client.force_login(parts_manager)
    response = client.post(
        reverse("parts:sales_create"), {"customer": customer.pk, "payment_method": "cashless", "channel": "email"}
    )
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    bad = client.post(reverse("parts:sales_action", args=[order.pk, "add_line"]), {"part": "NOPE", "quantity": "1"})
    assert bad.status_code == 400 and bad.context["line_form"].errors["part"]
    client.post(reverse("parts:sales_action", args=[order.pk, "add_line"]), {"part": part.number, "quantity": "1"})
    for step in ("confirm_need", "quote", "place", "invoice"):
        client.post(reverse("parts:sales_action", args=[order.pk, step]))
    order.refresh_from_db()
    assert order.status == "invoiced"
    detail = client.get(reverse("parts:sales_detail", args=[order.pk]))
    assert b"ship-blocked" in detail.content and b"btn-ship" not in detail.content  # cash-less, not paid yet
    pdf = client.get(reverse("parts:sales_invoice", args=[order.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listing = client.get(reverse("parts:sales_list"), {"q": customer.name})
    assert [o.pk for o in listing.context["page_obj"]] == [order.pk]


def test_sales_api_flow_and_unpaid_cashless_shipping_409(api_as, parts_manager, customer, part, receive):
    receive(part, 3)
    api = api_as(parts_manager)
    r = api.post(
        "/api/sales-orders/",
        {"customer": customer.pk, "payment_method": "cashless", "lines": [{"part": part.pk, "quantity": "1"}]},
        format="json",
    )
    assert r.status_code == 201, r.json()
    oid = r.json()["id"]
    assert Decimal(r.json()["lines"][0]["unit_price"]) == part.price
    for step in ("confirm-need", "quote", "place", "invoice"):
        assert api.post(f"/api/sales-orders/{oid}/{step}/", {}, format="json").status_code == 200, step
    r = api.post(f"/api/sales-orders/{oid}/ship/", {"carrier": "ПЭК"}, format="json")
    assert r.status_code == 409 and r.json()["detail"]
    assert SalesOrder.objects.get(pk=oid).status == "invoiced"
    assert api.post(f"/api/sales-orders/{oid}/record-payment/", {"amount": "890"}, format="json").status_code == 200
    r = api.post(f"/api/sales-orders/{oid}/ship/", {"carrier": "ПЭК", "tracking_number": "X1"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    assert api.get(f"/api/sales-orders/{oid}/invoice-pdf/").content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("channel", "email", "expected"),
    [("sms", "", "sms"), ("email", "buyer@example.com", "email"), ("phone", "buyer@example.com", None)],
)
def test_r21_dispatch_notice_goes_on_the_preferred_channel(
    channel, email, expected, order_for, parts_manager, storekeeper, receive, part, customer,
    django_capture_on_commit_callbacks,
):
    """Issue 15 §4: a customer who prefers SMS and has no e-mail is told by SMS; one who prefers calls gets none."""
    customer.preferred_channel, customer.email = channel, email
    customer.save()
    receive(part, 5, cost="600")
    order = order_for(customer, part, payment="cash")
    run_to_invoice(parts_manager, order)
    with django_capture_on_commit_callbacks(execute=True):
        services.sales_order_ship(actor=storekeeper, order=SalesOrder.objects.get(pk=order.pk), carrier="Самовывоз")
    order.refresh_from_db()
    notices = list(Delivery.objects.filter(customer=customer, reference=f"dispatch:{order.number}"))
    assert [n.channel for n in notices] == ([expected] if expected else [])
    assert (order.customer_notified_at is not None) == bool(expected)
    if expected == "email":
        assert [m.to for m in mail.outbox] == [["buyer@example.com"]]
    if expected == "sms":
        assert notices[0].recipient == str(customer.phone) and notices[0].status == "sent"


def test_r21_a_shipment_that_rolls_back_leaves_no_notice(
    order_for, parts_manager, storekeeper, receive, part, customer
):
    from django.db import transaction

    receive(part, 5, cost="600")
    order = order_for(customer, part, payment="cash")
    run_to_invoice(parts_manager, order)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.sales_order_ship(actor=storekeeper, order=SalesOrder.objects.get(pk=order.pk), carrier="СДЭК")
        raise RuntimeError("the request failed after shipping")
    assert not Delivery.objects.filter(customer=customer).exists()


def test_r21_the_dispatch_notice_is_in_the_customers_language(
    order_for, parts_manager, storekeeper, receive, part, customer, django_capture_on_commit_callbacks
):
    """Issue 17: the customer reads their messages in their own language, whatever the storekeeper's is."""
    from django.utils import translation

    customer.language = "en"
    customer.save()
    receive(part, 5, cost="600")
    order = order_for(customer, part, payment="cash")
    run_to_invoice(parts_manager, order)
    with translation.override("ru"), django_capture_on_commit_callbacks(execute=True):
        services.sales_order_ship(actor=storekeeper, order=SalesOrder.objects.get(pk=order.pk), carrier="СДЭК")
    notice = Delivery.objects.get(customer=customer, reference=f"dispatch:{order.number}")
    assert notice.subject == f"Your order {order.number} has been shipped" and "has left our warehouse" in notice.body
