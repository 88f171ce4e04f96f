"""Issue 14 item 3: the customer's and the vehicle's cards — every kind of record, open first then newest, linked;
quick actions prefilled; scoped to the dealership and to what the role may see; bounded queries; the same over the
API."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims.models import Complaint, GoodwillClaim, WarrantyClaim
from dms.core import roles
from notifications.models import CallEvent, Delivery
from orders.models import CustomerOrder
from parts.models import Part, ReturnRequest, SalesOrder
from service.models import Appointment, LoanerReservation, RecallCampaignVin, WorkOrder
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.factories import LoanerFactory, RecallCampaignFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
OLD = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# 22:30 UTC is already the next day in Moscow (the dealership's zone): the card and the API show 2 March.
NEW = datetime.datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def _at(model, obj, when, field="created_at"):
    model.objects.filter(pk=obj.pk).update(**{field: when})
    return obj


def _one_of_each(dealership, customer, vehicle, staff, *, n=0):
    """Two records of every kind for the customer's vehicle: an old open one and a newer closed one."""
    rows = {}
    open_order = CustomerOrder.objects.create(
        dealership=dealership, number=f"O-OPEN-{n}", kind="commercial", customer=customer, vehicle=vehicle,
        author=staff,
    )  # fmt: skip
    done_order = CustomerOrder.objects.create(
        dealership=dealership, number=f"O-DONE-{n}", kind="commercial", customer=customer, vehicle=vehicle,
        author=staff, status="issued",
    )  # fmt: skip
    rows["customer_order"] = (_at(CustomerOrder, open_order, OLD), _at(CustomerOrder, done_order, NEW))
    call_open = CallEvent.objects.create(
        dealership=dealership, order=open_order, kind="arrival", assignee=staff, due_date=datetime.date(2026, 3, 1)
    )
    call_done = CallEvent.objects.create(
        dealership=dealership, order=open_order, kind="interim_eta", assignee=staff, status="done",
        due_date=datetime.date(2026, 3, 2), completed_at=NEW, completed_by=staff, outcome="reached",
        comment="Клиент знает срок",
    )  # fmt: skip
    rows["call"] = (call_open, call_done)
    msg_open = Delivery.objects.create(
        dealership=dealership, customer=customer, channel="sms", recipient="+79160000000", body="Запчасти в пути"
    )
    msg_done = Delivery.objects.create(
        dealership=dealership, customer=customer, channel="sms", recipient="+79160000000", body="Запчасти пришли",
        status="delivered", event=call_done,
    )  # fmt: skip
    rows["message"] = (_at(Delivery, msg_open, OLD), _at(Delivery, msg_done, NEW))
    sale_open = SalesOrder.objects.create(dealership=dealership, customer=customer, manager=staff, number=f"S-{n}A")
    sale_done = SalesOrder.objects.create(
        dealership=dealership, customer=customer, manager=staff, number=f"S-{n}B", status="shipped"
    )
    rows["sales_order"] = (_at(SalesOrder, sale_open, OLD), _at(SalesOrder, sale_done, NEW))
    part = Part.objects.create(dealership=dealership, number=f"P-{n}", name="Фильтр", price=Decimal("500"))
    ret = {
        "dealership": dealership, "customer": customer, "part": part, "quantity": 1, "received_on": OLD.date(),
        "requested_on": OLD.date(), "deadline": NEW.date(), "reason": "quality_defect", "resolution": "refund",
        "description": "Течёт", "created_by": staff,
    }  # fmt: skip
    rows["return"] = (
        _at(ReturnRequest, ReturnRequest.objects.create(**ret), OLD),
        _at(ReturnRequest, ReturnRequest.objects.create(**ret, status="completed"), NEW),
    )
    visit = {
        "dealership": dealership, "advisor": staff, "customer": customer, "vehicle": vehicle, "reason": "ТО",
        "area": "mechanical",
    }  # fmt: skip
    appt_open = Appointment.objects.create(**visit, starts_at=OLD, ends_at=OLD, handover_at=OLD)
    appt_done = Appointment.objects.create(**visit, starts_at=NEW, ends_at=NEW, handover_at=NEW, status="arrived")
    rows["appointment"] = (appt_open, appt_done)
    wo = {"dealership": dealership, "customer": customer, "vehicle": vehicle, "advisor": staff}
    wo_open = WorkOrder.objects.create(**wo, number=f"W-{n}A", mileage_in=15000 + n, arrived_at=NEW)
    wo_done = WorkOrder.objects.create(**wo, number=f"W-{n}B", mileage_in=12000 + n, arrived_at=OLD, status="delivered")
    rows["work_order"] = (_at(WorkOrder, wo_open, OLD), _at(WorkOrder, wo_done, NEW))
    today = timezone.localdate()
    loan = {"dealership": dealership, "customer": customer, "appointment": appt_open}
    rows["loan"] = (
        LoanerReservation.objects.create(
            **loan, loaner=LoanerFactory(dealership=dealership), starts_on=today - datetime.timedelta(days=30),
            ends_on=today + datetime.timedelta(days=1),
        ),
        LoanerReservation.objects.create(
            **loan, loaner=LoanerFactory(dealership=dealership), starts_on=today - datetime.timedelta(days=3),
            ends_on=today - datetime.timedelta(days=2), status="cancelled",
        ),
    )  # fmt: skip
    complaint = {
        "dealership": dealership, "channel": "phone", "customer": customer, "vehicle": vehicle, "description": "Шум"
    }  # fmt: skip
    rows["complaint"] = (
        Complaint.objects.create(**complaint, number=f"C-{n}A", received_at=OLD),
        Complaint.objects.create(**complaint, number=f"C-{n}B", received_at=NEW, status="closed"),
    )
    goodwill = {
        "dealership": dealership, "customer": customer, "vehicle": vehicle, "description": "Просьба", "author": staff
    }  # fmt: skip
    rows["goodwill_claim"] = (
        _at(GoodwillClaim, GoodwillClaim.objects.create(**goodwill, number=f"G-{n}A"), OLD),
        _at(GoodwillClaim, GoodwillClaim.objects.create(**goodwill, number=f"G-{n}B", status="paid"), NEW),
    )
    warranty = {
        "dealership": dealership, "customer": customer, "vehicle": vehicle, "work_order_id": wo_done.pk,
        "work_order_number": wo_done.number, "job_id": 1, "job_description": "Замена насоса", "mileage": 12000,
        "failure_date": OLD.date(), "failure_code": "F1", "causal_part_number": "44310", "description": "Течь",
        "engineer": staff, "labour_hours": 1, "labour_rate": 1000,
    }  # fmt: skip
    rows["warranty_claim"] = (
        _at(WarrantyClaim, WarrantyClaim.objects.create(**warranty, number=f"WC-{n}A"), OLD),
        _at(WarrantyClaim, WarrantyClaim.objects.create(**warranty, number=f"WC-{n}B", status="rejected"), NEW),
    )
    return rows


@pytest.fixture
def admin(make_user):
    return make_user(roles.ADMINISTRATOR)


@pytest.fixture
def world(dealership, admin):
    customer = CustomerFactory(dealership=dealership, name="Ольга Петрова")
    vehicle = VehicleFactory(customer=customer, warranty_end=datetime.date(2099, 1, 31))
    campaign = RecallCampaignFactory(dealership=dealership, code="RC-77", title="Подушка безопасности")
    RecallCampaignVin.objects.create(campaign=campaign, vin=vehicle.vin)
    RecallCampaignFactory(dealership=dealership, code="RC-CLOSED", is_open=False).vins.create(vin=vehicle.vin)
    rows = _one_of_each(dealership, customer, vehicle, admin)
    return {"customer": customer, "vehicle": vehicle, "rows": rows, "campaign": campaign}


CUSTOMER_KINDS = [
    "customer_order", "call", "message", "sales_order", "return", "appointment", "work_order", "loan", "complaint",
    "warranty_claim", "goodwill_claim",
]  # fmt: skip
# Issue 17 item 5: the service reminders' section too (empty in this world: no reminder is due).
CARD_SECTIONS = [*CUSTOMER_KINDS, "service_reminder"]
VEHICLE_KINDS = [k for k in CUSTOMER_KINDS if k not in ("sales_order", "return")]


def _section(html: str, kind: str) -> str:
    match = re.search(rf'<section class="card h-100" id="history-{kind}">(.*?)</section>', html, re.S)
    assert match, f"no section {kind}"
    return match.group(1)


def _row_ids(section_html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="history-row[^"]*" data-id="(\d+)"', section_html)]


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_customer_card_lists_each_kind_open_first_then_newest_with_links(client, admin, world, kind):
    client.force_login(admin)
    html = client.get(reverse("core:customer_detail", args=[world["customer"].pk])).content.decode()
    section = _section(html, kind)
    open_row, closed_row = world["rows"][kind]
    # The open record comes first although the closed one is newer (or equally new).
    assert _row_ids(section) == [open_row.pk, closed_row.pk]
    assert 'class="history-row history-open"' in section
    if hasattr(open_row, "get_absolute_url"):
        assert f'href="{open_row.get_absolute_url()}"' in section
    assert str(open_row.get_status_display()) in section


def test_customer_card_shows_times_in_the_dealership_zone_and_the_users_language(client, admin, world):
    client.force_login(admin)
    url = reverse("core:customer_detail", args=[world["customer"].pk])
    ru = _section(client.get(url).content.decode(), "work_order")
    assert "02.03.2026 01:30" in ru  # created 1 March 22:30 UTC = 2 March 01:30 in Moscow
    client.cookies["django_language"] = "en"
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Work orders" in en and "Delivered" in _section(en, "work_order")


def test_vehicle_card_adds_recalls_service_history_and_warranty_end(client, admin, world):
    client.force_login(admin)
    html = client.get(reverse("core:vehicle_detail", args=[world["vehicle"].pk])).content.decode()
    for kind in VEHICLE_KINDS:
        _section(html, kind)
    assert "history-sales_order" not in html and "history-return" not in html  # they name no vehicle
    recalls = _section(html, "recall")
    assert "RC-77" in recalls and "RC-CLOSED" not in recalls
    # The service history: the visits in date order with the mileage read at reception.
    visits = _section(html, "service_visit")
    first, second = world["rows"]["work_order"][1], world["rows"]["work_order"][0]
    assert _row_ids(visits) == [first.pk, second.pk]
    assert re.findall(r"(\d[\d\s\xa0]*\d) км", visits) == ["12\xa0000", "15\xa0000"]
    assert 'id="warranty-state"' in html and "31.01.2099" in html


def test_long_sections_show_a_count_and_a_show_all_page(client, admin, world, dealership):
    customer = world["customer"]
    for n in range(1, 4):
        _one_of_each(dealership, customer, world["vehicle"], admin, n=n)
    client.force_login(admin)
    url = reverse("core:customer_detail", args=[customer.pk])
    section = _section(client.get(url).content.decode(), "complaint")
    assert re.search(r'<span class="badge text-bg-secondary" title="[^"]+">8</span>', section)
    assert len(_row_ids(section)) == 5 and "?all=complaint" in section
    full = client.get(url, {"all": "complaint"}).content.decode()
    assert len(_row_ids(_section(full, "complaint"))) == 8
    assert "history-work_order" not in full  # the other sections stay on the card


def test_query_count_does_not_grow_with_the_rows(client, admin, world, dealership):
    client.force_login(admin)
    customer, vehicle = world["customer"], world["vehicle"]
    urls = [reverse("core:customer_detail", args=[customer.pk]), reverse("core:vehicle_detail", args=[vehicle.pk])]
    api = [f"/api/customers/{customer.pk}/history/", f"/api/vehicles/{vehicle.pk}/history/"]
    before = []
    for url in urls + api:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        before.append(len(queries))
    for n in range(1, 4):
        _one_of_each(dealership, customer, vehicle, admin, n=n)
    for url, count in zip(urls + api, before, strict=True):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) == count, url


def test_another_dealerships_customer_and_vehicle_are_404(client, admin, other_dealership):
    stranger = CustomerFactory(dealership=other_dealership)
    car = VehicleFactory(customer=stranger)
    client.force_login(admin)
    assert client.get(reverse("core:customer_detail", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("core:vehicle_detail", args=[car.pk])).status_code == 404
    assert client.get(f"/api/customers/{stranger.pk}/history/").status_code == 404
    assert client.get(f"/api/vehicles/{car.pk}/history/").status_code == 404


def test_a_role_sees_only_the_sections_it_may_see(client, make_user, world):
    inspector = make_user(roles.QUALITY_INSPECTOR)
    client.force_login(inspector)
    html = client.get(reverse("core:customer_detail", args=[world["customer"].pk])).content.decode()
    _section(html, "work_order")
    hidden = {
        "call": "notifications.view_callevent", "message": "notifications.view_delivery",
        "sales_order": "parts.view_salesorder", "goodwill_claim": "claims.view_goodwillclaim",
        "warranty_claim": "claims.view_warrantyclaim",
    }  # fmt: skip
    for kind, permission in hidden.items():
        assert not inspector.has_perm(permission)
        assert f"history-{kind}" not in html
    # Quick actions too: only the forms the role may open.
    may_add = {
        "customer_order": "orders.add_customerorder", "appointment": "service.add_appointment",
        "work_order": "service.add_workorder", "complaint": "claims.add_complaint",
    }  # fmt: skip
    shown = set(re.findall(r'id="action-(\w+)"', html))
    assert shown == {name for name, permission in may_add.items() if inspector.has_perm(permission)}
    assert "appointment" not in shown and "customer_order" not in shown


def test_quick_actions_prefill_their_forms(client, advisor, world):
    customer, vehicle = world["customer"], world["vehicle"]
    client.force_login(advisor)
    html = client.get(reverse("core:vehicle_detail", args=[vehicle.pk])).content.decode()
    actions = dict(re.findall(r'id="action-(\w+)" href="([^"]+)"', html))
    assert set(actions) == {"customer_order", "appointment", "work_order", "complaint"}
    selected = '<option value="{}" selected'
    for name in ("customer_order", "work_order"):
        form = client.get(actions[name].replace("&amp;", "&")).content.decode()
        assert selected.format(customer.pk) in form and selected.format(vehicle.pk) in form, name
    booking = client.get(actions["appointment"].replace("&amp;", "&"))
    assert booking.context["form"].initial["vin"] == vehicle.vin
    assert booking.context["form"].initial["customer"] == customer.pk
    advisor.user_permissions.add(*_perms("claims.add_complaint", "claims.view_complaint"))
    complaint = client.get(actions["complaint"].replace("&amp;", "&")).content.decode()
    assert selected.format(customer.pk) in complaint and selected.format(vehicle.pk) in complaint


def _perms(*names):
    from django.contrib.auth.models import Permission

    return [Permission.objects.get(content_type__app_label=n.split(".")[0], codename=n.split(".")[1]) for n in names]


def test_prefill_ignores_bad_and_foreign_ids(client, advisor, other_dealership):
    foreign = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    client.force_login(advisor)
    for query in ({"customer": foreign.customer_id, "vehicle": foreign.pk}, {"customer": "x", "vehicle": "٣"}):
        booking = client.get(reverse("service:appointment_create"), query)
        assert booking.status_code == 200 and booking.context["form"].initial["vin"] == ""
        for url_name in ("service:workorder_create", "orders:create"):
            page = client.get(reverse(url_name), query)
            assert page.status_code == 200
            for field in ("customer", "vehicle"):
                select = re.search(rf'<select name="{field}".*?</select>', page.content.decode(), re.S).group(0)
                assert " selected" not in select.replace('value="" selected', ""), (url_name, field)


def test_history_api_lists_items_by_kind(api_as, admin, world):
    client = api_as(admin)
    customer = world["customer"]
    body = client.get(f"/api/customers/{customer.pk}/history/").json()
    sections = {s["kind"]: s for s in body["sections"]}
    assert set(sections) == set(CARD_SECTIONS)
    order_open, order_done = world["rows"]["customer_order"]
    items = sections["customer_order"]["items"]
    assert [i["id"] for i in items] == [order_open.pk, order_done.pk]
    assert items[0] | {"at": None} == {
        "kind": "customer_order", "id": order_open.pk, "title": "O-OPEN-0", "status": "not_placed",
        "status_label": "Неразмещён", "date": "2026-03-01", "at": None, "is_open": True,
        "url": f"/orders/{order_open.pk}/", "detail": items[0]["detail"], "mileage": None,
    }  # fmt: skip
    work = sections["work_order"]["items"][1]
    assert work["date"] == "2026-03-02" and work["at"].startswith("2026-03-02T01:30:00+03:00")
    assert work["mileage"] == 12000 and work["is_open"] is False
    vehicle_body = client.get(f"/api/vehicles/{world['vehicle'].pk}/history/", {"limit": 1}).json()
    by_kind = {s["kind"]: s for s in vehicle_body["sections"]}
    assert "service_visit" not in by_kind and "sales_order" not in by_kind
    assert [i["title"] for i in by_kind["recall"]["items"]] == ["RC-77 Подушка безопасности"]
    assert by_kind["work_order"]["total"] == 2 and len(by_kind["work_order"]["items"]) == 1


def test_history_api_respects_section_permissions(api_as, make_user, world):
    body = api_as(make_user(roles.QUALITY_INSPECTOR)).get(f"/api/customers/{world['customer'].pk}/history/").json()
    kinds = {s["kind"] for s in body["sections"]}
    assert "work_order" in kinds and not kinds & {"call", "message", "sales_order", "goodwill_claim", "warranty_claim"}


def test_a_new_customer_card_names_the_empty_kinds_on_one_line(client, admin, dealership):
    customer = CustomerFactory(dealership=dealership)
    client.force_login(admin)
    html = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert 'class="card h-100"' not in html
    assert sorted(re.findall(r"<span data-kind=\"(\w+)\">", html)) == sorted(CARD_SECTIONS)
