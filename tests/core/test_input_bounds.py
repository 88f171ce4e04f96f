"""Issue 12 item 5: one test per root cause of the probe's 500s (each answered 500 before the fix).

The sweep over every operation and page is tests/hardening/test_unusual_input.py.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from claims import services as claims_services
from claims.models import Complaint, ComplaintNote, ComplaintStatus
from dms.core import roles
from dms.core.inputs import EARLIEST_DATE, LATEST_DATE, parse_date_param, parse_id
from dms.core.models import Customer, Vehicle
from dms.core.parsers import MAX_JSON_DEPTH, json_depth_exceeds

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "\u00b2"
LONG_DIGITS = "9" * 5000


@pytest.fixture
def admin(make_user):
    return make_user(roles.ADMINISTRATOR)


# ---------------------------------------------------------------------------------------------------------------
# (a) ids: one parser, ASCII digits only, bounded
# ---------------------------------------------------------------------------------------------------------------


def test_parse_id_accepts_only_ascii_digits_within_bigint():
    assert parse_id("42") == 42 and parse_id(42) == 42 and parse_id(str(2**63 - 1)) == 2**63 - 1
    for bad in (SUPERSCRIPT_TWO, "\u0664\u0662", LONG_DIGITS, str(2**63), "0", "-1", "1.5", " 1", "", None, True, 0):
        assert parse_id(bad) is None, bad


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, LONG_DIGITS, "\u0664\u0662", "-1"])
def test_malformed_dealership_parameter_is_400(api_as, admin, value):
    response = api_as(admin).get("/api/customers/", {"dealership": value})
    assert response.status_code == 400 and "dealership" in response.json()


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, LONG_DIGITS, str(10**30)])
def test_malformed_x_dealership_header_is_400_and_writes_nothing(api_as, admin, value):
    response = api_as(admin).post(
        "/api/customers/", {"name": "Иванов", "phone": "+79161234567"}, format="json", HTTP_X_DEALERSHIP=value
    )
    assert response.status_code == 400 and "dealership" in response.json()
    assert not Customer.objects.exists()


def test_path_id_in_non_ascii_digits_is_404(api_as, admin, customer):
    arabic = "".join(chr(0x0660 + int(d)) for d in str(customer.pk))  # the same number in Arabic-Indic digits
    assert api_as(admin).get(f"/api/customers/{customer.pk}/").status_code == 200
    assert api_as(admin).get(f"/api/customers/{arabic}/").status_code == 404
    assert api_as(admin).get(f"/api/customers/{SUPERSCRIPT_TWO}/").status_code == 404
    assert api_as(admin).get(f"/api/customers/{LONG_DIGITS}/").status_code == 404


def test_page_parameters_with_non_ascii_digits_are_ignored(client, admin):
    client.force_login(admin)
    assert client.get(reverse("service:appointment_calendar"), {"advisor": SUPERSCRIPT_TWO}).status_code == 200
    assert client.get(reverse("claims:complaint_list"), {"assignee": LONG_DIGITS}).status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# (e) NUL in a query parameter
# ---------------------------------------------------------------------------------------------------------------


def test_nul_in_a_search_is_400_for_the_api_and_pages(api_as, admin, client):
    response = api_as(admin).get("/api/customers/", {"search": "a\x00b"})
    assert response.status_code == 400 and response.json()["detail"]
    client.force_login(admin)
    assert client.get(reverse("core:customer_list"), {"q": "a\x00b"}).status_code == 400
    assert client.get(reverse("claims:complaint_list"), {"status": "\x00"}).status_code == 400


# ---------------------------------------------------------------------------------------------------------------
# (b) dates: a sane range for every date and date-time
# ---------------------------------------------------------------------------------------------------------------


def test_parse_date_param_is_bounded():
    assert parse_date_param("2030-01-02") == datetime.date(2030, 1, 2)
    for bad in ("0001-01-01", "9999-12-31", "10000-01-01", "2030-1-2", "²030-01-02", "", None):
        assert parse_date_param(bad) is None
    assert parse_date_param(EARLIEST_DATE.isoformat()) == EARLIEST_DATE
    assert parse_date_param(LATEST_DATE.isoformat()) == LATEST_DATE


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_date_filter_at_the_end_of_the_calendar_is_400(api_as, admin, value):
    response = api_as(admin).get("/api/orders/", {"date_to": value})
    assert response.status_code == 400


def test_date_filters_of_pages_at_the_end_of_the_calendar_do_not_fail(client, admin):
    client.force_login(admin)
    for url, params in [
        (reverse("orders:dashboard"), {"date_to": "9999-12-31"}),
        (reverse("service:appointment_calendar"), {"date": "9999-12-31"}),
        (reverse("service:appointment_calendar"), {"date": "0001-01-01"}),
        (reverse("claims:kpi"), {"end": "0001-01-01"}),
        (reverse("notifications:call_compliance"), {"from": "9999-12-31"}),
    ]:
        assert client.get(url, params).status_code < 500, (url, params)


def test_vehicle_warranty_in_year_9999_is_400_and_not_stored(api_as, admin, customer):
    response = api_as(admin).post(
        "/api/vehicles/",
        {
            "customer": customer.pk,
            "vin": "XTA21099012345678",
            "make": "Lada",
            "model": "2109",
            "warranty_start": "2020-01-01",
            "warranty_end": "9999-12-31",
        },
        format="json",
    )
    assert response.status_code == 400 and "warranty_end" in response.json()
    assert not Vehicle.objects.exists()


def test_complaint_received_in_year_86_is_400_and_not_stored(api_as, admin, vehicle):
    body = {
        "channel": "email",
        "customer": vehicle.customer.pk,
        "vehicle": vehicle.pk,
        "description": "Долгая выдача",
        "received_at": "0086-05-01T10:00:00+03:00",
    }
    response = api_as(admin).post("/api/complaints/", body, format="json")
    assert response.status_code == 400 and "received_at" in response.json()
    assert not Complaint.objects.exists()


def test_date_time_whose_offset_overflows_is_400(api_as, admin, vehicle):
    body = {
        "channel": "email",
        "customer": vehicle.customer.pk,
        "vehicle": vehicle.pk,
        "description": "x",
        "received_at": "9999-12-31T23:59:59-12:00",
    }
    assert api_as(admin).post("/api/complaints/", body, format="json").status_code == 400
    assert not Complaint.objects.exists()


def test_model_form_refuses_a_date_out_of_range(client, admin, customer):
    client.force_login(admin)
    response = client.post(
        reverse("core:vehicle_create"),
        {
            "customer": customer.pk,
            "vin": "XTA21099012345678",
            "make": "Lada",
            "model": "2109",
            "warranty_start": "0001-01-01",
        },
    )
    assert response.status_code == 200 and "warranty_start" in response.context["form"].errors
    assert not Vehicle.objects.exists()


# ---------------------------------------------------------------------------------------------------------------
# (c) JSON depth
# ---------------------------------------------------------------------------------------------------------------


def test_deeply_nested_json_is_400(api_as, admin):
    nested = "[" * 5000 + "]" * 5000
    response = api_as(admin).post("/api/customers/", nested, content_type="application/json")
    assert response.status_code == 400 and str(MAX_JSON_DEPTH) in response.json()["detail"]
    body = json.dumps({"name": "NESTED"}).replace('"NESTED"', nested)
    assert api_as(admin).post("/api/customers/", body, content_type="application/json").status_code == 400


def test_json_depth_scan_skips_strings():
    assert not json_depth_exceeds(json.dumps({"a": "[" * 1000}).encode())
    assert json_depth_exceeds(("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode())
    assert not json_depth_exceeds(("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode())


# ---------------------------------------------------------------------------------------------------------------
# (d) numbers bounded at the boundary
# ---------------------------------------------------------------------------------------------------------------


def test_order_quantity_beyond_its_column_is_400_and_stores_nothing(api_as, admin, vehicle, dealership):
    from orders.models import CustomerOrder
    from tests.orders.factories import PartFactory

    part = PartFactory(dealership=dealership)
    body = {
        "customer": vehicle.customer_id,
        "vehicle": vehicle.pk,
        "kind": "warranty",
        # Twelve digits: more than the numeric(10, 2) column holds; refused by the field built from that column.
        "lines": [{"part": part.pk, "quantity": "9999999999.99"}],
    }
    response = api_as(admin).post("/api/orders/", body, format="json")
    assert response.status_code == 400 and "lines" in response.json()
    assert not CustomerOrder.objects.exists()


def test_a_receipt_taking_the_balance_beyond_its_column_is_400_and_writes_nothing(api_as, admin, dealership):
    from parts.models import StockBalance, StockMovement
    from tests.parts.factories import PartFactory

    part = PartFactory(dealership=dealership)
    api = api_as(admin)
    most = {"part": part.pk, "quantity": "999999999.999", "unit_cost": "1"}  # the largest numeric(12, 3) value
    assert api.post("/api/stock/receive/", most, format="json").status_code == 201
    response = api.post("/api/stock/receive/", most, format="json")  # the balance would overflow its column
    assert response.status_code == 400 and response.json()["detail"]
    assert StockMovement.objects.filter(part=part).count() == 1
    assert StockBalance.objects.get(part=part).on_hand == Decimal("999999999.999")


def test_a_page_receipt_taking_the_balance_beyond_its_column_is_400_and_writes_nothing(client, admin, dealership):
    from parts.models import StockMovement
    from tests.parts.factories import PartFactory

    part = PartFactory(dealership=dealership)
    client.force_login(admin)
    most = {"part": part.number, "quantity": "999999999.999", "unit_cost": "1"}
    assert client.post(reverse("parts:receive"), most).status_code == 302
    response = client.post(reverse("parts:receive"), most)
    assert response.status_code == 400
    assert StockMovement.objects.filter(part=part).count() == 1


@pytest.mark.parametrize("mileage", [10**30, 2**31, -1])
def test_mileage_beyond_its_column_is_400(api_as, admin, customer, mileage):
    response = api_as(admin).post(
        "/api/vehicles/",
        {"customer": customer.pk, "vin": "XTA21099012345678", "make": "Lada", "model": "2109", "mileage": mileage},
        format="json",
    )
    assert response.status_code == 400 and "mileage" in response.json()
    assert not Vehicle.objects.exists()


# ---------------------------------------------------------------------------------------------------------------
# (f) a serializer field the service requires
# ---------------------------------------------------------------------------------------------------------------


def test_closing_a_complaint_without_a_satisfaction_score_is_400(api_as, admin, vehicle, dealership):
    complaint = claims_services.complaint_register(
        actor=admin, dealership=dealership, channel="email", customer=vehicle.customer, vehicle=vehicle, description="x"
    )
    Complaint.objects.filter(pk=complaint.pk).update(
        status=ComplaintStatus.SOLUTION_AGREED, cause="Очередь", solution="Скидка"
    )
    ComplaintNote.objects.create(complaint=complaint, kind=ComplaintNote.Kind.FOLLOW_UP, text="Ок", author=admin)
    response = api_as(admin).post(f"/api/complaints/{complaint.pk}/close/", {"closing_report": "Итог"}, format="json")
    assert response.status_code == 400 and "satisfaction" in response.json()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.SOLUTION_AGREED
