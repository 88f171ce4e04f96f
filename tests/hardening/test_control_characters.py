"""Issue 12 item 2: control characters in text input.

A unit separator (U+001F) in a vehicle's make turned the order dashboard and /api/orders/ into 500s, because the
page query joined columns with that character. Text input is now refused at the boundary of every text field by
one validator (dms/core/validators.py), and the page query reads arrays instead of separated texts.
"""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import reverse

from dms.core import roles
from dms.core.models import Vehicle
from dms.core.validators import (
    PROJECT_APP_LABELS,
    ControlCharacterValidator,
    find_control_character,
    validate_multi_line_text,
    validate_single_line_text,
)
from orders import services as order_services
from tests.orders.factories import PartFactory

pytestmark = pytest.mark.django_db

SEPARATOR = "\x1f"


# -- the validator ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [*range(0x00, 0x20), 0x7F])
def test_single_line_text_refuses_every_c0_control_and_del(code):
    assert find_control_character(f"Toyota{chr(code)}Camry", multiline=False) == chr(code)
    with pytest.raises(ValidationError) as error:
        validate_single_line_text(f"a{chr(code)}b")
    assert error.value.code == "control_character"
    assert f"U+{code:04X}" in " ".join(error.value.messages)


@pytest.mark.parametrize("code", [c for c in [*range(0x00, 0x20), 0x7F] if chr(c) not in "\n\r\t"])
def test_multi_line_text_refuses_controls_other_than_line_breaks_and_tabs(code):
    with pytest.raises(ValidationError):
        validate_multi_line_text(f"first\n{chr(code)}second")


def test_multi_line_text_keeps_lf_crlf_and_tab_but_not_a_bare_cr():
    validate_multi_line_text("line one\r\nline two\n\tindented")
    validate_single_line_text("Тойота «Камри» — 2.5 л, 日本")
    with pytest.raises(ValidationError):
        validate_multi_line_text("line one\rline two")


# -- model sweep: every text field of the project's models carries the validator --------------------------------------
def _project_text_fields():
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APP_LABELS:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField) and not field.primary_key:
                yield model, field


def test_every_text_field_of_the_project_models_carries_the_validator():
    fields = list(_project_text_fields())
    assert len(fields) > 150  # the sweep really walks the project's models
    missing = []
    for model, field in fields:
        expected = ControlCharacterValidator(multiline=isinstance(field, models.TextField))
        if expected not in field.validators:
            missing.append(f"{model._meta.label}.{field.name}")
    assert not missing, f"text fields without the control-character validator: {missing}"
    # and model validation (model forms, the admin) refuses the value
    vehicle = Vehicle(make=f"Toyota{SEPARATOR}Land", model="Camry", vin="JTDBR32E720012345")
    with pytest.raises(ValidationError) as error:
        vehicle.clean_fields(exclude=["dealership", "customer"])
    assert "make" in error.value.message_dict


def test_every_form_and_serializer_char_field_carries_the_validator():
    from django import forms
    from rest_framework import serializers

    class PlainForm(forms.Form):
        search = forms.CharField()
        note = forms.CharField(widget=forms.Textarea)

    class PlainSerializer(serializers.Serializer):
        reason = serializers.CharField()
        notes = serializers.CharField(style={"base_template": "textarea.html"})

    form = PlainForm(data={"search": f"a{SEPARATOR}b", "note": "ok\r\nok\tok"})
    assert not form.is_valid() and list(form.errors) == ["search"]
    assert validate_single_line_text in form.fields["search"].validators
    assert validate_multi_line_text in form.fields["note"].validators
    serializer = PlainSerializer(data={"reason": "a\nb", "notes": f"x{SEPARATOR}y"})
    assert not serializer.is_valid() and set(serializer.errors) == {"reason", "notes"}
    assert PlainSerializer(data={"reason": "ok", "notes": "line\nline"}).is_valid()


def test_a_service_storing_raw_input_is_held_by_the_save_guard(vehicle):
    vehicle.make = f"Toyota{SEPARATOR}Land"
    with pytest.raises(ValidationError) as error:
        vehicle.save()
    assert "make" in error.value.message_dict
    vehicle.refresh_from_db()
    assert SEPARATOR not in vehicle.make


# -- the concrete exploit --------------------------------------------------------------------------------------------
def test_vehicle_make_with_a_unit_separator_is_refused_by_the_api(api_as, advisor, customer):
    client = api_as(advisor)
    response = client.post(
        "/api/vehicles/",
        {"customer": customer.pk, "vin": "JTDBR32E720012345", "make": f"Toyota{SEPARATOR}Land", "model": "Camry"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "make" in response.json()
    assert "U+001F" in " ".join(response.json()["make"])
    assert not Vehicle.objects.filter(vin="JTDBR32E720012345").exists()
    ok = client.post(
        "/api/vehicles/",
        {"customer": customer.pk, "vin": "JTDBR32E720012345", "make": "Toyota", "model": "Camry"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    patched = client.patch(f"/api/vehicles/{ok.json()['id']}/", {"model": "Camry\nHybrid"}, format="json")
    assert patched.status_code == 400 and "model" in patched.json()
    assert Vehicle.objects.get(pk=ok.json()["id"]).model == "Camry"


def test_vehicle_make_with_a_unit_separator_is_a_form_error_on_the_page(client, advisor, customer):
    client.force_login(advisor)
    response = client.post(
        reverse("core:vehicle_create"),
        {
            "customer": customer.pk,
            "vin": "JTDBR32E720012345",
            "make": f"Toyota{SEPARATOR}Land",
            "model": "Camry",
            "mileage": 1000,
        },
    )
    assert response.status_code == 200
    assert "make" in response.context["form"].errors
    assert "U+001F" in response.content.decode()
    assert not Vehicle.objects.filter(vin="JTDBR32E720012345").exists()


@pytest.mark.parametrize("value", [f"Toyota{SEPARATOR}Land{SEPARATOR}Cruiser", "\x00", SEPARATOR * 3])
def test_a_stored_separator_breaks_neither_the_dashboard_nor_the_api(client, api_as, make_user, value):
    """Rows written before the validator (or by hand) still render, with every column in its place."""
    author = make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="Смирнова")
    manager = make_user(roles.PARTS_MANAGER, first_name="Павел", last_name="Кузнецов")
    dealership = author.staff_profile.default_dealership
    from tests.factories import CustomerFactory, VehicleFactory

    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership), vin="JTDBR32E720099999")
    part = PartFactory(dealership=dealership)
    order = order_services.customer_order_create(
        actor=author,
        dealership=dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        kind="warranty",
        lines=[{"part": part, "quantity": 1}],
    )
    order.parts_manager = manager
    order.save(update_fields=["parts_manager"])
    stored = value.replace("\x00", "")  # PostgreSQL text cannot hold NUL at all; the make then holds nothing odd
    with connection.cursor() as cursor:  # as if written before the validator existed
        cursor.execute(f'UPDATE "{Vehicle._meta.db_table}" SET make = %s WHERE id = %s', [stored, vehicle.pk])
        cursor.execute("UPDATE auth_user SET first_name = %s WHERE id = %s", [f"Анна{SEPARATOR}", author.pk])
        cursor.execute("UPDATE auth_user SET last_name = %s WHERE id = %s", [f"{SEPARATOR}Кузнецов", manager.pk])
    page = client
    page.force_login(author)
    response = page.get(reverse("orders:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html and "JTDBR32E720099999" in html
    api = api_as(author).get("/api/orders/")
    assert api.status_code == 200, api.content
    (item,) = [i for i in api.json()["results"] if i["id"] == order.pk]
    assert item["vehicle"] == vehicle.pk and item["vehicle_vin"] == "JTDBR32E720099999"
    assert item["author"] == author.pk and item["parts_manager"] == manager.pk
    assert item["author_name"] == f"Анна{SEPARATOR} Смирнова"
    assert item["number"] == order.number and item["customer"] == vehicle.customer_id


def test_page_rows_keep_null_columns_in_place(make_user, vehicle, part=None):
    """concat_ws skipped NULLs and so shifted the columns after them; the array keeps every position."""
    from orders.models import CustomerOrder
    from orders.selectors import order_rows

    author = make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="Смирнова")
    part = PartFactory(dealership=vehicle.dealership)
    order = order_services.customer_order_create(
        actor=author,
        dealership=vehicle.dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        kind="warranty",
        lines=[{"part": part, "quantity": 1}],
    )
    (row,) = order_rows(CustomerOrder.objects.filter(pk=order.pk)[:1])
    assert (row.vehicle_vin, row.vehicle_make, row.vehicle_model) == (vehicle.vin, vehicle.make, vehicle.model)
    assert (row.author_username, row.author_first_name, row.author_last_name) == (author.username, "Анна", "Смирнова")
    assert row.parts_manager_username is None


# -- query strings --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["\x00", SEPARATOR, "a\nb", "\x7f"])
def test_a_control_character_in_a_query_string_is_a_400_never_a_500(client, api_as, advisor, bad):
    api = api_as(advisor)
    for path in ("/api/orders/", "/api/customers/", "/api/vehicles/"):
        response = api.get(path, {"search": bad})
        assert response.status_code == 400, (path, response.status_code)
        assert response.json()["detail"]
    client.force_login(advisor)
    for name in ("orders:dashboard", "core:customer_list", "core:vehicle_list"):
        response = client.get(reverse(name), {"q": bad, "search": bad})
        assert response.status_code == 400, (name, response.status_code)
        assert "U+00" in response.content.decode()
    assert client.get(reverse("orders:dashboard"), {"search": "Тойота"}).status_code == 200
