"""Issue 19: the list APIs build their items from ``.values()`` rows (``dms.core.lean_items``), no model instance per
row — and every item stays exactly what the serializer gives for the fully loaded row (the JSON, byte for byte)."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from dms.core import roles
from dms.core.apis import CustomerSerializer, VehicleSerializer
from dms.core.models import Customer, Vehicle
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def _as_json(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def rows(dealership, make_user):
    manager = make_user(roles.SERVICE_ADVISOR)
    for n in range(4):
        customer = CustomerFactory(
            dealership=dealership, assigned_manager=manager if n % 2 else None, phone_alt="+79031234567" if n else ""
        )
        for make in ("Toyota", "Lexus")[: n % 3]:
            VehicleFactory(customer=customer, make=make)
    return manager


def test_customer_items_equal_the_fully_loaded_rows(rows, api_as, advisor):
    listing = api_as(advisor).get("/api/customers/").json()["results"]
    assert len(listing) == 4
    assert any(item["vehicles"] for item in listing) and any(item["phone_alt"] for item in listing)
    for item in listing:
        full = Customer.objects.select_related("assigned_manager", "dealership").get(pk=item["id"])
        assert _as_json(item) == _as_json(json.loads(_as_json(CustomerSerializer(full).data)))


def _assert_items_are_the_serializers(listing, serializer_class, queryset, context=None):
    """Each listed item equals the serializer's output for its row read the ordinary way, in the same key order."""
    assert listing
    for item in listing:
        full = queryset.get(pk=item["id"])
        expected = serializer_class(full, context=context or {}).data
        assert list(item) == list(expected)
        assert _as_json(item) == _as_json(json.loads(_as_json(expected)))


def test_part_items_equal_the_fully_loaded_rows(dealership, api_as, parts_manager):
    from decimal import Decimal

    from parts.apis import PartSerializer
    from parts.models import Part, Supplier
    from tests.parts.factories import PartFactory

    supplier = Supplier.objects.create(dealership=dealership, name="Поставщик")
    PartFactory(dealership=dealership, number="A-1", price=Decimal("890.50"), default_supplier=supplier)
    PartFactory(dealership=dealership, number="A-2", price=Decimal("0"), barcode="4601234567890", is_active=False)
    listing = api_as(parts_manager).get("/api/parts/?is_active=").json()["results"]
    assert len(listing) == 2 and {item["default_supplier"] for item in listing} == {supplier.pk, None}
    _assert_items_are_the_serializers(listing, PartSerializer, Part.objects.all())


def test_a_field_the_rows_cannot_give_keeps_the_serializer():
    """A method field (or a file's URL) depends on the instance or the request: building such a list leanly is an
    error at once, never a silently different item."""
    from rest_framework import serializers

    from dms.core.lean_items import LeanUnsupported, lean_items

    class WithMethod(serializers.ModelSerializer):
        shout = serializers.SerializerMethodField()

        class Meta:
            model = Customer
            fields = ["id", "shout"]

        def get_shout(self, obj) -> str:
            return obj.name.upper()

    with pytest.raises(LeanUnsupported, match="shout"):
        lean_items(WithMethod, Customer.objects.all(), context={})


def test_vehicle_items_equal_the_fully_loaded_rows(rows, api_as, advisor):
    listing = api_as(advisor).get("/api/vehicles/").json()["results"]
    assert len(listing) == 3
    for item in listing:
        full = Vehicle.objects.select_related("customer", "dealership").get(pk=item["id"])
        assert _as_json(item) == _as_json(json.loads(_as_json(VehicleSerializer(full).data)))


def test_sales_order_items_equal_the_fully_loaded_rows(dealership, api_as, parts_manager, customer):
    """Nested lines (their part's number, a total by the model's rounding), the manager's brief, the order's total
    as the sum of its lines', an order with no lines."""
    from decimal import Decimal

    from parts import services
    from parts.apis import SalesOrderSerializer
    from parts.models import SalesOrder
    from tests.parts.factories import PartFactory

    first, second = PartFactory(dealership=dealership, number="B-1"), PartFactory(dealership=dealership, number="B-2")
    services.sales_order_create(
        actor=parts_manager, dealership=dealership, customer=customer, channel="phone",
        lines=[{"part": first, "quantity": Decimal("1.5"), "unit_price": Decimal("333.33")},
               {"part": second, "quantity": Decimal("3"), "unit_price": Decimal("0.05")}],
    )  # fmt: skip
    services.sales_order_create(actor=parts_manager, dealership=dealership, customer=customer, channel="phone")
    listing = api_as(parts_manager).get("/api/sales-orders/").json()["results"]
    assert len(listing) == 2
    with_lines = next(item for item in listing if item["lines"])
    assert [line["part_number"] for line in with_lines["lines"]] == ["B-1", "B-2"]
    assert with_lines["total"] == "500.15" and with_lines["manager"]["id"] == parts_manager.pk
    _assert_items_are_the_serializers(
        listing, SalesOrderSerializer, SalesOrder.objects.prefetch_related("lines__part").select_related("manager")
    )


@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "Asia/Shanghai", "America/St_Johns"])
def test_a_time_is_written_as_drf_writes_it_in_the_zone_active_for_the_page(zone):
    import datetime
    import zoneinfo

    from django.utils import timezone
    from rest_framework import fields

    from dms.core.lean_items import _bound, _converter

    field = fields.DateTimeField()
    values = [
        datetime.datetime(2026, 12, 2, 8, 30, 15, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 29, 0, 59, tzinfo=zoneinfo.ZoneInfo("Europe/London")),
        datetime.datetime(2026, 12, 2, 8, 30),  # naive: DRF makes it aware in the active zone
        datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.UTC),
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        convert = _bound(_converter(field))
        assert convert is not field.to_representation  # the fast path is taken
        for value in values:
            try:
                expected = field.to_representation(value)
            except Exception as error:  # noqa: BLE001 - the year-1 time cannot move west of UTC: DRF's error
                with pytest.raises(type(error)):
                    convert(value)
                continue
            assert convert(value) == expected
        if zone != "UTC":
            assert not convert(values[0]).endswith("Z")


def test_a_time_field_with_its_own_format_or_zone_keeps_drf_s_path():
    import datetime

    from rest_framework import fields

    from dms.core.lean_items import _bound, _converter

    formatted = fields.DateTimeField(format="%d.%m.%Y %H:%M")
    assert _bound(_converter(formatted)) == formatted.to_representation
    utc_field = fields.DateTimeField(default_timezone=datetime.UTC)
    value = datetime.datetime(2026, 12, 2, 8, 30, tzinfo=datetime.UTC)
    assert _bound(_converter(utc_field))(value) == utc_field.to_representation(value) == "2026-12-02T08:30:00Z"


def test_complaint_items_equal_the_fully_loaded_rows(dealership, vehicle, api_as, make_user):
    """Notes with their authors, attachments with their download URLs, the assignee, the contact phone and R33's
    overdue flag in the dealership's zone: the list's items are the serializer's."""
    import datetime

    from django.utils import timezone

    from claims import services
    from claims.apis import ComplaintSerializer
    from claims.models import Complaint
    from tests.claims.helpers import png

    engineer = make_user(roles.WARRANTY_ENGINEER)
    advisor = make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="Смирнова")
    dealership.time_zone = "Asia/Vladivostok"
    dealership.save()

    def register(**data):
        return services.complaint_register(
            actor=advisor, dealership=dealership, channel="phone", description="Долгая выдача", **data
        )

    noted = register(customer=vehicle.customer, vehicle=vehicle, contact_name="Пётр", contact_phone="+79161234567")
    services.complaint_assign(
        actor=engineer, complaint=noted, category="service_attitude", department="service", assignee=advisor,
        deadline=timezone.localdate() + datetime.timedelta(days=3),
    )  # fmt: skip
    services.complaint_add_note(actor=advisor, complaint=noted, kind="customer_contact", text="Перезвонили <ok>")
    services.complaint_add_note(actor=engineer, complaint=noted, kind="investigation", text="Второй")
    services.attachment_add(actor=advisor, owner=noted, kind="photo", file=png())
    overdue = register(customer=vehicle.customer)
    Complaint.objects.filter(pk=overdue.pk).update(deadline=timezone.localdate() - datetime.timedelta(days=1))
    register(customer=vehicle.customer, severity="emergency", emergency_kind="vehicle_fire")

    listing = api_as(advisor).get("/api/complaints/").json()["results"]
    assert len(listing) == 3
    by_id = {item["id"]: item for item in listing}
    assert by_id[overdue.pk]["is_overdue"] is True and by_id[noted.pk]["is_overdue"] is False
    assert [note["text"] for note in by_id[noted.pk]["notes"]] and by_id[noted.pk]["attachments"][0]["url"]
    assert by_id[noted.pk]["assignee"]["full_name"] == "Анна Смирнова"
    _assert_items_are_the_serializers(listing, ComplaintSerializer, Complaint.objects.all())


def test_goodwill_items_equal_the_fully_loaded_rows(dealership, vehicle, api_as, advisor, make_user):
    """A work order named by its id (the foreign key's own column), one named on paper only, an attachment with its
    download URL, amounts and a status label: the list's items are the serializer's."""
    from decimal import Decimal

    from claims import services
    from claims.apis import GoodwillClaimSerializer
    from claims.models import GoodwillClaim
    from tests.claims.helpers import pdf
    from tests.service.factories import make_work_order

    engineer = make_user(roles.WARRANTY_ENGINEER)
    work_order = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-42", vehicle=vehicle)
    data = {"customer": vehicle.customer, "vehicle": vehicle, "description": "Ремонт КПП"}
    linked = services.goodwill_claim_create(
        actor=engineer, dealership=dealership, work_order_id=work_order.pk, requested_amount=Decimal("1234.50"), **data
    )
    services.attachment_add(actor=engineer, owner=linked, kind="agreement", file=pdf("agreement.pdf"))
    services.goodwill_claim_create(actor=engineer, dealership=dealership, work_order_number="ЗН-<7>", **data)

    listing = api_as(engineer).get("/api/goodwill-claims/").json()["results"]
    assert len(listing) == 2
    by_id = {item["id"]: item for item in listing}
    assert by_id[linked.pk]["work_order_id"] == work_order.pk and by_id[linked.pk]["attachments"][0]["url"]
    _assert_items_are_the_serializers(listing, GoodwillClaimSerializer, GoodwillClaim.objects.all())
