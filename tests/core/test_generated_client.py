"""Issue 16 item 1: a client generated from our schema by openapi-python-client (a third-party tool) imports
completely, passes mypy --strict, and drives the spine against the application — through an httpx WSGI transport,
in this test's database transaction (no server, no second connection).

The generator and mypy are pinned in requirements.txt; the whole test takes a few seconds (generation ~4 s, mypy
~5 s)."""

import datetime
import importlib
import pkgutil
import subprocess

from dms.core import roles
from notifications.models import CallEvent
from notifications.services import call_events_generate
from tests.factories import CustomerFactory, VehicleFactory
from tests.generated_client import BIN, PACKAGE, _api, _client, _models, needs_generator
from tests.orders.factories import PartFactory, SupplierFactory
from tests.service.factories import WorkingHoursFactory

pytestmark = needs_generator


def test_every_module_of_the_generated_client_imports(generated):
    package = importlib.import_module(PACKAGE)
    modules = [info.name for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")]
    failed = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - every failure is reported, not only the first
            failed[name] = repr(error)
    assert len(modules) > 300 and not failed, failed


def test_the_generated_client_passes_mypy_strict(generated):
    result = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir=/dev/null", PACKAGE],
        capture_output=True, text=True, timeout=300, cwd=generated,
    )
    # The whole generated package, the generator's own client.py included.
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert not errors, "\n".join(errors[:50])
    assert result.returncode == 0 and "Success" in result.stdout, result.stdout + result.stderr


def test_the_generated_client_drives_the_order_spine(generated, keep_connection, make_user, dealership):
    """customer → vehicle → order → place → receive → call events → complete → compliance report."""
    models = _models()
    advisor = _client(make_user(roles.SERVICE_ADVISOR), generated)
    parts = _client(make_user(roles.PARTS_MANAGER), generated)
    store = _client(make_user(roles.STOREKEEPER), generated)
    director = _client(make_user(roles.DIRECTOR), generated)
    part = PartFactory(dealership=dealership)
    supplier = SupplierFactory(dealership=dealership)

    customer = _api("customers.customers_create").sync(
        client=advisor, body=models.CustomerRequest(name="Иван Петров", phone="+79161234567")
    )
    assert customer.id > 0 and customer.name == "Иван Петров"
    vehicle = _api("vehicles.vehicles_create").sync(
        client=advisor,
        body=models.VehicleRequest(customer=customer.id, make="Toyota", model="Camry", vin="JTNB11HK103456789"),
    )
    assert vehicle.customer == customer.id
    order = _api("orders.orders_create").sync(
        client=advisor,
        body=models.CustomerOrderCreateRequest(
            customer=customer.id,
            vehicle=vehicle.id,
            kind=models.CustomerOrderCreateKindEnum.COMMERCIAL,
            lines=[models.OrderLineInputRequest(part=part.pk, quantity="2")],
        ),
    )
    assert str(order.status) == "not_placed"
    placed = _api("orders.orders_place_create").sync(
        id=order.id,
        client=parts,
        body=models.PlaceRequest(
            supplier=supplier.pk,
            supplier_order_number="TMR-77",
            expected_at=datetime.date.today() + datetime.timedelta(days=5),
        ),
    )
    assert str(placed.status) == "ordered"
    received = _api("orders.orders_receive_create").sync(
        id=order.id,
        client=store,
        body=models.ReceiveRequest(lines=[models.ReceiveLineRequest(line=placed.lines[0].id, quantity="2")]),
    )
    assert str(received.status) == "received"

    call_events_generate(order_ids=[order.id], notify=False)  # the beat's tick: the arrival call (R5)
    page = _api("call_backs.call_events_list").sync(client=advisor, order=order.id)
    assert page.count >= 1 and CallEvent.objects.filter(order_id=order.id).count() == page.count
    event = page.results[0]
    done = _api("call_backs.call_events_complete_create").sync(
        id=event.id, client=advisor, body=models.CallEventCompleteRequest(outcome="reached")
    )
    assert str(done.status) == "done" and done.completed_by is not None

    report = _api("reports.reports_call_compliance_retrieve").sync_detailed(
        client=director, from_=datetime.date.today() - datetime.timedelta(days=7), to=datetime.date.today()
    )
    assert report.status_code == 200 and report.parsed is not None


def test_the_generated_client_books_a_slot_and_opens_a_walk_in(generated, keep_connection, make_user, dealership):
    """slots → appointment; a walk-in work order (its answer parses: fuel_level "" and nulls as declared)."""
    models = _models()
    advisor_user = make_user(roles.SERVICE_ADVISOR)
    for weekday in range(5):
        WorkingHoursFactory(
            dealership=dealership, advisor=advisor_user, weekday=weekday,
            starts_at=datetime.time(9, 0), ends_at=datetime.time(18, 0),
        )
    advisor = _client(advisor_user, generated)
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    monday = datetime.date.today() + datetime.timedelta(days=7 - datetime.date.today().weekday() + 7)

    slots = _api("service.appointments_slots_list").sync(client=advisor, advisor=advisor_user.pk, date=str(monday))
    assert isinstance(slots, list) and slots, "slots answer a bare array (issue 16 item 1)"
    first = next(slot for slot in slots if slot.bookable)
    appointment = _api("service.appointments_create").sync(
        client=advisor,
        body=models.AppointmentRequest(
            advisor=advisor_user.pk,
            customer=vehicle.customer_id,
            vehicle=vehicle.pk,
            reason="ТО-3",
            area=models.AreaEnum.EXPRESS,
            starts_at=first.starts_at,
            handover_at=first.starts_at + datetime.timedelta(hours=6),
        ),
    )
    assert appointment.id > 0 and appointment.starts_at == first.starts_at

    walk_in = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    work_order = _api("service.work_orders_create").sync(
        client=advisor,
        body=models.WorkOrderOpenRequest(
            customer=walk_in.customer_id, vehicle=walk_in.pk, complaint="Не заводится в мороз"
        ),
    )
    assert work_order.vehicle == walk_in.pk and str(work_order.status) == "opened"
    listed = _api("service.work_orders_list").sync(client=advisor)
    assert [row.id for row in listed.results] == [work_order.id]
