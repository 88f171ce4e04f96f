"""Issue 5 §1–2: the stock ledger, moving average cost, reservations and the never-negative guarantee."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from parts import selectors, services
from parts.models import MovementKind, Reservation, StockBalance, StockMovement, Warehouse
from tests.orders.factories import CustomerOrderFactory

from .factories import PartFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def ledger_sum(part, warehouse=None):
    qs = StockMovement.objects.filter(part=part)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return qs.aggregate(s=Sum("quantity"))["s"] or Decimal("0")


def test_first_receipt_creates_default_warehouse_balance_and_ledger_row(receive, part, dealership, storekeeper):
    movement = receive(part, 10, cost="120.50", reference="ТН-1")
    warehouse = Warehouse.objects.get(dealership=dealership)
    assert warehouse.is_default and warehouse.code == "MAIN"
    balance = StockBalance.objects.get(part=part, warehouse=warehouse)
    assert balance.on_hand == 10 and balance.reserved == 0 and balance.average_cost == Decimal("120.5")
    assert movement.kind == MovementKind.RECEIPT and movement.quantity == 10 and movement.actor == storekeeper
    assert movement.on_hand_after == 10 and movement.reference == "ТН-1"
    assert ledger_sum(part) == balance.on_hand


def test_moving_average_cost_and_issue_at_average(receive, part, dealership, storekeeper):
    receive(part, 10, cost="100")
    receive(part, 10, cost="200")
    out = services.stock_issue(
        actor=storekeeper, dealership=dealership, part=part, quantity=5, reference="ЗН-7", reason="work_order"
    )
    balance = StockBalance.objects.get(part=part)
    assert balance.average_cost == Decimal("150")
    assert out.unit_cost == Decimal("150") and out.quantity == -5 and out.value == Decimal("-750.00")
    assert out.work_order_ref == "ЗН-7"
    receive(part, 5, cost="300")  # (15*150 + 5*300) / 20
    balance.refresh_from_db()
    assert balance.on_hand == 20 and balance.average_cost == Decimal("187.5")
    assert ledger_sum(part) == balance.on_hand


def test_issue_more_than_available_is_refused_and_changes_nothing(receive, part, dealership, storekeeper):
    receive(part, 3)
    with pytest.raises(ValidationError) as error:
        services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=4, reference="ЗН-1")
    assert "3 " in error.value.message_dict["quantity"][0]
    balance = StockBalance.objects.get(part=part)
    assert balance.on_hand == 3 and StockMovement.objects.count() == 1


def test_reserved_stock_is_not_free_for_others(receive, part, dealership, storekeeper):
    receive(part, 5)
    reservation = services.stock_reserve(
        actor=storekeeper, dealership=dealership, part=part, quantity=4, reference="ЗН-1"
    )
    assert selectors.stock_available(dealership=dealership, part=part) == 1
    with pytest.raises(ValidationError):
        services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=2, reference="прилавок")
    with pytest.raises(ValidationError):
        services.stock_reserve(actor=storekeeper, dealership=dealership, part=part, quantity=2, reference="ЗН-2")
    services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=1, reference="прилавок")
    # The reservation's own issue consumes it.
    services.stock_issue(
        actor=storekeeper, dealership=dealership, part=part, quantity=4, reference="ЗН-1", reservation=reservation
    )
    reservation.refresh_from_db()
    balance = StockBalance.objects.get(part=part)
    assert reservation.status == Reservation.Status.ISSUED and reservation.issued_quantity == 4
    assert balance.on_hand == 0 and balance.reserved == 0
    assert AuditEntry.objects.filter(object_id=reservation.pk, action="created").exists()


def test_release_returns_reservation_to_free_stock_once(receive, part, dealership, storekeeper):
    receive(part, 5)
    reservation = services.stock_reserve(
        actor=storekeeper, dealership=dealership, part=part, quantity=5, reference="ЗН-1"
    )
    services.reservation_release(actor=storekeeper, reservation=reservation)
    assert selectors.stock_available(dealership=dealership, part=part) == 5
    with pytest.raises(ConflictError):
        services.reservation_release(actor=storekeeper, reservation=reservation)
    assert StockBalance.objects.get(part=part).reserved == 0


def test_receipt_for_customer_order_reserves_received_quantity(receive, part, dealership):
    order = CustomerOrderFactory(dealership=dealership)
    movement = receive(part, 2, reserve_for_order_id=order.pk, reference="Заказ Ф-0042")
    reservation = Reservation.objects.get(customer_order_id=order.pk)
    assert movement.reservation == reservation and reservation.quantity == 2
    assert reservation.status == Reservation.Status.ACTIVE
    balance = StockBalance.objects.get(part=part)
    assert balance.on_hand == 2 and balance.reserved == 2
    assert selectors.stock_available(dealership=dealership, part=part) == 0


def test_database_refuses_negative_stock_and_over_reservation(receive, part):
    receive(part, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(part=part).update(on_hand=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(part=part).update(reserved=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.filter(part=part).update(quantity=0)


def test_transfer_moves_stock_and_cost_between_warehouses(receive, part, dealership, storekeeper):
    receive(part, 6, cost="50")
    main = Warehouse.objects.get(dealership=dealership, is_default=True)
    second = WarehouseFactory(dealership=dealership, code="B2")
    out, into = services.stock_transfer(
        actor=storekeeper, dealership=dealership, part=part, quantity=4, from_warehouse=main, to_warehouse=second
    )
    assert (out.quantity, into.quantity, into.unit_cost) == (-4, 4, Decimal("50"))
    assert ledger_sum(part, main) == 2 and ledger_sum(part, second) == 4
    assert StockBalance.objects.get(part=part, warehouse=second).average_cost == Decimal("50")
    with pytest.raises(ValidationError):
        services.stock_transfer(
            actor=storekeeper, dealership=dealership, part=part, quantity=3, from_warehouse=main, to_warehouse=second
        )


def test_write_off_needs_a_reason_and_bad_quantities_are_refused(receive, part, dealership, storekeeper):
    receive(part, 2)
    with pytest.raises(ValidationError) as error:
        services.stock_issue(
            actor=storekeeper, dealership=dealership, part=part, quantity=1, reference="Акт 1", reason="write_off"
        )
    assert "note" in error.value.message_dict
    for bad in (0, -1, "abc", "0.0001"):
        with pytest.raises(ValidationError):
            services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=bad, reference="x")
    movement = services.stock_issue(
        actor=storekeeper,
        dealership=dealership,
        part=part,
        quantity=1,
        reference="Акт 1",
        reason="write_off",
        note="Разбит при разгрузке",
    )
    assert movement.kind == MovementKind.WRITE_OFF and movement.reason == "Разбит при разгрузке"
    assert StockBalance.objects.get(part=part).on_hand == 1


def test_another_dealerships_part_or_warehouse_is_refused(receive, part, dealership, other_dealership, storekeeper):
    foreign_part = PartFactory(dealership=other_dealership)
    foreign_warehouse = WarehouseFactory(dealership=other_dealership)
    with pytest.raises(ValidationError):
        services.stock_receive(actor=storekeeper, dealership=dealership, part=foreign_part, quantity=1, unit_cost=1)
    with pytest.raises(ValidationError):
        receive(part, 1, warehouse=foreign_warehouse)
    assert StockMovement.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_first_receipts_at_once_share_one_default_warehouse():
    """Issue 19 (seen in CI): several first receipts of a dealership at once, on separate connections, all get the
    one default warehouse that one of them creates — none is refused with "the dealership has no default warehouse"
    because another's warehouse appeared between two reads."""
    from tests.factories import DealershipFactory

    def worker(dealership, barrier, chosen: list[int], refused: list[str]) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                chosen.append(services.default_warehouse(dealership).pk)
        except ValidationError as error:
            refused.append(str(error))
        finally:
            connection.close()

    for _round in range(4):
        dealership, barrier = DealershipFactory(), threading.Barrier(8)
        chosen: list[int] = []
        refused: list[str] = []
        threads = [threading.Thread(target=worker, args=(dealership, barrier, chosen, refused)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        warehouse = Warehouse.objects.get(dealership=dealership)
        assert refused == []
        assert chosen == [warehouse.pk] * 8 and warehouse.is_default and warehouse.code == "MAIN"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_of_the_last_units_never_go_below_zero(dealership, storekeeper):
    """Issue 5 §2: 16 threads on separate connections fight for the last 5 units; exactly 5 win."""
    part = PartFactory(dealership=dealership)
    services.stock_receive(actor=storekeeper, dealership=dealership, part=part, quantity=5, unit_cost=10)
    reservation = services.stock_reserve(
        actor=storekeeper, dealership=dealership, part=part, quantity=2, reference="ЗН-1"
    )
    barrier = threading.Barrier(16)
    results: list[str] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            if n % 4 == 0:
                services.stock_issue(
                    actor=storekeeper,
                    dealership=dealership,
                    part=part,
                    quantity=1,
                    reference=f"ЗН-1/{n}",
                    reservation=reservation,
                )
            else:
                services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=1, reference=f"{n}")
            results.append("ok")
        except (ValidationError, ConflictError):
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    balance = StockBalance.objects.get(part=part)
    assert results.count("ok") == 5 and results.count("refused") == 11
    assert balance.on_hand == 0 and balance.reserved == 0
    assert ledger_sum(part) == 0
    assert StockMovement.objects.filter(part=part, on_hand_after__lt=0).count() == 0
    assert sorted(StockMovement.objects.filter(part=part).values_list("on_hand_after", flat=True)) == [0, 1, 2, 3, 4, 5]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_exceed_on_hand(dealership, storekeeper):
    part = PartFactory(dealership=dealership)
    services.stock_receive(actor=storekeeper, dealership=dealership, part=part, quantity=3, unit_cost=10)
    barrier = threading.Barrier(10)
    ok = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            services.stock_reserve(actor=storekeeper, dealership=dealership, part=part, quantity=1, reference=f"ЗН-{n}")
            ok.append(n)
        except ValidationError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    balance = StockBalance.objects.get(part=part)
    assert len(ok) == 3 and balance.reserved == 3 and balance.on_hand == 3
    assert Reservation.objects.filter(part=part, status="active").count() == 3


def test_stock_available_contract(receive, part, dealership):
    assert selectors.stock_available(dealership=dealership, part=part) == 0
    receive(part, 7)
    second = WarehouseFactory(dealership=dealership)
    receive(part, 3, warehouse=second)
    assert selectors.stock_available(dealership=dealership, part=part) == 7
    assert selectors.stock_available(dealership=dealership, part=part, warehouse=second) == 3
    assert selectors.stock_on_hand_total(dealership=dealership, part=part) == 10
