"""dms.core.validation: the input checks the apps' services share (issue 13 item 1)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from claims.models import NumberCounter
from dms.core import roles
from dms.core.validation import (
    check_owned,
    check_staff,
    clean_text,
    money_amount,
    next_document_number,
    positive_quantity,
)
from orders.models import OrderNumberCounter
from tests.factories import CustomerFactory, VehicleFactory


def _errors(call) -> dict:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        call()
    return {field: [str(m) for m in messages] for field, messages in caught.value.message_dict.items()}


@pytest.mark.parametrize(
    "value, expected",
    [("2", Decimal("2")), ("0.25", Decimal("0.25")), (Decimal("1.50"), Decimal("1.50")), (3, Decimal("3"))],
)
def test_positive_quantity_accepts(value, expected):
    assert positive_quantity(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("abc", "Enter a number."),
        (None, "Enter a number."),
        ("0", "The quantity must be greater than zero."),
        ("-1", "The quantity must be greater than zero."),
        ("NaN", "The quantity must be greater than zero."),
        ("Infinity", "The quantity must be greater than zero."),
        ("1.234", "The quantity has too many digits."),
        ("1e40", "The quantity has too many digits."),  # too long to quantize: a message, not a 500
    ],
)
def test_positive_quantity_refuses_with_the_orders_wording(value, message):
    assert _errors(lambda: positive_quantity(value, field="lines")) == {"lines": [message]}


def test_positive_quantity_bounds_and_places_are_the_callers():
    assert positive_quantity("1.234", places=3) == Decimal("1.234")
    assert _errors(lambda: positive_quantity("100000000", below=Decimal("100000000"))) == {
        "quantity": ["The quantity has too many digits."]
    }
    assert positive_quantity("99999999.99", below=Decimal("100000000")) == Decimal("99999999.99")
    too_precise = "Use at most three decimal places."
    assert _errors(lambda: positive_quantity("1.0005", places=3, too_precise=too_precise)) == {
        "quantity": [too_precise]
    }


def test_money_amount():
    assert money_amount("10.005") == Decimal("10.00")  # banker's rounding, as claims rounded
    assert money_amount("10.015") == Decimal("10.02")
    assert money_amount(0) == Decimal("0.00")
    assert money_amount("9999999999.99") == Decimal("9999999999.99")
    assert money_amount("", required=False) is None
    assert money_amount(None, required=False) is None
    assert _errors(lambda: money_amount("")) == {"amount": ["Enter the amount."]}
    assert _errors(lambda: money_amount("x", field="paid")) == {"paid": ["Enter a number."]}
    assert _errors(lambda: money_amount("-0.01")) == {"amount": ["Enter an amount between 0 and 9 999 999 999."]}
    assert _errors(lambda: money_amount("10000000000")) == {"amount": ["Enter an amount between 0 and 9 999 999 999."]}
    assert _errors(lambda: money_amount("1e400")) == {"amount": ["Enter an amount between 0 and 9 999 999 999."]}
    # An order's purchase price names its own bounds for both kinds of bad input.
    own = "Enter a purchase price from 0 to 100."
    assert _errors(lambda: money_amount("x", maximum=Decimal(100), invalid=own, out_of_range=own)) == {"amount": [own]}
    assert _errors(lambda: money_amount("100.01", maximum=Decimal(100), out_of_range=own)) == {"amount": [own]}
    assert money_amount("100", maximum=Decimal(100)) == Decimal("100.00")


def test_clean_text():
    assert clean_text("  a b \n") == "a b"
    assert clean_text(None) == ""
    assert clean_text(12) == "12"


@pytest.mark.django_db
def test_check_staff(make_user, dealership, other_dealership):
    advisor = make_user(roles.SERVICE_ADVISOR)
    storekeeper = make_user(roles.STOREKEEPER)
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    check_staff(dealership.pk, advisor, field="advisor")
    check_staff(dealership, advisor, field="advisor", role=roles.SERVICE_ADVISOR)  # a Dealership works too
    check_staff(dealership.pk, None, field="parts_manager")  # empty is fine unless required
    assert _errors(lambda: check_staff(dealership.pk, None, field="advisor", required=True)) == {
        "advisor": ["This field is required."]
    }
    assert _errors(lambda: check_staff(dealership.pk, stranger, field="assignee")) == {
        "assignee": ["This employee does not work in the dealership."]
    }
    assert _errors(lambda: check_staff(dealership.pk, storekeeper, field="advisor", role=roles.SERVICE_ADVISOR)) == {
        "advisor": ["This employee does not have the role this needs."]
    }
    departed = make_user(roles.SERVICE_ADVISOR, is_active=False)
    assert _errors(lambda: check_staff(dealership.pk, departed, field="assignee")) == {
        "assignee": ["This employee's account is deactivated."]
    }
    said = "This employee is not a service advisor."
    assert _errors(
        lambda: check_staff(dealership.pk, storekeeper, field="advisor", role=roles.SERVICE_ADVISOR, role_message=said)
    ) == {"advisor": [said]}


@pytest.mark.django_db
def test_check_owned_reports_every_foreign_record(dealership, other_dealership):
    mine = CustomerFactory(dealership=dealership)
    foreign_customer = CustomerFactory(dealership=other_dealership)
    foreign_vehicle = VehicleFactory(dealership=other_dealership, customer=foreign_customer)
    check_owned(dealership.pk, customer=mine, vehicle=None)
    check_owned(dealership, customer=mine)
    assert _errors(lambda: check_owned(dealership.pk, customer=foreign_customer, car=foreign_vehicle)) == {
        "customer": ["Unknown customer."],
        "car": ["Unknown car."],
    }
    # parts named the record by its model's verbose name
    assert _errors(lambda: check_owned(dealership, by_verbose_name=True, car=foreign_vehicle)) == {
        "car": ["Unknown vehicle."]
    }


@pytest.mark.django_db
def test_next_document_number_keeps_both_numberings(dealership, other_dealership):
    with transaction.atomic():
        first = next_document_number(
            OrderNumberCounter, prefix=dealership.order_prefix, digits=9, dealership=dealership
        )
        second = next_document_number(
            OrderNumberCounter, prefix=dealership.order_prefix, digits=9, dealership=dealership
        )
        other = next_document_number(
            OrderNumberCounter, prefix=other_dealership.order_prefix, digits=9, dealership=other_dealership
        )
        numbers = [
            next_document_number(NumberCounter, prefix=prefix, digits=6, dealership=dealership, kind=kind)
            for prefix, kind in (("ЖЛ-", "complaint"), ("ГА-", "warranty"), ("ЖЛ-", "complaint"))
        ]
    assert first == f"{dealership.order_prefix}000000001"
    assert second == f"{dealership.order_prefix}000000002"
    assert other == f"{other_dealership.order_prefix}000000001"
    assert numbers == ["ЖЛ-000001", "ГА-000001", "ЖЛ-000002"]
    assert OrderNumberCounter.objects.get(dealership=dealership).last_value == 2


@pytest.mark.django_db
def test_filter_given_skips_what_was_not_given(dealership, other_dealership):
    from dms.core.filters import filter_given
    from dms.core.models import Customer

    mine = CustomerFactory(dealership=dealership, name="Анна", is_vip=True)
    CustomerFactory(dealership=dealership, name="Борис")
    CustomerFactory(dealership=other_dealership, name="Анна")
    qs = Customer.objects.all()
    assert filter_given(qs, name="", dealership_id=None, is_vip=False, pk__in=[]) is qs
    assert list(filter_given(qs, dealership_id=dealership.pk, name="Анна", is_vip=None)) == [mine]
    assert filter_given(qs, dealership_id__in=[dealership.pk, other_dealership.pk], is_vip=True).count() == 1
