"""Issue 15 item 8: uncollected parts — the supplier's return window and the return to the supplier."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest

from dms.core import roles
from notifications import services as call_services
from notifications.models import CallEvent, CallStatus, CancelReason
from orders import services
from orders.models import RETURN_WARNING_DAYS, CustomerOrder, OrderStatus
from parts.models import MovementKind, Reservation, StockBalance, StockMovement

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def at(day: str, hour: int = 10) -> datetime.datetime:
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, hour, tzinfo=MSK)


@pytest.fixture
def received_order(make_order, parts_manager, supplier):
    supplier.return_days = 20
    supplier.save()
    order = make_order(kind="commercial")
    order = services.customer_order_place(
        actor=parts_manager,
        order=order,
        supplier=supplier,
        supplier_order_number="TMR-1",
        expected_at=datetime.date(2025, 6, 5),
        now=at("2025-06-02"),
    )
    line = order.lines.get()
    return services.customer_order_receive(
        actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}], now=at("2025-06-05")
    ) and CustomerOrder.objects.get(pk=order.pk)


def test_return_window_flag_appears_warning_days_before_the_deadline_not_earlier(received_order):
    deadline = datetime.date(2025, 6, 25)  # received 5 June + 20 days
    assert received_order.return_deadline() == deadline
    first_flag_day = deadline - datetime.timedelta(days=RETURN_WARNING_DAYS)
    assert not received_order.return_due(first_flag_day - datetime.timedelta(days=1))
    assert received_order.return_due(first_flag_day)
    assert received_order.return_due(deadline + datetime.timedelta(days=1))


def test_return_deadline_in_the_api(api_as, parts_manager, received_order):
    response = api_as(parts_manager).get(f"/api/orders/{received_order.pk}/")
    assert response.status_code == 200
    assert response.data["return_deadline"] == "2025-06-25"


def test_return_to_supplier_ends_the_order_releases_moves_stock_and_cancels_calls(
    api_as, parts_manager, received_order, django_capture_on_commit_callbacks
):
    call_services.call_events_generate(now=at("2025-07-05", 8))  # day 30: an "uncollected" call is due
    assert CallEvent.objects.filter(order=received_order, kind="uncollected", status=CallStatus.OPEN).exists()
    reservation = Reservation.objects.get(customer_order_id=received_order.pk)
    assert reservation.status == Reservation.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(parts_manager).post(
            f"/api/orders/{received_order.pk}/return-to-supplier/", {"reason": "Клиент не забрал"}, format="json"
        )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "returned_to_supplier"
    assert response.data["return_reason"] == "Клиент не забрал" and response.data["returned_at"]
    order = CustomerOrder.objects.get(pk=received_order.pk)
    assert order.status == OrderStatus.RETURNED
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.RELEASED
    movement = StockMovement.objects.get(kind=MovementKind.RETURN_OUT)
    assert movement.quantity == Decimal("-2") and movement.reference == order.number
    balance = StockBalance.objects.get(part=movement.part, warehouse=movement.warehouse)
    assert balance.on_hand == 0 and balance.reserved == 0
    assert not CallEvent.objects.filter(order=order, status=CallStatus.OPEN).exists()
    assert set(CallEvent.objects.filter(order=order).values_list("cancel_reason", flat=True)) == {
        CancelReason.ORDER_RETURNED
    }
    call_services.call_events_generate(now=at("2025-07-06", 8))
    call_services.call_events_generate(now=at("2025-07-07", 8))
    assert not CallEvent.objects.filter(order=order, status=CallStatus.OPEN).exists()
    assert CallEvent.objects.filter(order=order, kind="uncollected").count() == 1


def test_generator_closes_calls_of_a_returned_order_even_without_the_signal(parts_manager, received_order):
    call_services.call_events_generate(now=at("2025-07-05", 8))
    services.customer_order_return_to_supplier(actor=parts_manager, order=received_order, reason="x")
    call_services.call_events_generate(now=at("2025-07-06", 8))
    assert set(CallEvent.objects.filter(order=received_order).values_list("status", "cancel_reason")) == {
        (CallStatus.CANCELLED, CancelReason.ORDER_RETURNED)
    }


@pytest.mark.parametrize("state", ["not_placed", "ordered", "issued"])
def test_return_from_other_states_is_409(api_as, parts_manager, make_order, place, received_order, state):
    if state == "not_placed":
        order = make_order()
    elif state == "ordered":
        order = place(make_order())
    else:
        order = services.customer_order_issue(actor=parts_manager, order=received_order)
    response = api_as(parts_manager).post(f"/api/orders/{order.pk}/return-to-supplier/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert CustomerOrder.objects.get(pk=order.pk).status == state
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN_OUT).exists()


def test_return_needs_a_reason(api_as, parts_manager, received_order):
    response = api_as(parts_manager).post(
        f"/api/orders/{received_order.pk}/return-to-supplier/", {"reason": ""}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.data
    assert CustomerOrder.objects.get(pk=received_order.pk).status == OrderStatus.RECEIVED


@pytest.mark.parametrize("role", [roles.SERVICE_ADVISOR, roles.STOREKEEPER, roles.DIRECTOR])
def test_wrong_role_is_403(api_as, make_user, received_order, role):
    response = api_as(make_user(role)).post(
        f"/api/orders/{received_order.pk}/return-to-supplier/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert CustomerOrder.objects.get(pk=received_order.pk).status == OrderStatus.RECEIVED
    assert Reservation.objects.get(customer_order_id=received_order.pk).status == Reservation.Status.ACTIVE


def test_dashboard_flag_and_filter_follow_the_window(received_order, parts_manager, client):
    from orders import selectors

    qs = CustomerOrder.objects.filter(pk=received_order.pk)
    tz = received_order.dealership.tz
    deadline = datetime.date(2025, 6, 25)
    first_flag_day = deadline - datetime.timedelta(days=RETURN_WARNING_DAYS)
    for today, flagged in ((first_flag_day - datetime.timedelta(days=1), False), (first_flag_day, True)):
        now = datetime.datetime.combine(today, datetime.time(12), tzinfo=tz)
        (row,) = selectors.order_rows(qs, now=now)  # the hand-tuned page SQL
        (orm_row,) = selectors.iter_order_rows(qs, now=now)  # the ORM path
        assert (row.return_deadline, row.return_due) == (deadline, flagged)
        assert (orm_row.return_deadline, orm_row.return_due) == (deadline, flagged)
        found = selectors.filter_customer_orders(qs, return_due=True, today=today, tz=tz)
        assert list(found) == ([received_order] if flagged else [])
        assert list(selectors.filter_customer_orders(qs, return_due=False, today=today, tz=tz)) == (
            [] if flagged else [received_order]
        )


def test_order_page_shows_the_flag_and_the_return_button(received_order, parts_manager, client, make_user):
    from django.urls import reverse

    detail = reverse("orders:detail", args=[received_order.pk])
    client.force_login(parts_manager)
    page = client.get(detail).content.decode()
    assert 'id="return-due"' in page and 'id="return-to-supplier"' in page
    assert 'id="supplier-record"' in page and "1 of 1 orders on time" in page
    response = client.post(reverse("orders:return_to_supplier", args=[received_order.pk]), {"reason": "x"})
    assert response.status_code == 302
    assert CustomerOrder.objects.get(pk=received_order.pk).status == OrderStatus.RETURNED
    client.force_login(make_user(roles.SERVICE_ADVISOR))
    assert 'id="return-to-supplier"' not in client.get(detail).content.decode()


def test_supplier_record_promised_against_actual(api_as, parts_manager, make_order, supplier, make_user):
    # Two orders placed 2 June with a 3-day ETA (5 June): one arrives 5 June (on time), one 9 June (4 days late).
    for arrival in ("2025-06-05", "2025-06-09"):
        order = services.customer_order_place(
            actor=parts_manager,
            order=make_order(),
            supplier=supplier,
            supplier_order_number=f"TMR-{arrival}",
            expected_at=datetime.date(2025, 6, 5),
            now=at("2025-06-02"),
        )
        services.customer_order_receive(
            actor=parts_manager, order=order, lines=[{"line": order.lines.get().pk, "quantity": 2}], now=at(arrival)
        )
    place_only = make_order()  # placed, not received: not in the record
    services.customer_order_place(
        actor=parts_manager,
        order=place_only,
        supplier=supplier,
        supplier_order_number="TMR-open",
        expected_at=datetime.date(2025, 6, 5),
        now=at("2025-06-02"),
    )
    response = api_as(parts_manager).get(f"/api/suppliers/{supplier.pk}/record/")
    assert response.status_code == 200, response.data
    figures = {
        "supplier": supplier.pk,
        "orders": 2,
        "on_time": 1,
        "on_time_share": "0.500",
        "mean_promised_days": "3.0",
        "mean_actual_days": "5.0",
        "mean_delay_days": "2.0",
    }
    # issue 15 item 8: per part class too — here one part, not classified yet
    assert response.data == {**figures, "by_class": [{**figures, "abc_class": ""}]}
    assert api_as(parts_manager).get("/api/suppliers/999999/record/").status_code == 404
