"""Issue 12 item 6, the sweep: no write of the API accepts an id of another dealership's record.

For every write operation of the OpenAPI schema (drf-spectacular), every body field that is an id — a related field
(``ScopedPrimaryKeyRelatedField``), nested ones in lists of lines included, and the integer ids the services resolve
(``*_id``, order/count lines, work-order jobs) — gets the id of a record of the SAME model in ANOTHER dealership.
The answer must be 400 naming that field (or 404), and the whole database must be unchanged.

The caller works in BOTH dealerships and acts in the main one (``X-Dealership``): ids must resolve in the dealership
the write acts in, not merely in one of the caller's. Every writable integer field of the schema is classified below
(an id of which model, or not an id), so a new id field cannot slip past the sweep.

The world (the demo plus the records the access matrix adds) is the access matrix's.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from dms.core import roles
from tests.factories import CustomerFactory, UserFactory, VehicleFactory
from tests.hardening.test_access_matrix import API_ROWS, assert_unchanged, snapshot, w, world  # noqa: F401
from tests.orders.factories import CustomerOrderFactory
from tests.parts.factories import LocationFactory, PartFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.postgres

# Writable integer fields that are ids resolved by a service (field name → model), per operation where the name
# alone is ambiguous. Everything else that is an integer must be listed in NOT_IDS.
INTEGER_IDS = {
    "work_order_id": "service.WorkOrder",
    "job_id": "service.WorkOrderJob",
    "job": "service.WorkOrderJob",
    "checked_jobs": "service.WorkOrderJob",
    # Issue 17: a finding of the work order acted on (another work order's, or another dealership's, is a 400).
    "finding": "service.InspectionFinding",
    # Issue 14 item 6: a job's ticked checklist items resolve within the job's kind (an item of another kind is a
    # 400); checklists are configuration shared by the dealerships, so "another dealership's" is another kind's.
    "checklist_items": "service.QualityChecklistItem",
    ("/api/orders/{id}/receive/", "line"): "orders.CustomerOrderLine",
    ("/api/orders/{id}/place/", "line"): "orders.CustomerOrderLine",
    ("/api/orders/place-batch/", "line"): "orders.CustomerOrderLine",
    ("/api/orders/receive-batch/", "line"): "orders.CustomerOrderLine",
    ("/api/stock-counts/{id}/record/", "line"): "parts.StockCountLine",
    ("/api/technicians/{id}/remove-absence/", "absence"): "service.TechnicianAbsence",  # issue 18
}
NOT_IDS = {
    "duration_minutes",
    "satisfaction",
    "score",  # issue 18 item 6: an appraisal score 1–5
    "delivery_days",
    "return_days",
    "year",
    "mileage",
    "warranty_mileage_limit",
    "weekday",  # issue 18: a technician's hours
    "break_minutes",
    # Issues 17 item 5, 18 item 3: the service settings' periods, in days, months and km.
    "repeat_visit_days",
    "warranty_ending_days",
    "reminder_months",
    "reminder_km",
    "declined_follow_up_days",
}


# ------------------------------------------------------------------------------------------------------------------
# The id fields of every write operation, from the schema generator's own serializers.
# ------------------------------------------------------------------------------------------------------------------


def _id_fields(serializer, path, op_path):
    """(field path, model label, many) for every writable id field; nested lists of lines are followed."""
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        here = (*path, name)
        if isinstance(field, serializers.ManyRelatedField):
            yield here, _related_model(field.child_relation), True
        elif isinstance(field, serializers.RelatedField):
            yield here, _related_model(field), False
        elif isinstance(field, serializers.ListSerializer):
            yield from _id_fields(field.child, (*here, 0), op_path)
        elif isinstance(field, serializers.Serializer):
            yield from _id_fields(field, here, op_path)
        elif isinstance(field, serializers.ListField) and isinstance(field.child, serializers.IntegerField):
            yield here, _integer_id(op_path, name), True
        elif isinstance(field, serializers.IntegerField) and name not in NOT_IDS:
            yield here, _integer_id(op_path, name), False


def _related_model(field) -> str:
    target = getattr(field, "target", None)
    return target or field.queryset.model._meta.label


def _integer_id(op_path: str, name: str) -> str:
    model = INTEGER_IDS.get((op_path, name)) or INTEGER_IDS.get(name)
    assert model, f"{op_path}: integer field {name!r} is neither a known id nor in NOT_IDS — classify it"
    return model


def write_id_fields() -> list[tuple[str, str, tuple, str, bool]]:
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    found = []
    for path, regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        view.schema.get_operation(path, regex, "^/api", method, generator.registry)
        request_serializer = view.schema.get_request_serializer()
        if isinstance(request_serializer, dict):  # per content type (multipart uploads)
            request_serializer = next(iter(request_serializer.values()))
        if isinstance(request_serializer, type):
            request_serializer = request_serializer()
        if not isinstance(request_serializer, serializers.BaseSerializer):
            continue
        for field_path, model, many in _id_fields(request_serializer, (), path):
            found.append((path, method.lower(), field_path, model, many))
    return found


WRITE_ID_FIELDS = write_id_fields()


def test_the_sweep_sees_the_known_id_fields():
    """The enumeration itself works: the exploit's field and nested line fields are among those swept."""
    seen = {(path, method, field_path) for path, method, field_path, _model, _many in WRITE_ID_FIELDS}
    assert ("/api/stock/receive/", "post", ("reserve_for_order_id",)) in seen
    assert ("/api/orders/", "post", ("lines", 0, "part")) in seen
    assert ("/api/stock-counts/", "post", ("committee",)) in seen
    assert len(seen) > 60


def test_every_related_field_of_a_write_is_scoped():
    """Structure: a related field that is not the shared scoped one would resolve in every dealership."""
    from dms.core.api_base import ScopedPrimaryKeyRelatedField

    generator = SchemaGenerator()
    generator._initialise_endpoints()
    unscoped = []
    for path, regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        view.schema.get_operation(path, regex, "^/api", method, generator.registry)
        request_serializer = view.schema.get_request_serializer()
        if isinstance(request_serializer, dict):
            request_serializer = next(iter(request_serializer.values()))
        if isinstance(request_serializer, type):
            request_serializer = request_serializer()
        if not isinstance(request_serializer, serializers.BaseSerializer):
            continue
        stack = [request_serializer]
        while stack:
            current = stack.pop()
            for name, field in current.fields.items():
                if field.read_only:
                    continue
                related = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
                if isinstance(related, serializers.RelatedField) and not isinstance(
                    related, ScopedPrimaryKeyRelatedField
                ):
                    unscoped.append(f"{method} {path} {name}")
                if isinstance(field, serializers.ListSerializer):
                    stack.append(field.child)
                elif isinstance(field, serializers.Serializer):
                    stack.append(field)
    assert not unscoped, unscoped


# ------------------------------------------------------------------------------------------------------------------
# Records of the other dealership, one per model an id field names.
# ------------------------------------------------------------------------------------------------------------------


def _foreign_record(wd, label: str):
    """A record of ``label`` in the other dealership (built once; factories or a plain create)."""
    key = ("foreign", label)
    if key in wd.objects:
        return wd.objects[key]
    other = wd.other
    model = apps.get_model(label)
    now = datetime.datetime.now(datetime.UTC)
    actor = wd.objects.get(("foreign", "actor")) or UserFactory(role=roles.ADMINISTRATOR, dealership=[other])
    wd.objects[("foreign", "actor")] = actor

    def part():
        return _cached(wd, "parts.Part", lambda: PartFactory(dealership=other))

    def warehouse():
        return _cached(wd, "parts.Warehouse", lambda: WarehouseFactory(dealership=other))

    def vehicle():
        return _cached(wd, "core.Vehicle", lambda: VehicleFactory(customer=CustomerFactory(dealership=other)))

    def work_order():
        from service.models import WorkOrder

        v = vehicle()
        return _cached(
            wd,
            "service.WorkOrder",
            lambda: WorkOrder.objects.create(
                dealership=other, number="ЗН-F1", customer=v.customer, vehicle=v, advisor=actor
            ),
        )

    def customer_order():
        return _cached(wd, "orders.CustomerOrder", lambda: CustomerOrderFactory(dealership=other, author=actor))

    def stock_count():
        from parts.models import StockCount

        return _cached(
            wd, "parts.StockCount", lambda: StockCount.objects.create(dealership=other, warehouse=warehouse(),
                                                                     started_by=actor)
        )  # fmt: skip

    builders = {
        "auth.User": lambda: actor,
        "core.Customer": lambda: vehicle().customer,
        "core.Vehicle": vehicle,
        "parts.Part": part,
        "parts.Warehouse": warehouse,
        "parts.Supplier": lambda: SupplierFactory(dealership=other),
        "parts.LowStockAlert": lambda: model.objects.create(
            dealership=other,
            part=part(),
            warehouse=warehouse(),
            alert_level=5,
            on_hand=1,
            available=1,
            suggested_quantity=4,
        ),
        "parts.Location": lambda: LocationFactory(dealership=other, warehouse=warehouse()),
        "parts.Reservation": lambda: model.objects.create(
            dealership=other, part=part(), warehouse=warehouse(), quantity=1, reference="F"
        ),
        "parts.SalesOrder": lambda: model.objects.create(dealership=other, customer=vehicle().customer, manager=actor),
        "parts.Requisition": lambda: model.objects.create(dealership=other, work_order_ref="F", requested_by=actor),
        "parts.StockCountLine": lambda: model.objects.create(count=stock_count(), part=part(), expected_quantity=1),
        "claims.Complaint": lambda: model.objects.create(
            dealership=other, number="F-1", channel="phone", received_at=now, description="F"
        ),
        "service.Loaner": lambda: model.objects.create(dealership=other, plate="F001", make="Toyota", model="Camry"),
        "service.Appointment": lambda: model.objects.create(
            dealership=other,
            advisor=actor,
            customer=vehicle().customer,
            vehicle=vehicle(),
            reason="F",
            area="mechanical",
            starts_at=now,
            ends_at=now + datetime.timedelta(minutes=15),
            handover_at=now + datetime.timedelta(hours=2),
        ),
        "service.WorkOrder": work_order,
        "service.QualityChecklistItem": lambda: model.objects.create(
            kind=apps.get_model("service.JobKind").objects.create(name="F"), text="F"
        ),
        "service.WorkOrderJob": lambda: model.objects.create(
            work_order=work_order(), description="F", standard_hours=Decimal("1"), rate=Decimal("1")
        ),
        "service.InspectionFinding": lambda: model.objects.create(work_order=work_order(), item="F", colour="green"),
        # Issue 18: an absence of another dealership's technician.
        "service.TechnicianAbsence": lambda: model.objects.create(
            dealership=other,
            technician=apps.get_model("service.TechnicianProfile").objects.create(dealership=other, user=actor),
            starts_on=datetime.date(2030, 1, 1),
            ends_on=datetime.date(2030, 1, 1),
        ),
        "orders.CustomerOrder": customer_order,
        # Issue 17 item 3: a reply in the customer's thread may name the call event it is about.
        "notifications.CallEvent": lambda: model.objects.create(
            dealership=other, order=customer_order(), kind="arrival", assignee=actor, due_date=now.date()
        ),
        "orders.CustomerOrderLine": lambda: model.objects.create(order=customer_order(), part=part(), quantity=1),
    }
    assert label in builders, f"no builder for a foreign {label}: add one"
    return _cached(wd, label, builders[label])


def _cached(wd, label, build):
    key = ("foreign", label)
    if key not in wd.objects:
        wd.objects[key] = build()
    return wd.objects[key]


# ------------------------------------------------------------------------------------------------------------------
# Companion values: for ids a service resolves, the rest of the body must be valid enough to reach that check.
# ------------------------------------------------------------------------------------------------------------------


def _own_delivered_work_order(wd):
    from service.models import WorkOrder

    return WorkOrder.objects.get(dealership=wd.main, number="ЗН-M1")


def companions(wd, path: str, method: str, field_path: tuple) -> tuple[dict, dict | None]:
    """(body the foreign id goes into, where filter for the {id} record) for operations that need them."""
    today = datetime.date.today().isoformat()
    if path == "/api/warranty-claims/" and method == "post":
        wo = _own_delivered_work_order(wd)
        return {
            "work_order_id": wo.pk,
            "job_id": wo.jobs.first().pk,
            "failure_date": today,
            "failure_code": "C1",
            "description": "x",
        }, None
    if path == "/api/requisitions/" and method == "post":
        # Issue 15 item 2: the work order and job are resolved by the service inside the acting dealership.
        wo = _own_delivered_work_order(wd)
        return {
            "work_order_id": wo.pk,
            "job_id": wo.jobs.first().pk,
            "lines": [{"part": wd.obj("parts.Part").pk, "quantity": "1"}],
        }, None
    if path == "/api/goodwill-claims/" and method == "post" and field_path == ("work_order_id",):
        vehicle = wd.obj("core.Vehicle")
        return {"customer": vehicle.customer_id, "vehicle": vehicle.pk, "description": "x"}, None
    if path == "/api/orders/{id}/place/":
        # Issue 15 item 5: purchase prices per line name lines of the order being placed.
        soon = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
        return {
            "supplier": wd.obj("parts.Supplier").pk,
            "supplier_order_number": "F-1",
            "expected_at": soon,
            "purchase_prices": [{"purchase_price": "1"}],
        }, {"status": "not_placed"}
    if path == "/api/orders/place-batch/":
        # Issue 15 item 6: the orders, the supplier and the lines' ids all resolve in the acting dealership.
        soon = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
        return {
            "orders": [wd.obj("orders.CustomerOrder", {"status": "not_placed"}).pk],
            "supplier": wd.obj("parts.Supplier").pk,
            "supplier_order_number": "F-1",
            "expected_at": soon,
            "purchase_prices": [{"purchase_price": "1"}],
        }, None
    if path == "/api/orders/receive-batch/":
        placed = wd.obj("orders.CustomerOrder", {"status": "ordered"})
        return {
            "supplier": placed.supplier_order.supplier_id,
            "supplier_order_number": placed.supplier_order.supplier_order_number,
            "lines": [{"order": placed.pk, "line": placed.lines.first().pk, "quantity": "1"}],
        }, None
    if path == "/api/orders/{id}/receive/":
        return {"lines": [{"quantity": "1"}]}, {"status": "ordered"}
    if path == "/api/stock-counts/{id}/record/":
        return {"entries": [{"counted": "1"}]}, {"status": "in_progress"}
    if path == "/api/work-orders/{id}/consent/":
        return {"agreed": True, "given_by": "x", "channel": "phone"}, None
    if path == "/api/work-orders/{id}/quality-check/" and field_path[0] == "results":
        # Issue 14 item 6: per-job results; the job is one of the work order at the check (or the foreign id).
        from service.models import WorkOrderJob

        own = WorkOrderJob.objects.get(work_order__dealership=wd.main, work_order__number="ЗН-QC1")
        return {"results": [{"job": own.pk, "passed": False, "comment": "x"}]}, {"number": "ЗН-QC1"}
    if path == "/api/work-orders/{id}/quality-check/":
        return {"passed": True}, {"status": "quality_check"}
    if path == "/api/work-orders/{id}/assign-job/":
        # Issue 18: the job is one of the work order acted on; the technician is resolved by the serializer.
        wo = _own_delivered_work_order(wd)
        return {"job": wo.jobs.first().pk, "technician": None}, {"number": "ЗН-M1"}
    return {}, None


def _put(body, field_path, value):
    """``body`` with ``value`` at ``field_path`` (lists of lines get their first line)."""
    if len(field_path) == 1:
        return {**body, field_path[0]: value}
    head, index, *rest = field_path
    lines = list(body.get(head) or [{}])
    lines[index] = _put(lines[index], tuple(rest), value)
    return {**body, head: lines}


def _names_the_field(errors, field_path) -> bool:
    """The 400 answer points at the field: ``{field: …}``, or for a line ``{lines: [{field: …}]}`` or a message
    on the list of lines (services say "Line 1: unknown part")."""
    if not isinstance(errors, dict) or field_path[0] not in errors:
        return False
    if len(field_path) == 1:
        return True
    nested = errors[field_path[0]]
    if isinstance(nested, dict):  # {"lines": {"0": {"part": [...]}}}
        line = nested.get(str(field_path[1]))
        return line is not None and _names_the_field(line, field_path[2:])
    if isinstance(nested, list) and nested and isinstance(nested[0], dict):
        return _names_the_field(nested[field_path[1]], field_path[2:])
    return isinstance(nested, list | str)


def _main_work_order_at_quality_check(wd) -> None:
    """The quality check's job ids are only read at that step: the main dealership needs a work order there."""
    from service.models import WorkOrder, WorkOrderJob

    vehicle = wd.obj("core.Vehicle")
    wo = WorkOrder.objects.create(
        dealership=wd.main,
        number="ЗН-QC1",
        customer=vehicle.customer,
        vehicle=vehicle,
        advisor=UserFactory(role=roles.SERVICE_ADVISOR, dealership=[wd.main]),
        status="quality_check",
    )
    WorkOrderJob.objects.create(work_order=wo, description="QC", standard_hours=Decimal("1"), rate=Decimal("1"))


@pytest.fixture(scope="module")
def foreign_world(world, django_db_blocker) -> dict:  # noqa: F811 (the access matrix's fixture)
    """Built once inside the module's world transaction: a record of the other dealership for every model an id
    field names, and an administrator of BOTH dealerships (who acts in the main one)."""
    with django_db_blocker.unblock():
        for _path, _method, _field, label, _many in WRITE_ID_FIELDS:
            _foreign_record(world, label)
        _main_work_order_at_quality_check(world)
        user = UserFactory(username="m_both", role=roles.ADMINISTRATOR, dealership=[world.main, world.other])
        client = Client()
        client.force_login(user)
        world.objects[("both", "client")] = client
    return world.objects


@pytest.mark.parametrize(
    "path, method, field_path, model, many",
    WRITE_ID_FIELDS,
    ids=[f"{m.upper()} {p} {'.'.join(map(str, f))}" for p, m, f, _model, _many in WRITE_ID_FIELDS],
)
def test_a_foreign_id_in_a_write_is_refused_and_changes_nothing(
    w,  # noqa: F811 (the access matrix's fixture)
    foreign_world,
    path,
    method,
    field_path,
    model,
    many,
):
    client = foreign_world[("both", "client")]
    foreign = foreign_world[("foreign", model)]
    body, where = companions(w, path, method, field_path)
    body = _put(body, field_path, [foreign.pk] if many else foreign.pk)
    _perm, record_model = API_ROWS[(path, method)]
    url = path.replace("{id}", str(w.obj(record_model, where).pk)) if record_model else path
    before = snapshot()
    response = getattr(client, method)(
        url, body, content_type="application/json", HTTP_ACCEPT="application/json", HTTP_X_DEALERSHIP=str(w.main.pk)
    )
    label = f"{method.upper()} {url} with {'.'.join(map(str, field_path))}={foreign.pk} ({model} of another dealership)"
    assert response.status_code in (400, 404), f"{label}: {response.status_code} {response.content[:300]!r}"
    if response.status_code == 400:
        assert _names_the_field(response.json(), field_path), (
            f"{label}: the error does not name the field: " + str(response.json())[:300]
        )
    assert_unchanged(before, label)


def test_models_named_by_ids_are_dealership_records():
    """Every model an id of a write names is a dealership's record (or a line of one) — scoping is possible."""
    for _path, _method, _field, label, _many in WRITE_ID_FIELDS:
        if "." not in label:
            continue
        model = apps.get_model(label)
        names = {f.name for f in model._meta.get_fields()}
        assert (
            "dealership" in names
            or "staff_profile" in names
            or any(isinstance(f, models.ForeignKey) for f in model._meta.concrete_fields)
        ), label
