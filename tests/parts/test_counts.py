"""R26: stock counts — monthly by bin/class/plan, annual by a committee, variance report, approved adjustments."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from dms.core import roles
from parts import selectors, services
from parts.models import MovementKind, StockBalance, StockCount, StockMovement, Warehouse

from .factories import LocationFactory, PartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def head_of_parts(make_user):
    return make_user(roles.DIRECTOR, first_name="Елена", last_name="Морозова")


@pytest.fixture
def shelf(dealership, receive, storekeeper):
    """Two parts in bin A-01, one elsewhere."""
    a = PartFactory(dealership=dealership, number="A1")
    b = PartFactory(dealership=dealership, number="B1")
    c = PartFactory(dealership=dealership, number="C1")
    receive(a, 10, cost="100")
    receive(b, 4, cost="50")
    receive(c, 1)
    warehouse = Warehouse.objects.get(dealership=dealership)
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    for part in (a, b):
        services.balance_update(
            actor=storekeeper, balance=StockBalance.objects.get(part=part), data={"location": bin_a}
        )
    return {"a": a, "b": b, "c": c, "warehouse": warehouse, "bin": bin_a}


def start_monthly(storekeeper, dealership, shelf):
    return services.stock_count_start(
        actor=storekeeper, dealership=dealership, warehouse=shelf["warehouse"], scope="location", location=shelf["bin"]
    )


def entries(count, **counted):
    lines = {line.part.number: line for line in count.lines.select_related("part")}
    return [{"line": lines[n].pk, "counted": q, "reason": r} for n, (q, r) in counted.items()]


def test_r26_monthly_count_by_bin_snapshots_book_quantities(storekeeper, dealership, shelf):
    count = start_monthly(storekeeper, dealership, shelf)
    assert count.status == StockCount.Status.IN_PROGRESS and count.kind == "monthly"
    assert sorted((line.part.number, line.expected_quantity) for line in count.lines.all()) == [
        ("A1", 10),
        ("B1", 4),
    ]


def test_r26_close_needs_every_line_counted_and_every_difference_explained(storekeeper, dealership, shelf):
    count = start_monthly(storekeeper, dealership, shelf)
    services.stock_count_record(actor=storekeeper, count=count, entries=entries(count, A1=(8, "")))
    with pytest.raises(ValidationError, match="B1"):
        services.stock_count_submit(actor=storekeeper, count=count)
    services.stock_count_record(actor=storekeeper, count=count, entries=entries(count, B1=(4, "")))
    with pytest.raises(ValidationError) as error:
        services.stock_count_submit(actor=storekeeper, count=count)
    assert "A1" in error.value.message_dict["reason"][0]
    count.refresh_from_db()
    assert count.status == StockCount.Status.IN_PROGRESS
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 0


def test_r26_variance_report_and_approval_by_head_of_parts_writes_adjustments(
    storekeeper, head_of_parts, dealership, shelf
):
    count = start_monthly(storekeeper, dealership, shelf)
    services.stock_count_record(
        actor=storekeeper, count=count, entries=entries(count, A1=(8, "Недостача: бой"), B1=(5, "Пересорт"))
    )
    services.stock_count_submit(actor=storekeeper, count=count)
    report = selectors.variance_report(count)
    assert [(r["line"].part.number, r["value"]) for r in report["shortages"]] == [("A1", Decimal("-200.00"))]
    assert [(r["line"].part.number, r["value"]) for r in report["surpluses"]] == [("B1", Decimal("50.00"))]
    with pytest.raises(PermissionDenied):
        services.stock_count_approve(actor=storekeeper, count=count)
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 0

    now = timezone.now()
    services.stock_count_approve(actor=head_of_parts, count=count, now=now)
    count.refresh_from_db()
    assert count.status == StockCount.Status.APPROVED and count.approved_by == head_of_parts
    adjustments = {m.part.number: m for m in StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT)}
    assert adjustments["A1"].quantity == -2 and adjustments["A1"].reason == "Недостача: бой"
    assert adjustments["B1"].quantity == 1 and adjustments["A1"].actor == head_of_parts
    assert StockBalance.objects.get(part=shelf["a"]).on_hand == 8
    assert StockBalance.objects.get(part=shelf["b"]).on_hand == 5
    assert StockBalance.objects.get(part=shelf["a"]).last_counted_at == now
    assert StockBalance.objects.get(part=shelf["c"]).last_counted_at is None


def test_r26_annual_count_needs_a_committee_and_covers_everything(
    storekeeper, head_of_parts, make_user, dealership, shelf
):
    with pytest.raises(ValidationError):
        services.stock_count_start(
            actor=storekeeper,
            dealership=dealership,
            warehouse=shelf["warehouse"],
            kind="annual",
            committee=[storekeeper],
        )
    count = services.stock_count_start(
        actor=storekeeper,
        dealership=dealership,
        warehouse=shelf["warehouse"],
        kind="annual",
        committee=[storekeeper, head_of_parts],
    )
    assert count.scope == "all" and count.lines.count() == 3 and count.committee.count() == 2


def test_r26_a_deactivated_employee_sits_on_no_committee(storekeeper, make_user, dealership, shelf):
    departed = make_user(roles.STOREKEEPER, is_active=False)
    with pytest.raises(ValidationError) as refused:
        services.stock_count_start(
            actor=storekeeper,
            dealership=dealership,
            warehouse=shelf["warehouse"],
            kind="annual",
            committee=[storekeeper, departed],
        )
    assert "committee" in refused.value.message_dict
    assert not StockCount.objects.exists()


def test_r26_count_plan_uses_class_intervals(dealership, receive, settings):
    now = timezone.now()
    a = PartFactory(dealership=dealership, abc_class="A")
    b = PartFactory(dealership=dealership, abc_class="B")
    never = PartFactory(dealership=dealership, abc_class="C")
    for p in (a, b, never):
        receive(p, 1)
    StockBalance.objects.filter(part__in=[a, b]).update(last_counted_at=now - datetime.timedelta(days=100))
    warehouse = Warehouse.objects.get(dealership=dealership)
    due = {bal.part_id for bal in selectors.count_plan(warehouse=warehouse, now=now)}
    assert due == {a.pk, never.pk}  # A is quarterly (91 days); B twice a year
    settings.PARTS_COUNT_INTERVAL_DAYS = {"A": 91, "B": 90, "C": 365, "": 365}
    assert {bal.part_id for bal in selectors.count_plan(warehouse=warehouse, now=now)} == {a.pk, b.pk, never.pk}


def test_r26_count_pages_pdf_and_tablet_entry(client, storekeeper, head_of_parts, dealership, shelf):
    client.force_login(storekeeper)
    response = client.post(
        reverse("parts:count_start"),
        {"warehouse": shelf["warehouse"].pk, "kind": "monthly", "scope": "location", "location": shelf["bin"].pk},
    )
    count = StockCount.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("parts:count_detail", args=[count.pk])
    pdf = client.get(reverse("parts:count_sheet", args=[count.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    lines = {line.part.number: line.pk for line in count.lines.select_related("part")}
    page = client.post(
        reverse("parts:count_enter", args=[count.pk]),
        {f"counted_{lines['A1']}": "9", f"counted_{lines['B1']}": "4", "submit": "1"},
    )
    assert page.status_code == 200  # the difference on A1 has no reason
    count.refresh_from_db()
    assert count.status == "in_progress" and count.lines.get(pk=lines["A1"]).counted_quantity == 9
    client.post(
        reverse("parts:count_enter", args=[count.pk]),
        {
            f"counted_{lines['A1']}": "9",
            f"reason_{lines['A1']}": "Не найдено",
            f"counted_{lines['B1']}": "4",
            "submit": "1",
        },
    )
    count.refresh_from_db()
    assert count.status == "submitted"
    # Storekeepers see no approve button and get 403 on the action.
    detail = client.get(reverse("parts:count_detail", args=[count.pk]))
    assert b"approve-count" not in detail.content
    assert client.post(reverse("parts:count_action", args=[count.pk, "approve"])).status_code == 403


def test_r26_count_api_flow(api_as, storekeeper, head_of_parts, dealership, shelf):
    api = api_as(storekeeper)
    r = api.post(
        "/api/stock-counts/",
        {"warehouse": shelf["warehouse"].pk, "scope": "location", "location": shelf["bin"].pk},
        format="json",
    )
    assert r.status_code == 201
    count = r.json()
    lines = {line["part_number"]: line["id"] for line in count["lines"]}
    r = api.post(
        f"/api/stock-counts/{count['id']}/record/",
        {"entries": [{"line": lines["A1"], "counted": "7"}, {"line": lines["B1"], "counted": "4"}]},
        format="json",
    )
    assert r.status_code == 200
    r = api.post(f"/api/stock-counts/{count['id']}/submit/")
    assert r.status_code == 400 and "reason" in r.json()
    api.post(
        f"/api/stock-counts/{count['id']}/record/",
        {"entries": [{"line": lines["A1"], "counted": "7", "reason": "Кража"}]},
        format="json",
    )
    assert api.post(f"/api/stock-counts/{count['id']}/submit/").json()["status"] == "submitted"
    assert api.post(f"/api/stock-counts/{count['id']}/approve/").status_code == 403
    r = api_as(head_of_parts).post(f"/api/stock-counts/{count['id']}/approve/")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert api_as(head_of_parts).post(f"/api/stock-counts/{count['id']}/approve/").status_code == 409
    assert StockBalance.objects.get(part=shelf["a"]).on_hand == 7


def sell(storekeeper, dealership, part, quantity):
    return services.stock_issue(
        actor=storekeeper, dealership=dealership, part=part, quantity=quantity, reference="Чек 1", reason="counter_sale"
    )


def test_r26_sale_during_a_count_is_not_applied_twice(storekeeper, head_of_parts, dealership, shelf):
    """Issue 15 §1: a bin holds 10, 3 are sold while the count runs, the 7 left are counted: the stock stays 7."""
    count = start_monthly(storekeeper, dealership, shelf)
    sell(storekeeper, dealership, shelf["a"], 3)
    services.stock_count_record(actor=storekeeper, count=count, entries=entries(count, A1=(7, ""), B1=(4, "")))
    line = count.lines.get(part=shelf["a"])
    assert line.expected_quantity == 7 and line.variance == 0
    services.stock_count_submit(actor=storekeeper, count=count)
    services.stock_count_approve(actor=head_of_parts, count=count)
    assert StockBalance.objects.get(part=shelf["a"]).on_hand == 7
    assert not StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).exists()


def test_r26_movements_after_counting_stay_on_top_of_the_adjustment(storekeeper, head_of_parts, dealership, shelf):
    """Counted 8 of 10 (2 missing), then 1 more sold before approval: the adjustment is −2 and the stock ends at 7."""
    count = start_monthly(storekeeper, dealership, shelf)
    services.stock_count_record(actor=storekeeper, count=count, entries=entries(count, A1=(8, "Бой"), B1=(4, "")))
    sell(storekeeper, dealership, shelf["a"], 1)
    services.stock_count_submit(actor=storekeeper, count=count)
    services.stock_count_approve(actor=head_of_parts, count=count)
    assert StockMovement.objects.get(kind=MovementKind.ADJUSTMENT, part=shelf["a"]).quantity == -2
    assert StockBalance.objects.get(part=shelf["a"]).on_hand == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r26_counting_waits_for_a_sale_in_flight(storekeeper, head_of_parts, dealership, shelf):
    """A sale holds the balance row when the count of that bin is entered on another connection: the entry waits for
    the sale's commit and takes the book quantity after it, so approving the 7 counted leaves 7 (not 4)."""
    import threading

    from django.db import connection, transaction

    count = start_monthly(storekeeper, dealership, shelf)
    count_entries = entries(count, A1=(7, ""), B1=(4, ""))
    sale_holds_lock, errors = threading.Event(), []

    def sale() -> None:
        try:
            with transaction.atomic():
                sell(storekeeper, dealership, shelf["a"], 3)
                sale_holds_lock.set()
                _wait_until_a_backend_waits_for_a_lock()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def counting() -> None:
        try:
            sale_holds_lock.wait(10)
            services.stock_count_record(actor=storekeeper, count=count, entries=count_entries)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sale), threading.Thread(target=counting)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count.lines.get(part=shelf["a"]).expected_quantity == 7
    services.stock_count_submit(actor=storekeeper, count=count)
    services.stock_count_approve(actor=head_of_parts, count=count)
    assert StockBalance.objects.get(part=shelf["a"]).on_hand == 7


def _wait_until_a_backend_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Poll pg_stat_activity (from a third connection) until another session is blocked on a row lock."""
    import time

    import psycopg2
    from django.db import connection

    params = connection.get_connection_params()
    deadline = time.monotonic() + timeout
    with psycopg2.connect(**params) as probe, probe.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
