"""R27 low-stock alerts and R28 ABC classes."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from dms.core import roles
from parts import selectors, services
from parts.models import LowStockAlert, MovementKind, Part, StockBalance, StockMovement, Warehouse
from parts.tasks import classify_abc_all
from tests.orders.factories import CustomerOrderFactory

from .factories import PartFactory

pytestmark = pytest.mark.django_db


def issue(storekeeper, dealership, part, qty):
    return services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=qty, reference="ЗН")


def test_r27_falling_below_level_raises_one_alert_and_mails_parts_manager(
    receive, part, dealership, storekeeper, parts_manager, django_capture_on_commit_callbacks
):
    receive(part, 6)
    balance = StockBalance.objects.get(part=part)
    services.balance_update(actor=parts_manager, balance=balance, data={"alert_level": Decimal("4")})
    issue(storekeeper, dealership, part, 2)  # 4 left: not below 4
    assert LowStockAlert.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        issue(storekeeper, dealership, part, 1)  # 3 < 4
    alert = LowStockAlert.objects.get()
    assert alert.status == "open" and alert.on_hand == 3 and alert.available == 3 and alert.alert_level == 4
    # Part without class: reorder factor 2 -> target 8, free 3 -> suggest 5.
    assert alert.suggested_quantity == 5
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [parts_manager.email]
    assert "04152-YZZA1" in mail.outbox[0].subject and "5" in mail.outbox[0].body
    # Further falls and daily re-checks never open a second alert for the same shortage.
    with django_capture_on_commit_callbacks(execute=True):
        issue(storekeeper, dealership, part, 1)
        services.low_stock_scan(dealership=dealership, now=timezone.now() + datetime.timedelta(days=1))
    assert LowStockAlert.objects.count() == 1 and len(mail.outbox) == 1


def test_r27_alert_closes_when_stock_recovers_and_a_new_shortage_opens_a_new_one(
    receive, part, dealership, storekeeper, parts_manager
):
    receive(part, 2)
    balance = StockBalance.objects.get(part=part)
    services.balance_update(actor=parts_manager, balance=balance, data={"alert_level": Decimal("2")})
    issue(storekeeper, dealership, part, 1)
    assert LowStockAlert.objects.filter(status="open").count() == 1
    receive(part, 5)
    alert = LowStockAlert.objects.get()
    assert alert.status == "closed" and alert.closed_at is not None
    issue(storekeeper, dealership, part, 5)
    assert LowStockAlert.objects.filter(status="open").count() == 1
    assert LowStockAlert.objects.count() == 2


def test_r27_reservation_counts_against_free_stock_and_class_default_level(receive, dealership, storekeeper):
    part = PartFactory(dealership=dealership, abc_class="A")  # class A default level 4
    special = PartFactory(dealership=dealership)  # not classified: no default level
    receive(part, 5)
    receive(special, 1, reserve_for_order_id=CustomerOrderFactory(dealership=dealership).pk)
    assert LowStockAlert.objects.count() == 0
    services.stock_reserve(actor=storekeeper, dealership=dealership, part=part, quantity=3, reference="ЗН-5")
    alert = LowStockAlert.objects.get()
    assert alert.alert_level == 4 and alert.on_hand == 5 and alert.available == 2
    assert alert.suggested_quantity == 10  # class A: up to 3 x 4 = 12 free
    below = selectors.stock_list(dealership_ids=[dealership.pk], below_alert=True)
    assert [b.part_id for b in below] == [part.pk]


def _consume(dealership, part, value, when, kind=MovementKind.ISSUE):
    warehouse = Warehouse.objects.get_or_create(dealership=dealership, code="MAIN", defaults={"is_default": True})[0]
    StockMovement.objects.create(
        dealership=dealership,
        part=part,
        warehouse=warehouse,
        kind=kind,
        quantity=Decimal("-1"),
        unit_cost=Decimal(value),
        on_hand_after=0,
        occurred_at=when,
    )


def test_r28_abc_classes_from_twelve_months_consumption_value(dealership, parts_manager):
    now = timezone.now()
    parts = {n: PartFactory(dealership=dealership, number=n) for n in ["P1", "P2", "P3", "P4", "P5", "IDLE"]}
    for number, value in [("P1", 700), ("P2", 150), ("P3", 80), ("P4", 40), ("P5", 30)]:
        _consume(dealership, parts[number], value, now - datetime.timedelta(days=30))
    _consume(dealership, parts["P5"], 100000, now - datetime.timedelta(days=400))  # older than 12 months
    _consume(dealership, parts["P4"], 1, now - datetime.timedelta(days=3), kind=MovementKind.TRANSFER_OUT)
    counts = services.abc_classify(actor=parts_manager, dealership=dealership, now=now)
    classes = dict(Part.objects.filter(dealership=dealership).values_list("number", "abc_class"))
    # total 1000: P1 starts at 0 % -> A; P2 starts at 70 % -> A; P3 at 85 % -> B; P4 at 93 % -> B; P5 at 97 % -> C.
    assert classes == {"P1": "A", "P2": "A", "P3": "B", "P4": "B", "P5": "C", "IDLE": "C"}
    assert counts == {"A": 2, "B": 2, "C": 2}
    assert Part.objects.get(number="P1").abc_consumption_value == Decimal("700.00")


def test_r28_thresholds_are_configurable_and_the_monthly_job_covers_all_dealerships(
    dealership, other_dealership, settings
):
    settings.PARTS_ABC_THRESHOLDS = (50, 90)
    now = timezone.now()
    a = PartFactory(dealership=dealership, number="A1")
    b = PartFactory(dealership=dealership, number="B1")
    other = PartFactory(dealership=other_dealership, number="X1")
    _consume(dealership, a, 600, now)
    _consume(dealership, b, 400, now)
    _consume(other_dealership, other, 5, now)
    classify_abc_all.delay()
    a.refresh_from_db(), b.refresh_from_db(), other.refresh_from_db()
    assert (a.abc_class, b.abc_class, other.abc_class) == ("A", "B", "A")


def test_r28_abc_job_is_in_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "parts.tasks.classify_abc_all" in tasks


def test_parts_manager_role_gets_alerts_but_storekeeper_does_not(make_user, dealership):
    from parts.selectors import parts_manager_emails

    pm = make_user(roles.PARTS_MANAGER, email="pm@example.com")
    make_user(roles.STOREKEEPER, email="sk@example.com")
    assert parts_manager_emails(dealership.pk) == [pm.email]
