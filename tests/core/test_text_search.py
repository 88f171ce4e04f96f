"""Issue 19 item 3: the lists' shared search (dms.core.search.text_search) finds the same rows, in the same order, as
a plain ``icontains`` filter — whichever plan the probe picks (a rare text's ids, a common text row by row, a one- or
two-character text without probe) — over random data: Cyrillic and Latin names in mixed case, VINs, plates."""

import random

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from dms.core import search as text_search_module
from dms.core import selectors
from dms.core.inputs import is_phone_text, phone_search_forms
from dms.core.models import Customer, Vehicle
from dms.core.pagination import CappedCountPaginator
from dms.core.search import text_search
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the probe is PostgreSQL's")

WORDS = ["Иванов", "ПЕТРОВА", "сидоров", "Ёжиков", "Smith", "o'brien", "ЛЮДМИЛА", "Zhang Wei", "Клиент 1", "клиент 12"]
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def _vin(rng: random.Random) -> str:
    # shared prefixes so that a part of a VIN is common to several cars, as in a dealership's fleet of one make
    return rng.choice(["JTDBR32E", "XTA21099", "WVWZZZ1K", "Z94CB41A"]) + "".join(rng.choices(VIN_CHARS, k=9))


@pytest.fixture
def random_rows(dealership, other_dealership):
    rng = random.Random(19)
    customers = []
    for n in range(70):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)}".strip()
        customers.append(
            CustomerFactory(
                dealership=dealership if n % 7 else other_dealership,
                name=name,
                email=f"{rng.choice(['anna', 'Борис', 'ivan7'])}{n}@example.com" if n % 3 else "",
            )
        )
    vins, plates = [], []
    for customer in customers:
        for _ in range(rng.choice([0, 1, 1, 2])):
            vin, plate = _vin(rng), f"{rng.choice('АВЕКМ')}{rng.randint(100, 999)}{rng.choice(['ОР', 'ХТ'])}77"
            VehicleFactory(
                customer=customer,
                vin=vin,
                plate=plate,
                make=rng.choice(["Toyota", "Лада", "Volkswagen"]),
                model=rng.choice(["Corolla", "Веста", "Polo"]),
            )
            vins.append(vin)
            plates.append(plate)
    texts = ["7", "а", "Ё", "o'", "ИВА", "иванов", "ПеТрОвА", "клиент 1", "Клиент 12", "nobody", "zhang w", "example"]
    texts += [vin[start : start + length] for vin in rng.sample(vins, 8) for start, length in [(0, 5), (8, 6), (3, 11)]]
    texts += [vin.lower()[2:9] for vin in rng.sample(vins, 3)] + [plate[1:4] for plate in rng.sample(plates, 3)]
    texts += ["".join(rng.choice([c.upper(), c.lower()]) for c in rng.choice(WORDS)[1:4]) for _ in range(6)]
    return texts


def _plain_customers(dealership, text: str):
    match = Q()
    for field in ("name", "email", "vehicles__vin", "vehicles__plate"):
        match |= Q(**{f"{field}__icontains": text})
    contains, prefix = phone_search_forms(text)
    for column in ("phone", "phone_alt"):
        if contains:
            match |= Q(**{f"{column}__contains": contains})
        if prefix:
            match |= Q(**{f"{column}__startswith": prefix})
    return Customer.objects.filter(dealership=dealership).filter(match).distinct()


def _plain_vehicles(dealership, text: str):
    match = Q()
    for field in ("vin", "plate", "make", "model", "customer__name"):
        match |= Q(**{f"{field}__icontains": text})
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) >= 3 and is_phone_text(text):  # a text with a letter is no phone
        match |= Q(customer__phone__contains=digits)
    return Vehicle.objects.filter(dealership=dealership).filter(match).distinct()


@pytest.mark.parametrize("probe", [1_000, 3, 0])
def test_lists_find_what_a_plain_icontains_finds(random_rows, dealership, monkeypatch, probe):
    """Probe 1,000: every text of three characters or more is rare here (its ids); 3: some are common; 0: all are
    (row by row). Same ids in the same order as the plain filter, for customers (a reverse relation: the vehicles)
    and vehicles (a forward one: the owner)."""
    monkeypatch.setattr(text_search_module, "SEARCH_PROBE", probe)
    checked = 0
    for text in random_rows:
        expected = list(_plain_customers(dealership, text).values_list("pk", flat=True))
        found = list(selectors.customer_list(dealership_ids=[dealership.pk], search=text).values_list("pk", flat=True))
        assert found == expected, text
        expected = list(_plain_vehicles(dealership, text).values_list("pk", flat=True))
        found = list(selectors.vehicle_list(dealership_ids=[dealership.pk], search=text).values_list("pk", flat=True))
        assert found == expected, text
        checked += bool(expected)
    assert checked >= len(random_rows) // 2  # the texts do find rows: the comparison is not between two empty lists


def test_a_common_text_is_counted_only_up_to_the_cap(random_rows, dealership, monkeypatch):
    """The probe saw more matches than the cap: the page says "more than N" without a COUNT; a filter added after the
    search (an API's ?field=) voids that bound and the capped count is read."""
    monkeypatch.setattr(text_search_module, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(text_search_module, "SEARCH_PROBE", 3)
    qs = selectors.customer_list(dealership_ids=[dealership.pk], search="клиент")
    assert _plain_customers(dealership, "клиент").count() > 3
    paginator = CappedCountPaginator(qs.order_by("name", "id").defer("notes"), 2)
    with CaptureQueriesContext(connection) as captured:
        assert (paginator.count, paginator.count_is_exact) == (3, False)
    assert not captured.captured_queries
    narrowed = qs.filter(is_vip=True)
    paginator = CappedCountPaginator(narrowed, 2)
    with CaptureQueriesContext(connection) as captured:
        assert (paginator.count, paginator.count_is_exact) == (0, True)
    assert len(captured.captured_queries) == 1


def test_a_searched_list_counts_up_to_the_search_cap(random_rows, dealership, monkeypatch):
    monkeypatch.setattr(text_search_module, "SEARCH_COUNT_CAP", 2)
    monkeypatch.setattr("dms.core.pagination.SEARCH_COUNT_CAP", 2)
    texts = [t for t in random_rows if _plain_customers(dealership, t).count() > 2]
    assert texts
    for text in texts:
        paginator = CappedCountPaginator(selectors.customer_list(dealership_ids=[dealership.pk], search=text), 1)
        assert (paginator.count, paginator.count_is_exact, paginator.num_pages_label) == (2, False, "2+"), text
    unsearched = CappedCountPaginator(selectors.customer_list(dealership_ids=[dealership.pk]), 1)
    assert unsearched.count == Customer.objects.filter(dealership=dealership).count() > 2


def test_related_columns_are_tested_per_row_without_duplicates(dealership):
    """A customer with two matching cars is one row; the reverse relation is a scalar subquery, not a join."""
    owner = CustomerFactory(dealership=dealership, name="Двойнов")
    VehicleFactory(customer=owner, vin="XTA21099000000001")
    VehicleFactory(customer=owner, vin="XTA21099000000002")
    qs = text_search(Customer.objects.filter(dealership=dealership), "xta2109", "name", "vehicles__vin")
    assert list(qs) == [owner]
    row_by_row = text_search_module._row_match(Customer.objects.all(), "xta2109", ("name", "vehicles__vin"), ())
    sql = str(row_by_row.query)
    assert "JOIN" not in sql and list(row_by_row) == [owner]


def test_an_empty_or_blank_text_is_no_filter(dealership, customer):
    qs = Customer.objects.filter(dealership=dealership)
    for text in ["", "   ", None]:
        assert text_search(qs, text, "name") is qs


@pytest.mark.django_db
def test_a_list_that_cannot_hold_a_row_is_searched_to_nothing(dealership, customer, django_assert_num_queries):
    """No dealership in scope (``IN ()``): the probe asks PostgreSQL nothing and the search finds nothing — the fuzzer
    found a 500 when the probe compiled its SQL by hand (issue 19)."""
    empty = Customer.objects.filter(dealership_id__in=[])
    with django_assert_num_queries(0):
        searched = text_search(empty, "Клиент", "name", "vehicles__vin", extra=[Q(phone__contains="916")])
    assert list(searched) == [] and list(text_search(Customer.objects.none(), "abc", "name")) == []
    assert list(text_search(Customer.objects.filter(dealership=dealership), customer.name[:4], "name")) == [customer]
