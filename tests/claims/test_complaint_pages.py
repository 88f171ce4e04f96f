"""Complaint pages: permissions (403), dealership isolation (404), search, pagination, public form (R33, R24)."""

import datetime
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from claims import services
from claims.forms import PublicComplaintForm
from claims.models import Complaint, ComplaintStatus
from dms.core import roles
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def make_complaint(actor, vehicle, **kwargs):
    data = {"channel": "phone", "description": "Шум в салоне"}
    data.update(kwargs)
    return services.complaint_register(actor=actor, dealership=vehicle.dealership, vehicle=vehicle, **data)


def test_advisor_registers_a_complaint_through_the_page(client, advisor, vehicle):
    client.force_login(advisor)
    response = client.get(reverse("claims:complaint_create"))
    assert response.status_code == 200 and "id_channel" in response.content.decode()
    response = client.post(
        reverse("claims:complaint_create"),
        {"channel": "in_person", "customer": vehicle.customer.pk, "vehicle": vehicle.pk, "description": "Грязный салон",
         "severity": "normal"},
    )  # fmt: skip
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response.url == complaint.get_absolute_url()
    assert complaint.channel == "in_person" and complaint.registered_by == advisor


def test_bad_intake_shows_messages_and_saves_nothing(client, advisor, vehicle):
    client.force_login(advisor)
    response = client.post(
        reverse("claims:complaint_create"),
        {"channel": "phone", "description": "Пожар", "severity": "emergency", "involves_media": "on"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "invalid-feedback" in html
    assert Complaint.objects.count() == 0


def test_pages_render_for_each_step(client, advisor, make_user, vehicle):
    engineer = make_user(roles.WARRANTY_ENGINEER)
    complaint = make_complaint(advisor, vehicle, severity="emergency", emergency_kind="vehicle_fire")
    client.force_login(engineer)
    for name in ("complaint_detail", "complaint_update", "complaint_assign"):
        assert client.get(reverse(f"claims:{name}", args=[complaint.pk])).status_code == 200
    response = client.post(
        reverse("claims:complaint_assign", args=[complaint.pk]),
        {"category": "part_quality", "department": "warranty", "assignee": engineer.pk,
         "deadline": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    response = client.post(reverse("claims:complaint_investigate", args=[complaint.pk]))
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING
    detail = client.get(complaint.get_absolute_url()).content.decode()
    assert "emergency-checklist" in detail
    # Closing before a solution: the form shows the conflict and nothing changes.
    response = client.post(
        reverse("claims:complaint_close", args=[complaint.pk]), {"closing_report": "x", "satisfaction": "5"}
    )
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING


def test_advisor_cannot_assign_or_close_403_and_foreign_dealership_404(client, advisor, vehicle, make_user,
                                                                       other_dealership):  # fmt: skip
    complaint = make_complaint(advisor, vehicle)
    client.force_login(advisor)
    assert client.get(reverse("claims:complaint_assign", args=[complaint.pk])).status_code == 403
    assert client.get(reverse("claims:complaint_close", args=[complaint.pk])).status_code == 403
    detail = client.get(complaint.get_absolute_url()).content.decode()
    assert reverse("claims:complaint_assign", args=[complaint.pk]) not in detail
    stranger = make_user(roles.WARRANTY_ENGINEER, dealerships=[other_dealership])
    client.force_login(stranger)
    assert client.get(complaint.get_absolute_url()).status_code == 404
    assert client.get(reverse("claims:complaint_assign", args=[complaint.pk])).status_code == 404
    storekeeper = make_user(roles.STOREKEEPER)
    client.force_login(storekeeper)
    assert client.get(reverse("claims:complaint_list")).status_code == 403


def test_list_search_filters_and_pagination(client, advisor, dealership, django_assert_max_num_queries):
    for n in range(30):
        vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership, name=f"Клиент-{n:02d}"))
        make_complaint(advisor, vehicle)
    client.force_login(advisor)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("claims:complaint_list"))
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 30
    assert len(response.context["page_obj"]) == 25
    response = client.get(reverse("claims:complaint_list"), {"q": "Клиент-07"})
    assert [c.display_name for c in response.context["page_obj"]] == ["Клиент-07"]
    response = client.get(reverse("claims:complaint_list"), {"overdue": "1"})
    assert response.context["page_obj"].paginator.count == 0


def _public_post(client, dealership, started=None, **overrides):
    data = {
        "name": "Ольга",
        "phone": "+7 916 000-11-22",
        "email": "",
        "vin": "",
        "description": "Долго ждала машину",
        "website": "",
        "started": started or signing.dumps(time.time() - 30, salt=PublicComplaintForm.SALT),
    }
    data.update(overrides)
    return client.post(reverse("claims:public_complaint", args=[dealership.code]), data)


def test_public_form_without_login_registers_a_web_form_complaint(client, dealership):
    assert client.get(reverse("claims:public_complaint", args=[dealership.code])).status_code == 200
    response = _public_post(client, dealership)
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert complaint.number in response.content.decode()
    assert complaint.channel == "web_form" and complaint.contact_phone == "+7 916 000-11-22"
    assert client.get(reverse("claims:public_complaint", args=["nope"])).status_code == 404


def test_public_form_drops_honeypot_and_too_fast_submissions(client, dealership):
    assert _public_post(client, dealership, website="http://spam.example").status_code == 200
    too_fast = signing.dumps(time.time(), salt=PublicComplaintForm.SALT)
    assert _public_post(client, dealership, started=too_fast).status_code == 200
    assert Complaint.objects.count() == 0
    response = _public_post(client, dealership, started="forged")
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    assert Complaint.objects.count() == 0


def test_public_form_is_rate_limited_per_ip(client, dealership, settings):
    settings.CLAIMS_PUBLIC_COMPLAINTS_PER_HOUR = 2
    assert _public_post(client, dealership).status_code == 200
    assert _public_post(client, dealership).status_code == 200
    assert _public_post(client, dealership).status_code == 429
    assert Complaint.objects.count() == 2
    other = client.__class__(REMOTE_ADDR="10.1.2.3")
    assert _public_post(other, dealership).status_code == 200
    assert Complaint.objects.count() == 3
