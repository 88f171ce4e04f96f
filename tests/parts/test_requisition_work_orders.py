"""Issue 15 item 2 (R32): a requisition names a real work order (and job) of its dealership; issued parts land on
that job's cost. Every door (service, API, page) refuses a missing or foreign work order and a job not on it."""

from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from dms.core import roles
from parts import selectors, services
from parts.models import MovementKind, Requisition, RequisitionLine, StockBalance, StockMovement
from tests.service.factories import make_work_order

pytestmark = pytest.mark.django_db


def _written() -> tuple[int, int, int]:
    return Requisition.objects.count(), RequisitionLine.objects.count(), StockMovement.objects.count()


@pytest.fixture
def foreign_work_order(other_dealership, make_user):
    other_advisor = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    return make_work_order(dealership=other_dealership, advisor=other_advisor, number="ЗН-000123")


@pytest.fixture
def two_jobs(dealership, advisor):
    return make_work_order(dealership=dealership, advisor=advisor, number="ЗН-2J", jobs=("Тормоза", "Подвеска"))


def _post(api, work_order_id, part, **extra):
    body = {"work_order_id": work_order_id, "lines": [{"part": part.pk, "quantity": "1"}], **extra}
    return api.post("/api/requisitions/", body, format="json")


def test_api_refuses_a_missing_or_foreign_work_order_and_writes_nothing(
    api_as, advisor, part, receive, foreign_work_order
):
    receive(part, 3)
    before = _written()
    api = api_as(advisor)
    for work_order_id in (foreign_work_order.pk + 10_000, foreign_work_order.pk):
        r = _post(api, work_order_id, part)
        assert r.status_code == 400 and "work_order_id" in r.json(), r.json()
    r = api.post("/api/requisitions/", {"lines": [{"part": part.pk, "quantity": "1"}]}, format="json")
    assert r.status_code == 400 and "work_order_id" in r.json()
    # The old free-text field alone no longer makes a requisition.
    r = api.post(
        "/api/requisitions/", {"work_order_ref": "ЗН-404", "lines": [{"part": part.pk, "quantity": "1"}]}, format="json"
    )
    assert r.status_code == 400 and "work_order_id" in r.json()
    assert _written() == before


def test_api_refuses_a_job_not_on_the_work_order(api_as, advisor, part, receive, work_order, two_jobs):
    receive(part, 3)
    before = _written()
    api = api_as(advisor)
    other_job = two_jobs.jobs.first()
    r = _post(api, work_order.pk, part, job_id=other_job.pk)
    assert r.status_code == 400 and "job_id" in r.json(), r.json()
    assert "ЗН-000123" in str(r.json()["job_id"])
    # A work order with several jobs needs the job chosen, so the cost lands on one.
    r = _post(api, two_jobs.pk, part)
    assert r.status_code == 400 and "job_id" in r.json()
    assert _written() == before
    r = _post(api, two_jobs.pk, part, job_id=other_job.pk)
    assert r.status_code == 201 and (r.json()["work_order_id"], r.json()["job_id"]) == (two_jobs.pk, other_job.pk)
    assert r.json()["work_order_ref"] == "ЗН-2J"


def test_issued_requisition_lands_on_the_job_cost(
    api_as, advisor, parts_manager, storekeeper, dealership, part, receive, two_jobs
):
    receive(part, 5, cost="300")
    brakes, suspension = two_jobs.jobs.all()
    r = _post(api_as(advisor), two_jobs.pk, part, job_id=suspension.pk)
    rid = r.json()["id"]
    assert api_as(parts_manager).post(f"/api/requisitions/{rid}/approve/").status_code == 200
    r = api_as(storekeeper).post(f"/api/requisitions/{rid}/issue/")
    assert r.status_code == 200 and r.json()["parts_cost"] == "300.00"
    movement = StockMovement.objects.get(kind=MovementKind.ISSUE)
    assert (movement.work_order_id, movement.job_id) == (two_jobs.pk, suspension.pk)
    assert selectors.job_parts_cost(dealership_ids=[dealership.pk], job_id=suspension.pk) == Decimal("300.00")
    assert selectors.job_parts_cost(dealership_ids=[dealership.pk], job_id=brakes.pk) == Decimal("0.00")
    assert selectors.job_parts_cost(dealership_ids=[dealership.pk], work_order_id=two_jobs.pk) == Decimal("300.00")
    rows = list(selectors.job_cost_report(dealership_ids=[dealership.pk]))
    assert [(row["work_order_id"], row["job_id"], row["cost"]) for row in rows] == [
        (two_jobs.pk, suspension.pk, Decimal("300"))
    ]


def test_job_cost_page_shows_the_job(client, parts_manager, storekeeper, advisor, dealership, part, receive, two_jobs):
    receive(part, 2, cost="100")
    job = two_jobs.jobs.last()
    req = services.requisition_create(
        actor=advisor,
        dealership=dealership,
        work_order_id=two_jobs.pk,
        job_id=job.pk,
        lines=[{"part": part, "quantity": 1}],
    )
    services.requisition_approve(actor=parts_manager, requisition=req)
    services.requisition_issue(actor=storekeeper, requisition=req)
    client.force_login(parts_manager)
    page = client.get(reverse("parts:job_cost"))
    assert page.status_code == 200
    row = page.context["page_obj"][0]
    assert (row["work_order_ref"], row["job"], row["cost"]) == ("ЗН-2J", "Подвеска", Decimal("100"))


def test_page_offers_open_work_orders_and_refuses_a_foreign_one(
    client, advisor, dealership, part, receive, work_order, foreign_work_order
):
    receive(part, 3)
    delivered = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-DONE", status="delivered")
    client.force_login(advisor)
    page = client.get(reverse("parts:requisition_create"))
    offered = {choice.value for choice, _label in page.context["form"].fields["work_order_id"].choices if choice}
    assert offered == {work_order.pk}  # own open ones: not delivered, not another dealership's
    assert delivered.pk not in offered and foreign_work_order.pk not in offered
    before = _written()
    for work_order_id in (foreign_work_order.pk, foreign_work_order.pk + 10_000, "ЗН-000123", ""):
        r = client.post(
            reverse("parts:requisition_create"), {"work_order_id": work_order_id, "part": part.number, "quantity": "1"}
        )
        assert r.status_code == 200 and r.context["form"].errors.get("work_order_id"), work_order_id
    other_job = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-X").jobs.get()
    r = client.post(
        reverse("parts:requisition_create"),
        {"work_order_id": work_order.pk, "job_id": other_job.pk, "part": part.number, "quantity": "1"},
    )
    assert r.status_code == 200 and r.context["form"].errors.get("job_id")
    assert _written() == before
    r = client.post(
        reverse("parts:requisition_create"),
        {"work_order_id": work_order.pk, "job_id": work_order.jobs.get().pk, "part": part.number, "quantity": "1"},
    )
    assert r.status_code == 302 and Requisition.objects.get().work_order_id == work_order.pk


def test_a_requisition_naming_no_work_order_is_neither_approved_nor_issued(
    api_as, advisor, parts_manager, storekeeper, dealership, part, receive
):
    """Requisitions from before the reference (text only, no such work order) stop at approval and issue."""
    receive(part, 3)
    legacy = Requisition.objects.create(dealership=dealership, work_order_ref="ЗН-404", requested_by=advisor)
    RequisitionLine.objects.create(requisition=legacy, part=part, quantity=1)
    r = api_as(parts_manager).post(f"/api/requisitions/{legacy.pk}/approve/")
    assert r.status_code == 400 and "work_order_id" in r.json()
    Requisition.objects.filter(pk=legacy.pk).update(status=Requisition.Status.APPROVED)
    with pytest.raises(ValidationError):
        services.requisition_issue(actor=storekeeper, requisition=legacy)
    r = api_as(storekeeper).post(f"/api/requisitions/{legacy.pk}/issue/")
    assert r.status_code == 400
    assert StockBalance.objects.get(part=part).on_hand == 3 and not StockMovement.objects.filter(kind="issue").exists()


def test_the_database_refuses_a_foreign_work_order_or_a_job_of_another(
    dealership, advisor, work_order, foreign_work_order, two_jobs
):
    """service's migration 0003: foreign keys on (dealership, work order) and (work order, job)."""
    if connection.vendor != "postgresql":
        pytest.skip("the constraint is PostgreSQL's")
    bad = (
        {"work_order_id": foreign_work_order.pk},
        {"work_order_id": work_order.pk, "job_id": two_jobs.jobs.first().pk},
    )
    for fields in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            Requisition.objects.create(dealership=dealership, requested_by=advisor, **fields)
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    Requisition.objects.create(
        dealership=dealership, requested_by=advisor, work_order_id=work_order.pk, job_id=work_order.jobs.get().pk
    )


def test_migration_links_text_references_by_number(dealership, advisor, work_order, foreign_work_order):
    """Existing requisitions with a text work order get its id when the number matches within the dealership; the
    others keep the text."""
    link = import_module("service.migrations.0003_work_order_references").link_by_number
    same = Requisition.objects.create(dealership=dealership, work_order_ref="ЗН-000123", requested_by=advisor)
    unknown = Requisition.objects.create(dealership=dealership, work_order_ref="ЗН-404", requested_by=advisor)
    link(django_apps, None)
    values = dict(Requisition.objects.values_list("pk", "work_order_id"))
    assert values == {same.pk: work_order.pk, unknown.pk: None}  # never the other dealership's ЗН-000123
    assert Requisition.objects.get(pk=unknown.pk).work_order_ref == "ЗН-404"


def test_work_order_page_shows_the_parts_cost_issued_to_each_job(
    client, advisor, parts_manager, storekeeper, dealership, part, receive, two_jobs
):
    receive(part, 3, cost="120")
    brakes = two_jobs.jobs.first()
    req = services.requisition_create(
        actor=advisor,
        dealership=dealership,
        work_order_id=two_jobs.pk,
        job_id=brakes.pk,
        lines=[{"part": part, "quantity": 2}],
    )
    services.requisition_approve(actor=parts_manager, requisition=req)
    services.requisition_issue(actor=storekeeper, requisition=req)
    client.force_login(advisor)
    page = client.get(reverse("service:workorder_detail", args=[two_jobs.pk]))
    assert page.status_code == 200
    assert page.context["issued_costs"] == [(brakes, Decimal("240.00"))]
    assert page.context["issued_cost_total"] == Decimal("240.00")
    assert f'?work_order={two_jobs.pk}"' in page.content.decode()  # "request parts" preselects the work order


def test_requisition_page_preselection_ignores_malformed_ids(client, advisor, work_order):
    """?work_order=² must not reach int(): the page opens without a preselection (issue 12 item 5's class)."""
    client.force_login(advisor)
    response = client.get(reverse("parts:requisition_create"), {"work_order": "²", "job": "9" * 5000})
    assert response.status_code == 200
    assert response.context["form"].initial["work_order_id"] is None
