"""The generator walks R3, R5–R7, R10 and the 30-day rule with explicit dates, in SQL and in Python."""

import datetime
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.db import connection

from dms.core import roles
from notifications import generator, services
from notifications.models import CallEvent, CallKind, CallStatus, CancelReason
from orders import services as order_services
from orders.models import OrderStatus
from tests.factories import CustomerFactory, DealershipFactory, UserFactory, VehicleFactory

from .conftest import at, d

pytestmark = pytest.mark.django_db


def events(order, kind=None):
    qs = CallEvent.objects.filter(order=order)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("due_date").values_list("kind", "due_date", "status"))


def test_r5_r6_warranty_arrival_due_on_day_3(make_order, advisor):
    order = make_order(kind="warranty", placed_at=at("2025-06-02"), received_at=at("2025-06-05", 16))
    result = services.call_events_generate(now=at("2025-06-05", 17))
    assert result.created == 1
    event = CallEvent.objects.get(order=order)
    assert (event.kind, event.due_date, event.status) == ("arrival", d("2025-06-08"), "open")
    assert event.assignee == advisor  # the order's author
    assert event.dealership_id == order.dealership_id


def test_r7_commercial_arrival_due_on_day_7(make_order):
    order = make_order(kind="commercial", placed_at=at("2025-06-02"), received_at=at("2025-06-05", 9))
    services.call_events_generate(now=at("2025-06-05", 17))
    assert events(order) == [("arrival", d("2025-06-12"), "open")]


def test_partial_receipt_is_not_yet_an_arrival(make_order, parts_manager):
    order = make_order(placed_at=at("2025-06-02"))
    line = order.lines.get()
    order_services.customer_order_receive(
        actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 1}], now=at("2025-06-04")
    )
    services.call_events_generate(now=at("2025-06-04", 12))
    assert events(order, CallKind.ARRIVAL) == []


def test_generator_is_idempotent(make_order):
    make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-05"), on_waiting_lot=True)
    first = services.call_events_generate(now=at("2025-06-05", 12))
    second = services.call_events_generate(now=at("2025-06-05", 12, 15))
    third = services.call_events_generate(now=at("2025-06-06", 9))
    assert (first.created, second.created, third.created) == (2, 0, 0)
    assert CallEvent.objects.count() == 2


def test_unique_constraint_refuses_a_duplicate_even_from_code(make_order, advisor):
    from django.db import IntegrityError, transaction

    order = make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-05"))
    services.call_events_generate(now=at("2025-06-05", 12))
    with pytest.raises(IntegrityError), transaction.atomic():
        CallEvent.objects.create(
            dealership=order.dealership, order=order, kind="arrival", assignee=advisor, due_date=d("2025-06-08")
        )


def test_r10_waiting_lot_repair_task_due_the_day_parts_arrive(make_order, advisor):
    order = make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-05", 11), on_waiting_lot=True)
    services.call_events_generate(now=at("2025-06-05", 11, 5))
    assert events(order) == [
        ("lot_repair", d("2025-06-05"), "open"),
        ("arrival", d("2025-06-08"), "open"),
    ]
    assert CallEvent.objects.get(order=order, kind="lot_repair").assignee == advisor


def test_r3_eta_of_7_days_gets_no_interim_call(make_order):
    order = make_order(placed_at=at("2025-06-02"), eta_days=7)
    for day in ("2025-06-02", "2025-06-05", "2025-06-08"):
        services.call_events_generate(now=at(day, 12))
    assert events(order) == []


def test_r3_eta_of_8_days_gets_interim_calls_on_day_3_and_every_3_days(make_order, parts_manager):
    order = make_order(placed_at=at("2025-06-02"), eta_days=8)
    services.call_events_generate(now=at("2025-06-02", 12))
    # Day 0: the first interim call is created, due on the 3rd day after placement.
    assert events(order) == [("interim_eta", d("2025-06-05"), "open")]
    assert CallEvent.objects.get(order=order).assignee == parts_manager
    services.call_events_generate(now=at("2025-06-04", 12))
    assert len(events(order)) == 1
    services.call_events_generate(now=at("2025-06-05", 9))
    assert [e[1] for e in events(order)] == [d("2025-06-05"), d("2025-06-08")]
    services.call_events_generate(now=at("2025-06-09", 9))
    assert [e[1] for e in events(order)] == [d("2025-06-05"), d("2025-06-08"), d("2025-06-11")]


def test_r3_interim_without_parts_manager_goes_to_the_author(make_order, advisor):
    order = make_order(placed_at=at("2025-06-02"), eta_days=20, parts_manager_user=None)
    services.call_events_generate(now=at("2025-06-02", 12))
    assert CallEvent.objects.get(order=order).assignee == advisor


def test_r3_receiving_cancels_open_interim_events(make_order):
    order = make_order(placed_at=at("2025-06-02"), eta_days=10)
    services.call_events_generate(now=at("2025-06-06", 12))
    assert len(events(order, "interim_eta")) == 2
    line = order.lines.get()
    order_services.customer_order_receive(
        actor=order.parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}], now=at("2025-06-07")
    )
    result = services.call_events_generate(now=at("2025-06-07", 12))
    assert result.cancelled == 2
    assert set(CallEvent.objects.filter(kind="interim_eta").values_list("status", "cancel_reason")) == {
        ("cancelled", CancelReason.PARTS_RECEIVED)
    }
    # ... and no new interim call appears, only the arrival call.
    services.call_events_generate(now=at("2025-06-10", 12))
    assert events(order, "arrival") == [("arrival", d("2025-06-10"), "open")]
    assert CallEvent.objects.filter(kind="interim_eta", status="open").count() == 0


def test_partially_received_keeps_interim_calls_going(make_order):
    order = make_order(placed_at=at("2025-06-02"), eta_days=10)
    line = order.lines.get()
    order_services.customer_order_receive(
        actor=order.parts_manager, order=order, lines=[{"line": line.pk, "quantity": 1}], now=at("2025-06-04")
    )
    services.call_events_generate(now=at("2025-06-08", 12))
    assert [e[1] for e in events(order, "interim_eta")] == [d("2025-06-08"), d("2025-06-11")]


def test_issued_order_closes_its_open_events(make_order):
    order = make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-05"), on_waiting_lot=True)
    services.call_events_generate(now=at("2025-06-05", 12))
    order_services.customer_order_issue(actor=order.parts_manager, order=order, now=at("2025-06-06"))
    result = services.call_events_generate(now=at("2025-06-06", 12))
    assert result.cancelled == 2
    assert set(CallEvent.objects.values_list("status", "cancel_reason")) == {("cancelled", CancelReason.ORDER_ISSUED)}


def test_uncollected_day_29_nothing_day_30_and_every_day_until_issued(make_order):
    order = make_order(kind="commercial", placed_at=at("2025-06-02"), received_at=at("2025-06-05"))
    services.call_events_generate(now=at("2025-07-04", 12))  # day 29
    assert events(order, "uncollected") == []
    services.call_events_generate(now=at("2025-07-05", 8))  # day 30
    services.call_events_generate(now=at("2025-07-05", 18))
    services.call_events_generate(now=at("2025-07-06", 8))  # day 31
    assert [e[1] for e in events(order, "uncollected")] == [d("2025-07-05"), d("2025-07-06")]
    order_services.customer_order_issue(actor=order.parts_manager, order=order, now=at("2025-07-06", 12))
    services.call_events_generate(now=at("2025-07-07", 8))
    assert [e[2] for e in events(order, "uncollected")] == ["cancelled", "cancelled"]


def test_cancelled_order_cancels_interim_calls(make_order):
    order = make_order(placed_at=at("2025-06-02"), eta_days=12)
    services.call_events_generate(now=at("2025-06-02", 12))
    order_services.customer_order_cancel(
        actor=order.author, order=order, reason="Клиент передумал", now=at("2025-06-03")
    )
    services.call_events_generate(now=at("2025-06-03", 12))
    assert events(order) == [("interim_eta", d("2025-06-05"), "cancelled")]


def test_run_callbacks_command_with_now(make_order):
    order = make_order(kind="warranty", placed_at=at("2025-06-02"), received_at=at("2025-06-05"))
    out = io.StringIO()
    call_command("run_callbacks", "--now", "2025-06-05T12:00:00+03:00", stdout=out)
    assert "created 1" in out.getvalue()
    call_command("run_callbacks", "--now", "2025-06-05T12:00:00+03:00", stdout=out)
    assert "created 0" in out.getvalue()
    assert events(order) == [("arrival", d("2025-06-08"), "open")]


def test_run_callbacks_rejects_a_bad_moment():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("run_callbacks", "--now", "next tuesday")


@pytest.fixture
def berlin(db):
    dealership = DealershipFactory(name="Berlin Motors", code="berlin", time_zone="Europe/Berlin")
    author = UserFactory(role=roles.SERVICE_ADVISOR, dealership=[dealership])
    manager = UserFactory(role=roles.PARTS_MANAGER, dealership=[dealership])
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    from decimal import Decimal

    from parts.models import Part, Supplier

    part = Part.objects.create(dealership=dealership, number="B-1", name="Filter", price=Decimal("10"))
    supplier = Supplier.objects.create(dealership=dealership, name="DE", delivery_days=7)
    return {"author": author, "manager": manager, "vehicle": vehicle, "part": part, "supplier": supplier}


BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def test_dst_autumn_local_date_of_a_late_evening_arrival(make_order, berlin):
    # 26.10.2025 00:30 in Berlin is still 25.10 22:30 UTC: the local day (26th) counts, not the UTC one.
    order = make_order(
        author=berlin["author"],
        parts_manager_user=berlin["manager"],
        vehicle_=berlin["vehicle"],
        part_=berlin["part"],
        supplier_=berlin["supplier"],
        placed_at=at("2025-10-20", 10, tz=BERLIN),
        received_at=at("2025-10-26", 0, 30, tz=BERLIN),
    )
    assert order.received_at.astimezone(datetime.UTC).date() == d("2025-10-25")
    services.call_events_generate(now=at("2025-10-26", 1, tz=BERLIN))
    assert events(order) == [("arrival", d("2025-10-29"), "open")]


def test_dst_spring_interim_calls_neither_doubled_nor_skipped(make_order, berlin):
    # Placed on Friday 28.03.2025 23:30 CET; the clocks go forward on Sunday 30.03.
    order = make_order(
        author=berlin["author"],
        parts_manager_user=berlin["manager"],
        vehicle_=berlin["vehicle"],
        part_=berlin["part"],
        supplier_=berlin["supplier"],
        placed_at=at("2025-03-28", 23, 30, tz=BERLIN),
        eta_days=20,
    )
    # Ticks every 15 minutes through the DST night and beyond, as beat would run them (a sample of them).
    moment = at("2025-03-29", 0, 0, tz=BERLIN)
    end = at("2025-04-04", 0, 0, tz=BERLIN)
    while moment < end:
        services.call_events_generate(now=moment)
        moment += datetime.timedelta(hours=5, minutes=15)
    due = [e[1] for e in events(order, "interim_eta")]
    assert due == [d("2025-03-31"), d("2025-04-03"), d("2025-04-06")]


@pytest.mark.postgres
def test_python_rules_match_the_sql_rules(make_order, berlin):
    """The SQLite path (Python) and the PostgreSQL path (SQL) want exactly the same events."""
    make_order(kind="warranty", placed_at=at("2025-06-02"), received_at=at("2025-06-05"), on_waiting_lot=True)
    make_order(kind="commercial", placed_at=at("2025-05-01"), received_at=at("2025-05-03"))
    make_order(placed_at=at("2025-06-01"), eta_days=15)
    make_order(placed_at=at("2025-06-01"), eta_days=5)
    make_order(
        author=berlin["author"],
        parts_manager_user=berlin["manager"],
        vehicle_=berlin["vehicle"],
        part_=berlin["part"],
        supplier_=berlin["supplier"],
        placed_at=at("2025-03-28", 23, 30, tz=BERLIN),
        eta_days=20,
    )
    now = at("2025-06-07", 12)
    generator.tick_python(now=now)
    python_rows = set(CallEvent.objects.values_list("order_id", "kind", "due_date", "assignee_id"))
    CallEvent.objects.all().delete()
    generator.tick_postgres(now=now)
    sql_rows = set(CallEvent.objects.values_list("order_id", "kind", "due_date", "assignee_id"))
    assert python_rows == sql_rows
    assert len(sql_rows) == 8  # lot + arrival, arrival + uncollected, interim ×2, none, interim ×2


def test_python_path_is_idempotent_too(make_order):
    make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-05"), on_waiting_lot=True)
    first = generator.tick_python(now=at("2025-06-05", 12))
    second = generator.tick_python(now=at("2025-06-05", 12))
    assert (first.created, second.created) == (2, 0)


def test_receiving_parts_triggers_the_generator_on_commit(
    make_order, parts_manager, django_capture_on_commit_callbacks
):
    order = make_order(placed_at=at("2025-06-02"), on_waiting_lot=True)
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        order_services.customer_order_receive(
            actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}], now=at("2025-06-05", 14)
        )
    assert events(order) == [("lot_repair", d("2025-06-05"), "open"), ("arrival", d("2025-06-08"), "open")]


def test_status_signals_close_events_at_once(make_order, django_capture_on_commit_callbacks):
    order = make_order(placed_at=at("2025-06-02"), eta_days=10)
    services.call_events_generate(now=at("2025-06-02", 12))
    with django_capture_on_commit_callbacks(execute=True):
        order_services.customer_order_cancel(actor=order.author, order=order, reason="Передумал")
    assert CallEvent.objects.get(order=order).status == CallStatus.CANCELLED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_the_tick_uses_a_constant_number_of_queries(make_order, django_assert_max_num_queries):
    for _ in range(5):
        make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-05"))
    if connection.vendor != "postgresql":
        pytest.skip("the set-wise tick is PostgreSQL's")
    # Two UPDATEs and one INSERT … SELECT (+ savepoints), however many orders; one more reads the webhook
    # subscriptions that want the created events (issue 16 item 5).
    with django_assert_max_num_queries(9):
        result = services.call_events_generate(now=at("2025-06-05", 12), notify=False)
    assert result.created == 5
    for _ in range(20):
        make_order(placed_at=at("2025-06-02"), received_at=at("2025-06-06"))
    with django_assert_max_num_queries(9):
        result = services.call_events_generate(now=at("2025-06-06", 12))  # arrival messages included
    assert result.created == 20
