"""R29 returns and exchanges; R32 requisitions, old parts and parts cost per job."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dms.core import roles
from dms.core.exceptions import ConflictError
from parts import selectors, services
from parts.models import MovementKind, OldPartReturn, Requisition, ReturnRequest, StockBalance, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector(make_user):
    return make_user(roles.QUALITY_INSPECTOR)


@pytest.fixture
def shipped_order(parts_manager, storekeeper, customer, part, receive):
    receive(part, 5, cost="400")
    order = services.sales_order_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=customer,
        payment_method="cash",
        lines=[{"part": part, "quantity": 2}],
    )
    for step in (
        services.sales_order_confirm_need,
        services.sales_order_quote,
        services.sales_order_place,
        services.sales_order_invoice,
    ):
        step(actor=parts_manager, order=order)
    return services.sales_order_ship(actor=storekeeper, order=order, carrier="Самовывоз")


def photo():
    return SimpleUploadedFile("defect.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")


def test_r29_deadline_is_counted_in_working_days():
    friday = datetime.date(2026, 11, 20)
    assert services.add_working_days(friday, 1) == datetime.date(2026, 11, 23)  # Monday
    assert services.add_working_days(friday, 14) == datetime.date(2026, 12, 10)


def test_r29_a_request_after_the_deadline_is_refused(parts_manager, customer, part, shipped_order, settings):
    today = timezone.localdate() + datetime.timedelta(days=30)
    with pytest.raises(ValidationError) as error:
        services.return_request_create(
            actor=parts_manager,
            dealership=part.dealership,
            customer=customer,
            part=part,
            quantity=1,
            received_on=timezone.localdate(),
            reason="wrong_specification",
            resolution="refund",
            description="Не подошла",
            sales_order=shipped_order,
            today=today,
        )
    assert "received_on" in error.value.message_dict
    assert ReturnRequest.objects.count() == 0
    settings.PARTS_RETURN_WORKING_DAYS = 30  # configurable
    request = services.return_request_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=customer,
        part=part,
        quantity=1,
        received_on=timezone.localdate(),
        reason="wrong_specification",
        resolution="refund",
        description="Не подошла",
        sales_order=shipped_order,
        today=today,
    )
    assert request.deadline >= today


def test_r29_quality_claim_needs_inspection_then_refund_puts_stock_back_company_pays_freight(
    parts_manager, storekeeper, inspector, customer, part, shipped_order
):
    with pytest.raises(ValidationError):  # only 2 were sold
        services.return_request_create(
            actor=parts_manager,
            dealership=part.dealership,
            customer=customer,
            part=part,
            quantity=3,
            received_on=timezone.localdate(),
            reason="quality_defect",
            resolution="refund",
            description="Течь",
            sales_order=shipped_order,
        )
    request = services.return_request_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=customer,
        part=part,
        quantity=1,
        received_on=timezone.localdate(),
        reason="quality_defect",
        resolution="refund",
        description="Течь по корпусу",
        sales_order=shipped_order,
        evidence=[photo()],
    )
    assert request.evidence.count() == 1 and request.unit_cost == Decimal("400")
    with pytest.raises(ConflictError):  # quality: the technical department checks first
        services.return_approve(actor=parts_manager, request=request)
    services.return_send_to_inspection(actor=parts_manager, request=request)
    with pytest.raises(PermissionDenied):
        services.return_record_inspection(actor=parts_manager, request=request, defect_confirmed=True, result="x")
    services.return_record_inspection(actor=inspector, request=request, defect_confirmed=True, result="Брак литья")
    services.return_approve(actor=parts_manager, request=request, reason="Брак подтверждён", freight_cost="500")
    request.refresh_from_db()
    assert request.status == "approved" and request.freight_payer == "company"
    on_hand = StockBalance.objects.get(part=part).on_hand
    services.return_complete(actor=storekeeper, request=request)
    back = StockMovement.objects.get(kind=MovementKind.RETURN_IN)
    assert back.quantity == 1 and back.unit_cost == Decimal("400")
    assert StockBalance.objects.get(part=part).on_hand == on_hand + 1


def test_r29_refusal_needs_a_reason_and_customer_pays_freight(parts_manager, customer, part, shipped_order):
    request = services.return_request_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=customer,
        part=part,
        quantity=1,
        received_on=timezone.localdate(),
        reason="wrong_specification",
        resolution="exchange",
        description="Другой артикул",
        sales_order=shipped_order,
    )
    with pytest.raises(ValidationError):
        services.return_refuse(actor=parts_manager, request=request, reason=" ")
    services.return_refuse(actor=parts_manager, request=request, reason="Клиент сам выбрал артикул")
    request.refresh_from_db()
    assert request.status == "refused" and request.freight_payer == "customer"


def test_r29_exchange_ships_replacement_and_missing_goods_are_shipped(
    parts_manager, storekeeper, customer, part, shipped_order
):
    exchange = services.return_request_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=customer,
        part=part,
        quantity=1,
        received_on=timezone.localdate(),
        reason="wrong_shipment",
        resolution="exchange",
        description="Пришла не та деталь",
        sales_order=shipped_order,
    )
    services.return_approve(actor=parts_manager, request=exchange)
    services.return_complete(actor=storekeeper, request=exchange)
    kinds = list(StockMovement.objects.filter(reference=str(exchange)).values_list("kind", "quantity"))
    assert sorted(kinds) == [("counter_sale", Decimal("-1")), ("return_in", Decimal("1"))]
    with pytest.raises(ValidationError):
        services.return_request_create(
            actor=parts_manager,
            dealership=part.dealership,
            customer=customer,
            part=part,
            quantity=1,
            received_on=timezone.localdate(),
            reason="missing_shipment",
            resolution="refund",
            description="Недовложение",
            sales_order=shipped_order,
        )


def test_r29_api_with_evidence_upload(api_as, parts_manager, customer, part, shipped_order):
    api = api_as(parts_manager)
    r = api.post(
        "/api/returns/",
        {
            "customer": customer.pk,
            "part": part.pk,
            "sales_order": shipped_order.pk,
            "quantity": "1",
            "received_on": str(timezone.localdate()),
            "reason": "quality_defect",
            "resolution": "refund",
            "description": "Трещина",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    rid = r.json()["id"]
    r = api.post(f"/api/returns/{rid}/evidence/", {"file": photo(), "description": "Фото"}, format="multipart")
    assert r.status_code == 200 and len(r.json()["evidence"]) == 1
    bad = api.post(f"/api/returns/{rid}/evidence/", {"file": SimpleUploadedFile("x.exe", b"MZ")}, format="multipart")
    assert bad.status_code == 400
    assert api.post(f"/api/returns/{rid}/approve/", {}, format="json").status_code == 409
    late = api.post(
        "/api/returns/",
        {
            "customer": customer.pk,
            "part": part.pk,
            "quantity": "1",
            "received_on": "2020-01-10",
            "reason": "wrong_specification",
            "resolution": "refund",
            "description": "Старое",
        },
        format="json",
    )
    assert late.status_code == 400 and "received_on" in late.json()


# R32 ------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def requisition(advisor, dealership, part, receive, work_order):
    receive(part, 4, cost="250")
    return services.requisition_create(
        actor=advisor,
        dealership=dealership,
        work_order_id=work_order.pk,
        technician="Петров И.",
        work_order_line="Замена масла",
        lines=[{"part": part, "quantity": 2}],
    )


def test_r32_own_requisition_cannot_be_approved(make_user, dealership, part, receive, work_order):
    supervisor = make_user(roles.PARTS_MANAGER)
    receive(part, 1)
    own = services.requisition_create(
        actor=supervisor, dealership=dealership, work_order_id=work_order.pk, lines=[{"part": part, "quantity": 1}]
    )
    with pytest.raises(ValidationError, match="собственное"):
        services.requisition_approve(actor=supervisor, requisition=own)
    own.refresh_from_db()
    assert own.status == "requested"


def test_r32_approved_requisition_is_issued_to_the_job_and_costed(
    requisition, parts_manager, storekeeper, advisor, dealership, part
):
    with pytest.raises(PermissionDenied):
        services.requisition_approve(actor=storekeeper, requisition=requisition)
    with pytest.raises(Exception):  # noqa: B017 — issuing before approval is not allowed
        services.requisition_issue(actor=storekeeper, requisition=requisition)
    services.requisition_approve(actor=parts_manager, requisition=requisition)
    services.requisition_issue(actor=storekeeper, requisition=requisition)
    requisition.refresh_from_db()
    assert requisition.status == Requisition.Status.ISSUED and requisition.issued_by == storekeeper
    movement = requisition.lines.get().movement
    assert movement.kind == MovementKind.ISSUE and movement.work_order_ref == "ЗН-000123" and movement.quantity == -2
    job = requisition.job_id
    assert (movement.work_order_id, movement.job_id) == (requisition.work_order_id, job) and job is not None
    assert selectors.job_parts_cost(dealership_ids=[dealership.pk], job_id=job) == Decimal("500.00")
    assert selectors.requisition_parts_cost(requisition) == Decimal("500.00")
    # The removed old part comes back and is registered.
    with pytest.raises(ValidationError):
        services.old_part_register(
            actor=storekeeper, dealership=dealership, part=part, quantity=3, condition="scrap", requisition=requisition
        )
    old = services.old_part_register(
        actor=storekeeper, dealership=dealership, part=part, quantity=2, condition="scrap", requisition=requisition
    )
    assert old.work_order_ref == "ЗН-000123" and OldPartReturn.objects.count() == 1


def test_r32_issue_fails_cleanly_when_stock_is_short(requisition, parts_manager, storekeeper, dealership, part):
    services.stock_issue(actor=storekeeper, dealership=dealership, part=part, quantity=3, reference="прилавок")
    services.requisition_approve(actor=parts_manager, requisition=requisition)
    with pytest.raises(ValidationError):
        services.requisition_issue(actor=storekeeper, requisition=requisition)
    requisition.refresh_from_db()
    assert requisition.status == "approved" and StockBalance.objects.get(part=part).on_hand == 1


def test_r32_requisition_api(api_as, advisor, parts_manager, storekeeper, dealership, part, receive):
    from tests.service.factories import make_work_order

    receive(part, 3, cost="100")
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-77")
    r = api_as(advisor).post(
        "/api/requisitions/", {"work_order_id": wo.pk, "lines": [{"part": part.pk, "quantity": "1"}]}, format="json"
    )
    assert r.status_code == 201, r.json()
    rid = r.json()["id"]
    assert api_as(advisor).post(f"/api/requisitions/{rid}/approve/").status_code == 403
    assert api_as(parts_manager).post(f"/api/requisitions/{rid}/approve/").status_code == 200
    r = api_as(storekeeper).post(f"/api/requisitions/{rid}/issue/")
    assert r.status_code == 200 and r.json()["status"] == "issued" and r.json()["parts_cost"] == "100.00"
    r = api_as(storekeeper).post(
        "/api/old-parts/",
        {"part": part.pk, "quantity": "1", "condition": "reusable", "requisition": rid},
        format="json",
    )
    assert r.status_code == 201 and r.json()["work_order_ref"] == "ЗН-77"
