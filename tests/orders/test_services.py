import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from orders import services, signals
from orders.models import CustomerOrder, CustomerOrderLine, OrderStatus, Receipt, ReceiptLine, SupplierOrder
from tests.factories import CustomerFactory, VehicleFactory

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def _transitions(order):
    return list(
        AuditEntry.objects.filter(object_id=order.pk, action="transition")
        .order_by("id")
        .values_list("changes__status", flat=True)
    )


def _snapshot(order):
    order = CustomerOrder.objects.get(pk=order.pk)
    return (
        order.status,
        order.expected_at,
        order.placed_at,
        order.received_at,
        list(order.lines.values_list("quantity_received", flat=True)),
        Receipt.objects.filter(order=order).count(),
        SupplierOrder.objects.filter(customer_order=order).count(),
        AuditEntry.objects.filter(object_id=order.pk, action="transition").count(),
    )


# -- create ----------------------------------------------------------------------------------------------------
def test_create_numbers_orders_per_dealership_and_starts_not_placed(make_order, advisor, part, part2):
    first = make_order(lines=[{"part": part, "quantity": 2}, {"part": part2, "quantity": "1.5"}])
    second = make_order()
    assert first.number == "Ф000000001" and second.number == "Ф000000002"
    assert first.status == OrderStatus.NOT_PLACED and first.author == advisor
    assert list(first.lines.values_list("part__number", "quantity", "unit_price")) == [
        ("04152-YZZA1", Decimal("2.00"), Decimal("1000.00")),
        ("04465-02220", Decimal("1.50"), Decimal("1000.00")),
    ]
    created = AuditEntry.objects.get(object_id=first.pk, action="created")
    assert created.actor == advisor and created.changes["kind"] == "warranty"


@pytest.mark.parametrize(
    "quantity, message",
    [(0, "greater than zero"), (-1, "greater than zero"), ("abc", "Enter a number"), ("0.001", "too many digits")],
)
def test_create_rejects_bad_quantities(make_order, part, quantity, message):
    with pytest.raises(ValidationError) as error:
        make_order(lines=[{"part": part, "quantity": quantity}])
    assert message in str(error.value.message_dict["lines"])
    assert CustomerOrder.objects.count() == 0 and CustomerOrderLine.objects.count() == 0


def test_create_rejects_part_of_another_dealership(make_order, other_dealership):
    foreign = PartFactory(dealership=other_dealership)
    with pytest.raises(ValidationError) as error:
        make_order(lines=[{"part": foreign, "quantity": 1}])
    assert "unknown part" in str(error.value.message_dict["lines"])
    assert CustomerOrder.objects.count() == 0


def test_create_rejects_customer_and_vehicle_of_another_dealership(advisor, dealership, other_dealership, part):
    foreign_vehicle = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    with pytest.raises(ValidationError) as error:
        services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=foreign_vehicle.customer,
            vehicle=foreign_vehicle,
            kind="commercial",
            lines=[{"part": part, "quantity": 1}],
        )
    assert error.value.message_dict["customer"] == ["Unknown customer."]
    assert error.value.message_dict["vehicle"] == ["Unknown vehicle."]
    assert CustomerOrder.objects.count() == 0


def test_create_rejects_vehicle_of_another_customer_duplicate_parts_and_no_lines(advisor, vehicle, part, dealership):
    stranger = CustomerFactory(dealership=dealership)
    with pytest.raises(ValidationError) as error:
        services.customer_order_create(
            actor=advisor, dealership=dealership, customer=stranger, vehicle=vehicle, kind="warranty", lines=[]
        )
    assert "another customer" in error.value.message_dict["vehicle"][0]
    with pytest.raises(ValidationError) as error:
        services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=vehicle.customer,
            vehicle=vehicle,
            kind="warranty",
            lines=[{"part": part, "quantity": 1}, {"part": part, "quantity": 2}],
        )
    assert "listed twice" in error.value.message_dict["lines"][0]
    with pytest.raises(ValidationError) as error:
        services.customer_order_create(
            actor=advisor, dealership=dealership, customer=vehicle.customer, vehicle=vehicle, kind="x", lines=[]
        )
    assert error.value.message_dict["kind"] == ["Unknown order kind."]
    assert CustomerOrder.objects.count() == 0


def test_counter_sale_needs_no_vehicle_but_a_repair_and_the_waiting_lot_do(advisor, customer, part, dealership):
    order = services.customer_order_create(
        actor=advisor,
        dealership=dealership,
        customer=customer,
        kind="commercial",
        purpose="counter_sale",
        lines=[{"part": part, "quantity": 1}],
    )
    assert order.vehicle is None
    with pytest.raises(ValidationError) as error:
        services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=customer,
            kind="commercial",
            purpose="repair",
            on_waiting_lot=True,
            lines=[{"part": part, "quantity": 1}],
        )
    assert set(error.value.message_dict) == {"vehicle", "on_waiting_lot"}


# -- place (R1, R4) --------------------------------------------------------------------------------------------
def test_r1_placing_moves_not_placed_to_ordered_with_supplier_order(order, place, parts_manager, supplier):
    received = []
    signals.status_changed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t-r1")
    try:
        placed = place(order, days=5)
    finally:
        signals.status_changed.disconnect(dispatch_uid="t-r1")
    assert placed.status == OrderStatus.ORDERED
    assert placed.placed_at is not None and placed.expected_at == placed.local_today() + datetime.timedelta(days=5)
    supplier_order = SupplierOrder.objects.get(customer_order=order)
    assert (supplier_order.supplier, supplier_order.placed_by) == (supplier, parts_manager)
    assert _transitions(order) == [["not_placed", "ordered"]]
    entry = AuditEntry.objects.get(object_id=order.pk, action="transition")
    assert entry.actor == parts_manager and "TMR-" in entry.shown_message
    # R1: the order list shows «Полностью заказан у поставщика» in brown.
    with translation.override("ru"):
        assert placed.get_status_display() == "Полностью заказан у поставщика"
    assert placed.colour() == "#8b4513"
    # the signal is sent on commit (pytest's test transaction never commits, so nothing yet)
    assert received == []


def test_r1_placing_twice_is_a_conflict_and_changes_nothing(placed_order, place):
    before = _snapshot(placed_order)
    with pytest.raises(ConflictError) as error:
        place(placed_order, days=3, supplier_order_number="AGAIN")
    assert "can be placed only once" in error.value.message
    assert _snapshot(placed_order) == before


def test_place_rejects_foreign_supplier_blank_number_and_past_eta(order, parts_manager, other_dealership):
    foreign = SupplierFactory(dealership=other_dealership)
    with pytest.raises(ValidationError) as error:
        services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=foreign,
            supplier_order_number="  ",
            expected_at=order.local_today() - datetime.timedelta(days=1),
        )
    assert set(error.value.message_dict) == {"supplier", "supplier_order_number", "expected_at"}
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED
    assert not SupplierOrder.objects.exists()


def test_r4_long_delivery_term_needs_the_customers_agreement(order, place):
    with pytest.raises(ValidationError) as error:
        place(order, days=20)
    assert "agreed to the long term" in error.value.message_dict["long_term_agreed"][0]
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED
    placed = place(order, days=20, long_term_agreed=True)
    assert placed.status == OrderStatus.ORDERED and placed.long_term_agreed is True


def test_r4_agreement_recorded_at_ordering_is_enough(make_order, place):
    order = make_order(long_term_agreed=True)
    assert place(order, days=30).status == OrderStatus.ORDERED


# -- receive (R2) ----------------------------------------------------------------------------------------------
def test_r2_receipts_move_the_order_by_quantities(make_order, place, part, part2, storekeeper):
    order = place(make_order(lines=[{"part": part, "quantity": 2}, {"part": part2, "quantity": 1}]))
    line1, line2 = order.lines.order_by("id")
    receipt = services.customer_order_receive(actor=storekeeper, order=order, lines=[{"line": line1.pk, "quantity": 1}])
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RECEIVED and order.first_received_at is not None
    assert order.received_at is None and order.colour() == "#e8a317"
    assert list(ReceiptLine.objects.filter(receipt=receipt).values_list("line_id", "quantity")) == [
        (line1.pk, Decimal("1.00"))
    ]
    services.customer_order_receive(
        actor=storekeeper, order=order, lines=[{"line": line1, "quantity": 1}, {"line": line2.pk, "quantity": 1}]
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED and order.received_at is not None
    assert list(order.lines.order_by("id").values_list("quantity_received", flat=True)) == [Decimal(2), Decimal(1)]
    assert _transitions(order) == [
        ["not_placed", "ordered"],
        ["ordered", "partially_received"],
        ["partially_received", "received"],
    ]


def test_r2_receiving_everything_at_once_goes_straight_to_received(placed_order, storekeeper):
    line = placed_order.lines.get()
    services.customer_order_receive(actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 2}])
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.RECEIVED


@pytest.mark.parametrize(
    "quantity, message",
    [(3, "at most 2 more"), (0, "greater than zero"), (-1, "greater than zero"), ("x", "Enter a number")],
)
def test_r2_receiving_more_than_ordered_or_non_positive_changes_nothing(placed_order, storekeeper, quantity, message):
    line = placed_order.lines.get()
    before = _snapshot(placed_order)
    with pytest.raises(ValidationError) as error:
        services.customer_order_receive(
            actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": quantity}]
        )
    assert message in str(error.value.message_dict["lines"])
    assert _snapshot(placed_order) == before


def test_receiving_over_the_remainder_names_the_part(placed_order, storekeeper):
    line = placed_order.lines.get()
    services.customer_order_receive(actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 1}])
    with pytest.raises(ValidationError) as error:
        services.customer_order_receive(actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 2}])
    assert error.value.message_dict["lines"] == [
        "Part 04152-YZZA1: 2 ordered, 1 already received — at most 1 more can be received."
    ]
    assert CustomerOrder.objects.get(pk=placed_order.pk).lines.get().quantity_received == Decimal(1)


def test_receiving_a_line_of_another_order_changes_nothing(placed_order, make_order, place, storekeeper):
    other = place(make_order())
    before = _snapshot(placed_order), _snapshot(other)
    with pytest.raises(ValidationError) as error:
        services.customer_order_receive(
            actor=storekeeper, order=placed_order, lines=[{"line": other.lines.get().pk, "quantity": 1}]
        )
    assert "is not a line of this order" in error.value.message_dict["lines"][0]
    assert (_snapshot(placed_order), _snapshot(other)) == before


def test_receiving_the_same_line_twice_or_nothing_is_rejected(placed_order, storekeeper):
    line = placed_order.lines.get()
    with pytest.raises(ValidationError) as error:
        services.customer_order_receive(
            actor=storekeeper,
            order=placed_order,
            lines=[{"line": line.pk, "quantity": 1}, {"line": line.pk, "quantity": 1}],
        )
    assert "listed twice" in error.value.message_dict["lines"][0]
    with pytest.raises(ValidationError):
        services.customer_order_receive(actor=storekeeper, order=placed_order, lines=[])
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.ORDERED


def test_receiving_an_unplaced_order_is_a_conflict(order, storekeeper):
    with pytest.raises(ConflictError) as error:
        services.customer_order_receive(
            actor=storekeeper, order=order, lines=[{"line": order.lines.get().pk, "quantity": 1}]
        )
    assert "is not placed with a supplier yet" in error.value.message
    assert not Receipt.objects.exists()


def test_receiving_a_cancelled_order_is_a_conflict(placed_order, parts_manager, storekeeper):
    services.customer_order_cancel(actor=parts_manager, order=placed_order, reason="Клиент отказался")
    with pytest.raises(ConflictError) as error:
        services.customer_order_receive(
            actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 1}]
        )
    assert "Order Ф000000001 is" in error.value.message and "nothing more can be received" in error.value.message
    assert not Receipt.objects.exists()


def test_parts_received_signal_fires_after_commit(placed_order, storekeeper, django_capture_on_commit_callbacks):
    seen = []
    signals.parts_received.connect(lambda **kw: seen.append(kw), weak=False, dispatch_uid="t-r5")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            receipt = services.customer_order_receive(
                actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 2}]
            )
    finally:
        signals.parts_received.disconnect(dispatch_uid="t-r5")
    assert seen == [
        {
            "signal": signals.parts_received,
            "sender": CustomerOrder,
            "order_id": placed_order.pk,
            "receipt_id": receipt.pk,
        }
    ]


# -- issue and cancel ------------------------------------------------------------------------------------------
def test_issue_closes_a_received_order_only(placed_order, storekeeper):
    with pytest.raises(ConflictError) as error:
        services.customer_order_issue(actor=storekeeper, order=placed_order)
    assert "only a fully received order can be issued" in error.value.message
    services.customer_order_receive(
        actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 2}]
    )
    issued = services.customer_order_issue(actor=storekeeper, order=placed_order)
    assert issued.status == OrderStatus.ISSUED and issued.issued_at is not None
    assert _transitions(placed_order)[-1] == ["received", "issued"]


@pytest.mark.parametrize("placed", [False, True])
def test_cancel_from_not_placed_or_ordered_with_reason(order, place, parts_manager, placed):
    if placed:
        order = place(order)
    with pytest.raises(ValidationError) as error:
        services.customer_order_cancel(actor=parts_manager, order=order, reason="   ")
    assert error.value.message_dict == {"reason": ["Enter the reason for cancelling."]}
    cancelled = services.customer_order_cancel(actor=parts_manager, order=order, reason="Клиент отказался")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancel_reason == "Клиент отказался"
    assert _transitions(order)[-1] == ["ordered" if placed else "not_placed", "cancelled"]


def test_cannot_cancel_after_parts_arrived(placed_order, storekeeper, parts_manager):
    services.customer_order_receive(
        actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 1}]
    )
    with pytest.raises(ConflictError) as error:
        services.customer_order_cancel(actor=parts_manager, order=placed_order, reason="поздно")
    assert "can no longer be cancelled" in error.value.message
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.PARTIALLY_RECEIVED


def test_status_is_protected_from_hand_edits(order):
    # R2: nobody sets a status by hand.
    with pytest.raises(AttributeError):
        order.status = OrderStatus.RECEIVED


def test_update_edits_working_details_only(order, parts_manager):
    updated = services.customer_order_update(actor=parts_manager, order=order, data={"comment": "Срочно"})
    assert updated.comment == "Срочно"
    with pytest.raises(ValidationError) as error:
        services.customer_order_update(actor=parts_manager, order=order, data={"status": "received"})
    assert "status" in error.value.message_dict


def test_days_waiting_counts_local_calendar_days(order):
    now = timezone.now()
    CustomerOrder.objects.filter(pk=order.pk).update(created_at=now - datetime.timedelta(days=4))
    order.refresh_from_db()
    assert order.days_waiting(now) == 4


def test_round_quantities_read_as_numbers_in_messages_and_history(placed_order, storekeeper):
    """«10», never «1E+1» (``str(Decimal("10.00").normalize())``): the refusal and the status history's line."""
    from dms.core.formatting import plain_quantity
    from dms.core.models import AuditEntry

    assert [plain_quantity(Decimal(v)) for v in ("10.00", "1.50", "0", "120")] == ["10", "1.5", "0", "120"]
    line = placed_order.lines.get()
    type(line).objects.filter(pk=line.pk).update(quantity=Decimal("20.000"))  # 2 ordered: make it 20
    services.customer_order_receive(actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 10}])
    with pytest.raises(ValidationError) as error:
        services.customer_order_receive(
            actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 20}]
        )
    assert error.value.message_dict["lines"] == [
        "Part 04152-YZZA1: 20 ordered, 10 already received — at most 10 more can be received."
    ]
    texts = " ".join(f"{entry.changes} {entry.message} {entry.message_params}" for entry in AuditEntry.objects.all())
    assert "04152-YZZA1 × 10" in texts and "E+" not in texts
