"""Issue 14 item 4: the pickers' search endpoints for customers, vehicles and employees, and the SearchSelect widget.

Each endpoint answers the active dealership's rows only, refuses a role without the permission (403) and bad
parameters (400), finds a phone typed in the Russian national form and reads with a constant, small number of
queries however many rows match.
"""

import pytest
from django.urls import reverse

from dms.core import roles
from dms.core.forms import VehicleForm
from dms.core.inputs import phone_search_forms
from dms.core.selectors import PICKER_LIMIT
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["results"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("8 916 123-45-02", ("", "+79161234502")),
        ("89161234502", ("", "+79161234502")),
        ("8 (916) 12", ("891612", "+791612")),
        ("+7 916 123-45-02", ("79161234502", "")),
        ("916 123", ("916123", "")),
        ("Иванов", ("", "")),
        ("12", ("", "")),
        ("٣٤٥٦٧", ("", "")),  # Arabic-Indic digits are not a phone
        ("JTD00000000000A", ("", "")),  # a VIN's digits are not a phone
        ("04465-0E010", ("", "")),  # nor a part number's
        ("тел. 8 916 123", ("", "")),  # a word makes it a text, not a number
        ("(916) 123.45/02", ("9161234502", "")),  # separators people type
    ],
)
def test_phone_search_forms(typed, expected):
    assert phone_search_forms(typed) == expected


@pytest.fixture
def people(dealership, other_dealership):
    ivanov = CustomerFactory(dealership=dealership, name="Иванов Пётр", phone="+79161234502", email="petr@mail.ru")
    second = CustomerFactory(
        dealership=dealership, name="Сидорова Анна", phone="+79035550000", phone_alt="+79161239999"
    )
    foreign = CustomerFactory(dealership=other_dealership, name="Иванов Чужой", phone="+79161234502")
    return ivanov, second, foreign


@pytest.mark.parametrize("typed", ["8 916 123-45-02", "89161234502", "+7 916 123-45-02", "916 123-45-02", "8916123450"])
def test_customer_picker_finds_a_phone_in_any_form_and_only_in_the_dealership(client, advisor, people, typed):
    ivanov, _second, foreign = people
    client.force_login(advisor)
    found = results(client.get(reverse("core:pick_customers"), {"q": typed}))
    assert [row["id"] for row in found] == [ivanov.pk]
    assert found[0]["text"] == "Иванов Пётр" and found[0]["detail"] == "+7 916 123-45-02 · petr@mail.ru"


def test_customer_picker_searches_name_email_and_second_phone(client, advisor, people):
    ivanov, second, _foreign = people
    client.force_login(advisor)
    url = reverse("core:pick_customers")
    assert [r["id"] for r in results(client.get(url, {"q": "иванов"}))] == [ivanov.pk]  # the foreign Иванов is not
    assert [r["id"] for r in results(client.get(url, {"q": "PETR@MAIL"}))] == [ivanov.pk]
    assert [r["id"] for r in results(client.get(url, {"q": "8 916 123"}))] == [ivanov.pk, second.pk]  # second phone
    assert [r["id"] for r in results(client.get(url, {"q": ""}))] == [ivanov.pk, second.pk]  # by name
    assert results(client.get(url, {"q": "nobody"})) == []


def test_customer_picker_is_bounded_and_reads_with_a_constant_number_of_queries(
    client, advisor, dealership, django_assert_max_num_queries
):
    CustomerFactory.create_batch(PICKER_LIMIT + 5, dealership=dealership)
    client.force_login(advisor)
    client.get(reverse("core:pick_customers"))  # the session and the user's dealerships are warm after this
    with django_assert_max_num_queries(4):
        found = results(client.get(reverse("core:pick_customers"), {"q": "Клиент"}))
    assert len(found) == PICKER_LIMIT


def test_vehicle_picker_narrows_to_the_customer(client, advisor, dealership, other_dealership, people):
    ivanov, second, _foreign = people
    mine = VehicleFactory(customer=ivanov, model="Camry", plate="А123ВС77")
    theirs = VehicleFactory(customer=second, model="Camry")
    VehicleFactory(customer=CustomerFactory(dealership=other_dealership), model="Camry")
    client.force_login(advisor)
    url = reverse("core:pick_vehicles")
    assert {r["id"] for r in results(client.get(url, {"q": "camry"}))} == {mine.pk, theirs.pk}
    narrowed = results(client.get(url, {"q": "", "customer": ivanov.pk}))
    assert narrowed == [
        {
            "id": mine.pk,
            "vin": mine.vin,
            "text": f"Toyota Camry {mine.vin} (А123ВС77)",
            "detail": "Иванов Пётр",
            "customer": ivanov.pk,
        }
    ]
    assert [r["id"] for r in results(client.get(url, {"q": "а123"}))] == [mine.pk]
    assert [r["id"] for r in results(client.get(url, {"q": mine.vin.lower()}))] == [mine.pk]


@pytest.mark.parametrize("bad", [{"customer": "x"}, {"customer": "²"}, {"customer": "1.5"}, {"q": "x" * 101}])
def test_vehicle_picker_refuses_bad_parameters(client, advisor, bad):
    client.force_login(advisor)
    response = client.get(reverse("core:pick_vehicles"), bad)
    assert response.status_code == 400 and response.json()["detail"]


def test_pickers_need_the_permission_and_a_sign_in(client, make_user, dealership):
    client.force_login(make_user(None))  # staff of the dealership without a role
    assert client.get(reverse("core:pick_customers"), {"q": "a"}).status_code == 403
    assert client.get(reverse("core:pick_vehicles"), {"q": "a"}).status_code == 403
    assert client.get(reverse("core:pick_employees")).status_code == 200  # any staff member names colleagues
    client.logout()
    assert client.get(reverse("core:pick_customers")).status_code == 302


def test_employee_picker_lists_active_staff_of_the_dealership_by_role(client, make_user, other_dealership):
    advisor = make_user(roles.SERVICE_ADVISOR, first_name="Ольга", last_name="Смирнова")
    manager = make_user(roles.PARTS_MANAGER, first_name="Павел", last_name="Орлов")
    make_user(roles.PARTS_MANAGER, first_name="Павел", last_name="Уволенный", is_active=False)
    make_user(roles.PARTS_MANAGER, dealerships=[other_dealership], first_name="Павел", last_name="Чужой")
    client.force_login(advisor)
    url = reverse("core:pick_employees")
    assert [r["id"] for r in results(client.get(url, {"q": "павел"}))] == [manager.pk]
    by_role = results(client.get(url, {"role": roles.PARTS_MANAGER}))
    assert by_role == [{"id": manager.pk, "text": "Павел Орлов", "detail": manager.username}]
    assert client.get(url, {"role": "nobody"}).status_code == 400


def test_widget_renders_the_current_choice_only_and_the_form_refuses_a_forged_id(dealership, other_dealership, people):
    ivanov, second, foreign = people
    form = VehicleForm(initial={"customer": ivanov.pk}, dealership=dealership)
    html = str(form["customer"])
    assert 'data-picker="search"' in html and 'data-url="/pick/customers/"' in html
    assert "Иванов Пётр" in html and "Сидорова" not in html  # never the whole table
    assert html.count("<option") == 2  # the empty choice and the current one
    data = {"customer": foreign.pk, "vin": "JTDBR32E700000009", "make": "Lada", "model": "Vesta", "mileage": 0}
    forged = VehicleForm(data=data, dealership=dealership)
    assert not forged.is_valid() and "customer" in forged.errors
    assert 'value=""' in str(forged["customer"])  # the foreign name is not shown back either
    assert "Иванов Чужой" not in str(forged["customer"])


def test_vehicle_picker_depends_on_the_customer_field_in_the_walk_in_form(client, advisor):
    client.force_login(advisor)
    html = client.get(reverse("service:workorder_create")).content.decode()
    assert 'data-url="/pick/vehicles/"' in html and 'data-depends-on="customer:customer"' in html
    assert "tom-select.complete.min.js" in html and "js/pickers.js" in html
