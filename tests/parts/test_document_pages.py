"""Pages of returns (R29) and requisitions (R32): forms go through the services, roles see their buttons."""

import pytest
from django.urls import reverse
from django.utils import timezone

from dms.core import roles
from parts import services
from parts.models import Requisition, ReturnRequest

pytestmark = pytest.mark.django_db


def test_requisition_pages_own_approval_refused_then_issue(
    client, advisor, make_user, dealership, part, receive, work_order
):
    receive(part, 3, cost="100")
    client.force_login(advisor)
    r = client.post(
        reverse("parts:requisition_create"), {"work_order_id": work_order.pk, "part": part.number, "quantity": "1"}
    )
    req = Requisition.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("parts:requisition_detail", args=[req.pk])
    supervisor = make_user(roles.PARTS_MANAGER)
    client.force_login(supervisor)
    assert b"btn-approve" in client.get(reverse("parts:requisition_detail", args=[req.pk])).content
    client.post(reverse("parts:requisition_action", args=[req.pk, "approve"]))
    req.refresh_from_db()
    assert req.status == "approved"
    storekeeper = make_user(roles.STOREKEEPER)
    client.force_login(storekeeper)
    assert client.post(reverse("parts:requisition_action", args=[req.pk, "approve"])).status_code == 403
    client.post(reverse("parts:requisition_action", args=[req.pk, "issue"]))
    req.refresh_from_db()
    assert req.status == "issued"
    page = client.get(reverse("parts:requisition_detail", args=[req.pk]))
    assert page.context["parts_cost"] == 100
    client.post(
        reverse("parts:requisition_action", args=[req.pk, "old_part"]),
        {"part": part.number, "quantity": "1", "condition": "scrap"},
    )
    assert req.old_parts.count() == 1


def test_own_requisition_shows_no_approve_button_and_is_refused(
    client, make_user, dealership, part, receive, work_order
):
    receive(part, 1)
    pm = make_user(roles.PARTS_MANAGER)
    req = services.requisition_create(
        actor=pm, dealership=dealership, work_order_id=work_order.pk, lines=[{"part": part, "quantity": 1}]
    )
    client.force_login(pm)
    assert b"btn-approve" not in client.get(reverse("parts:requisition_detail", args=[req.pk])).content
    response = client.post(reverse("parts:requisition_action", args=[req.pk, "approve"]), follow=True)
    req.refresh_from_db()
    assert req.status == "requested" and any(m.level_tag == "error" for m in response.context["messages"])


def test_return_create_page_refuses_late_request(client, parts_manager, customer, part, receive):
    receive(part, 2)
    client.force_login(parts_manager)
    data = {
        "customer": customer.pk,
        "part": part.number,
        "quantity": "1",
        "received_on": "2020-01-01",
        "reason": "wrong_specification",
        "resolution": "refund",
        "description": "Не тот",
    }
    late = client.post(reverse("parts:return_create"), data)
    assert late.status_code == 200 and late.context["form"].errors["received_on"]
    data["received_on"] = str(timezone.localdate())
    ok = client.post(reverse("parts:return_create"), data)
    request = ReturnRequest.objects.get()
    assert ok.status_code == 302 and request.deadline > timezone.localdate()
    assert client.get(reverse("parts:return_list")).context["page_obj"][0] == request
    client.post(reverse("parts:return_action", args=[request.pk, "approve"]), {"reason": "ok"})
    request.refresh_from_db()
    assert request.status == "approved" and request.freight_payer == "company"
