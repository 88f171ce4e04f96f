"""Issue 14 item 2.

R15: a vehicle paired with a customer must be that customer's — one shared check
(``dms.core.validators.ensure_vehicle_of_customer``) in every service that takes both. The SWEEPS: every API write
of the OpenAPI schema whose body takes both a customer and a vehicle, and every form of the apps with both, is
tried with another customer's vehicle (400 / a form error naming the vehicle, nothing written); a new pairing
without a row here fails.

R18: a loaner reservation covers the appointment's arrival date; one appointment has at most one active loaner
reservation (service message first, a partial unique index as the final word).
"""

import datetime
import importlib
import inspect

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from claims.models import Complaint, GoodwillClaim
from dms.core import roles
from dms.core.models import Vehicle
from dms.core.validators import ensure_vehicle_of_customer
from orders.models import CustomerOrder
from service import services
from service.models import Appointment, LoanerReservation, WorkOrder
from tests.factories import CustomerFactory, VehicleFactory
from tests.parts.factories import PartFactory

from .conftest import MONDAY, NOW, at
from .factories import LoanerFactory

pytestmark = pytest.mark.django_db


def _is_owner_error(text: str) -> bool:
    # The pages and the API answer in the user's language (Russian by default).
    return "another customer" in text or "другому клиенту" in text


# ------------------------------------------------------------------------------------------------------------------
# R15: the shared check and the booking that used to pass
# ------------------------------------------------------------------------------------------------------------------


def test_the_shared_check(dealership):
    mine, other = CustomerFactory(dealership=dealership), CustomerFactory(dealership=dealership)
    car = VehicleFactory(customer=mine)
    ensure_vehicle_of_customer(customer=mine, vehicle=car)
    ensure_vehicle_of_customer(customer=None, vehicle=car)
    with pytest.raises(ValidationError) as error:
        ensure_vehicle_of_customer(customer=other, vehicle=car)
    assert error.value.message_dict == {"vehicle": ["The vehicle belongs to another customer."]}


def test_booking_another_customers_vehicle_is_refused_by_the_service(booking_advisor, dealership):
    car = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    stranger = CustomerFactory(dealership=dealership)
    with pytest.raises(ValidationError) as error:
        services.appointment_book(
            actor=booking_advisor, dealership=dealership, advisor=booking_advisor, customer=stranger, vehicle=car,
            reason="ТО", area="express", starts_at=at(10), handover_at=at(16), now=NOW,
        )  # fmt: skip
    assert "another customer" in error.value.message_dict["vehicle"][0]
    assert Appointment.objects.count() == 0


def test_booking_page_with_the_customer_of_a_card_refuses_another_customers_vin(client, booking_advisor, dealership):
    car = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    stranger = CustomerFactory(dealership=dealership)
    client.force_login(booking_advisor)
    day = datetime.date.today() + datetime.timedelta(days=(7 - datetime.date.today().weekday()) + 364)
    data = {
        "advisor": booking_advisor.pk, "customer": stranger.pk, "vin": car.vin, "reason": "ТО", "area": "express",
        "date": day.isoformat(), "time": "10:00", "duration_minutes": 15, "handover_date": day.isoformat(),
        "handover_time": "16:00",
    }  # fmt: skip
    prefilled = client.get(reverse("service:appointment_create") + f"?customer={stranger.pk}")
    assert prefilled.context["form"].initial["customer"] == stranger.pk
    refused = client.post(reverse("service:appointment_create"), data)
    assert refused.status_code == 200 and _is_owner_error(refused.context["form"].errors["vin"][0])
    assert Appointment.objects.count() == 0
    booked = client.post(reverse("service:appointment_create"), {**data, "customer": ""})
    assert booked.status_code == 302
    assert Appointment.objects.get().customer_id == car.customer_id  # empty: the vehicle's owner


# ------------------------------------------------------------------------------------------------------------------
# R15 sweep: every API write and every form pairing a customer with a vehicle
# ------------------------------------------------------------------------------------------------------------------


def _pairing_operations() -> set[tuple[str, str]]:
    """(path, method) of every API write whose request body takes a customer and a vehicle."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = set()
    for path, regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        view.schema.get_operation(path, regex, "^/api", method, generator.registry)
        body = view.schema.get_request_serializer()
        if isinstance(body, dict):
            body = next(iter(body.values()))
        if isinstance(body, type):
            body = body()
        if not isinstance(body, serializers.BaseSerializer):
            continue
        writable = {name for name, field in body.fields.items() if not field.read_only}
        if {"customer", "vehicle"} <= writable:
            found.add((path, method.lower()))
    return found


@pytest.fixture
def world(dealership, make_user, working_week):
    admin = working_week(make_user(roles.ADMINISTRATOR))
    owner, stranger = CustomerFactory(dealership=dealership), CustomerFactory(dealership=dealership)
    car = VehicleFactory(customer=owner)
    complaint = Complaint.objects.create(
        dealership=dealership, number="Ж-1", channel="phone", received_at=NOW, customer=owner, vehicle=car,
        description="Шум",
    )  # fmt: skip
    goodwill = GoodwillClaim.objects.create(
        dealership=dealership, number="G-1", customer=owner, vehicle=car, description="Клиент просит", author=admin
    )
    return {"admin": admin, "owner": owner, "stranger": stranger, "car": car, "complaint": complaint,
            "goodwill": goodwill, "part": PartFactory(dealership=dealership)}  # fmt: skip


def _future_monday() -> datetime.date:
    today = datetime.date.today()
    return today + datetime.timedelta(days=(7 - today.weekday()) + 364)


# (path, method) → (payload with another customer's vehicle, model whose rows must not change)
API_PAIRINGS = {
    ("/api/appointments/", "post"): (
        lambda w: {
            "advisor": w["admin"].pk,
            "customer": w["stranger"].pk,
            "vehicle": w["car"].pk,
            "reason": "ТО",
            "area": "express",
            "starts_at": at(10, 0, _future_monday()).isoformat(),
            "handover_at": at(16, 0, _future_monday()).isoformat(),
        },  # fmt: skip
        Appointment,
    ),
    ("/api/work-orders/", "post"): (
        lambda w: {"customer": w["stranger"].pk, "vehicle": w["car"].pk, "complaint": "Стук"},
        WorkOrder,
    ),
    ("/api/orders/", "post"): (
        lambda w: {
            "customer": w["stranger"].pk,
            "vehicle": w["car"].pk,
            "kind": "commercial",
            "lines": [{"part": w["part"].pk, "quantity": "1"}],
        },  # fmt: skip
        CustomerOrder,
    ),
    ("/api/complaints/", "post"): (
        lambda w: {"customer": w["stranger"].pk, "vehicle": w["car"].pk, "channel": "phone", "description": "Шум"},
        Complaint,
    ),
    ("/api/complaints/{id}/", "patch"): (lambda w: {"customer": w["stranger"].pk}, Complaint),
    ("/api/goodwill-claims/", "post"): (
        lambda w: {"customer": w["stranger"].pk, "vehicle": w["car"].pk, "description": "Просит"},
        GoodwillClaim,
    ),
    ("/api/goodwill-claims/{id}/", "patch"): (lambda w: {"customer": w["stranger"].pk}, GoodwillClaim),
}
RECORD_OF = {"/api/complaints/{id}/": "complaint", "/api/goodwill-claims/{id}/": "goodwill"}


def test_every_api_pairing_of_customer_and_vehicle_has_a_row():
    missing = _pairing_operations() - set(API_PAIRINGS)
    assert not missing, f"API writes pairing a customer with a vehicle without a row in API_PAIRINGS: {missing}"


@pytest.mark.parametrize(("path", "method"), sorted(API_PAIRINGS))
def test_api_refuses_another_customers_vehicle(api_as, world, path, method):
    payload, model = API_PAIRINGS[(path, method)]
    rows = list(model.objects.order_by("pk").values())
    url = path.replace("{id}", str(world[RECORD_OF[path]].pk)) if "{id}" in path else path
    response = getattr(api_as(world["admin"]), method)(url, payload(world), format="json")
    assert response.status_code == 400, response.content
    assert _is_owner_error(str(response.json()["vehicle"]))
    assert list(model.objects.order_by("pk").values()) == rows


def _pairing_forms() -> set[str]:
    found = set()
    for app in ("core", "orders", "parts", "service", "claims", "notifications"):
        try:
            module = importlib.import_module("dms.core.forms" if app == "core" else f"{app}.forms")
        except ImportError:
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, django_forms.BaseForm) and cls.__module__ == module.__name__:
                fields = set(cls.base_fields)
                if getattr(getattr(cls, "_meta", None), "model", None) is Vehicle:
                    continue  # the vehicle's own form: "customer" is its owner, not a pairing
                if "customer" in fields and fields & {"vehicle", "vin"}:
                    found.add(f"{cls.__module__}.{name}")
    return found


# form → (page, POST data with another customer's vehicle, the field the error is on, model that must not change)
FORM_PAIRINGS = {
    "service.forms.AppointmentForm": (
        lambda w: reverse("service:appointment_create"),
        lambda w: {
            "advisor": w["admin"].pk,
            "customer": w["stranger"].pk,
            "vin": w["car"].vin,
            "reason": "ТО",
            "area": "express",
            "date": _future_monday().isoformat(),
            "time": "10:00",
            "duration_minutes": 15,
            "handover_date": _future_monday().isoformat(),
            "handover_time": "16:00",
        },  # fmt: skip
        "vin",
        Appointment,
    ),
    "service.forms.WalkInWorkOrderForm": (
        lambda w: reverse("service:workorder_create"),
        lambda w: {"customer": w["stranger"].pk, "vehicle": w["car"].pk, "complaint": "Стук"},
        "vehicle",
        WorkOrder,
    ),
    "orders.forms.CustomerOrderForm": (
        lambda w: reverse("orders:create"),
        lambda w: {
            "customer": w["stranger"].pk,
            "vehicle": w["car"].pk,
            "kind": "commercial",
            "purpose": "repair",
            "lines-TOTAL_FORMS": 1,
            "lines-INITIAL_FORMS": 0,
            "lines-0-part": w["part"].pk,
            "lines-0-quantity": 1,
        },  # fmt: skip
        "vehicle",
        CustomerOrder,
    ),
    "claims.forms.ComplaintForm": (
        lambda w: reverse("claims:complaint_create"),
        lambda w: {
            "customer": w["stranger"].pk,
            "vehicle": w["car"].pk,
            "channel": "phone",
            "description": "Шум",
            "severity": "normal",
        },  # fmt: skip
        "vehicle",
        Complaint,
    ),
    "claims.forms.GoodwillClaimForm": (
        lambda w: reverse("claims:goodwill_create"),
        lambda w: {"customer": w["stranger"].pk, "vehicle": w["car"].pk, "description": "Просит"},
        "vehicle",
        GoodwillClaim,
    ),
}


def test_every_form_pairing_customer_and_vehicle_has_a_row():
    missing = _pairing_forms() - set(FORM_PAIRINGS)
    assert not missing, f"forms pairing a customer with a vehicle without a row in FORM_PAIRINGS: {missing}"


@pytest.mark.parametrize("form", sorted(FORM_PAIRINGS))
def test_page_refuses_another_customers_vehicle(client, world, form):
    url, data, field, model = FORM_PAIRINGS[form]
    client.force_login(world["admin"])
    count = model.objects.count()
    response = client.post(url(world), data(world))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    if form != "orders.forms.CustomerOrderForm":  # there the choice itself is narrowed to the customer's vehicles
        assert _is_owner_error(errors[field][0]), errors
    assert model.objects.count() == count


# ------------------------------------------------------------------------------------------------------------------
# R18
# ------------------------------------------------------------------------------------------------------------------


def test_a_loan_must_cover_the_arrival_date(book, booking_advisor, dealership, api_as):
    appointment = book(10, 0)  # Monday
    loaner = LoanerFactory(dealership=dealership)
    client = api_as(booking_advisor)
    late = client.post(
        "/api/loaner-reservations/",
        {"loaner": loaner.pk, "appointment": appointment.pk, "starts_on": "2030-03-05", "ends_on": "2030-03-06"},
    )
    assert late.status_code == 400 and "04.03.2030" in late.json()["starts_on"][0]
    # issue 14 item 8: the date in the reader's format, not a fixed Russian one
    english = client.post(
        "/api/loaner-reservations/",
        {"loaner": loaner.pk, "appointment": appointment.pk, "starts_on": "2030-03-05", "ends_on": "2030-03-06"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    with translation.override("en"):
        arrival_in_english = date_format(datetime.date(2030, 3, 4), "SHORT_DATE_FORMAT")
    assert arrival_in_english != "04.03.2030" and arrival_in_english in english.json()["starts_on"][0]
    early = client.post(
        "/api/loaner-reservations/",
        {"loaner": loaner.pk, "appointment": appointment.pk, "starts_on": "2030-03-01", "ends_on": "2030-03-03"},
    )
    assert early.status_code == 400 and "ends_on" in early.json()
    assert LoanerReservation.objects.count() == 0
    covering = client.post(
        "/api/loaner-reservations/",
        {"loaner": loaner.pk, "appointment": appointment.pk, "starts_on": "2030-03-03", "ends_on": "2030-03-04"},
    )
    assert covering.status_code == 201, covering.json()


def test_one_active_loaner_per_appointment(book, booking_advisor, dealership, api_as):
    appointment = book(10, 0)
    first_car, second_car = LoanerFactory(dealership=dealership), LoanerFactory(dealership=dealership)
    client = api_as(booking_advisor)
    first = client.post("/api/loaner-reservations/", {"loaner": first_car.pk, "appointment": appointment.pk})
    assert first.status_code == 201
    second = client.post("/api/loaner-reservations/", {"loaner": second_car.pk, "appointment": appointment.pk})
    assert second.status_code == 400, second.json()
    assert first_car.plate in second.json().get("appointment", [""])[0], second.json()
    assert LoanerReservation.objects.filter(status="reserved").count() == 1
    # Once the first is cancelled, another may be reserved.
    client.post(f"/api/loaner-reservations/{first.json()['id']}/cancel/")
    assert (
        client.post("/api/loaner-reservations/", {"loaner": second_car.pk, "appointment": appointment.pk}).status_code
        == 201
    )


def test_the_database_holds_one_active_loaner_per_appointment(book, booking_advisor, dealership):
    appointment = book(10, 0)
    reservation = services.loaner_reserve(
        actor=booking_advisor, appointment=appointment, loaner=LoanerFactory(dealership=dealership)
    )
    twin = {
        "dealership_id": dealership.pk, "loaner": LoanerFactory(dealership=dealership), "appointment": appointment,
        "customer": appointment.customer, "starts_on": reservation.starts_on, "ends_on": reservation.ends_on,
    }  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanerReservation.objects.create(**twin)
    LoanerReservation.objects.create(**twin, status=LoanerReservation.Status.CANCELLED)  # cancelled ones may repeat
    assert LoanerReservation.objects.filter(appointment=appointment).count() == 2


def test_page_reservation_outside_the_arrival_date_is_refused(client, book, booking_advisor, dealership):
    appointment = book(10, 0, day=MONDAY)
    loaner = LoanerFactory(dealership=dealership)
    client.force_login(booking_advisor)
    r = client.post(
        reverse("service:appointment_action", args=[appointment.pk, "loaner"]),
        {"loaner": loaner.pk, "starts_on": "2030-03-05", "ends_on": "2030-03-06"},
    )
    assert r.status_code == 302
    assert any("04.03.2030" in str(m) for m in r.wsgi_request._messages)
    assert LoanerReservation.objects.count() == 0
