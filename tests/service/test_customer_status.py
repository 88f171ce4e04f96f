"""Issue 17: the customer's status link (dms.core.links), the status page, remote approval of findings (R30)."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dms.core import links
from dms.core.exceptions import ConflictError
from dms.core.formatting import format_money
from dms.core.models import AuditEntry, CustomerLink
from notifications.models import Delivery
from service import selectors, services
from service.models import FindingConsent, InspectionFinding, WorkOrderJob, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import at

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def photo(name="brakes.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def customer(dealership):
    return CustomerFactory(dealership=dealership, name="Ирина Волкова", preferred_channel="sms")


@pytest.fixture
def work_order(book, booking_advisor, customer):
    vehicle = VehicleFactory(customer=customer, mileage=30000)
    appointment = book(10, 0, vehicle=vehicle, reason="ТО-3")
    wo = services.reception_check_in(
        actor=booking_advisor,
        appointment=appointment,
        mileage=31000,
        fuel_level="1/2",
        customer_words="ТО",
        now=at(10, 0),
    )
    services.workorder_job_add(actor=booking_advisor, work_order=wo, description="ТО-3", standard_hours=Decimal("2"))
    services.workorder_start_diagnosis(actor=booking_advisor, work_order=wo)
    wo.refresh_from_db()
    return wo


@pytest.fixture
def findings(work_order, booking_advisor):
    brakes = services.finding_create(
        actor=booking_advisor,
        work_order=work_order,
        item="Передние тормозные колодки",
        colour="red",
        comment="Износ 90%",
        price=Decimal("6500"),
        photos=[photo()],
    )
    wipers = services.finding_create(
        actor=booking_advisor, work_order=work_order, item="Щётки стеклоочистителя", colour="amber", price="1200"
    )
    tyres = services.finding_create(actor=booking_advisor, work_order=work_order, item="Шины", colour="green")
    return brakes, wipers, tyres


def status_link(customer, **kwargs) -> links.IssuedLink:
    return links.link_issue(customer=customer, purpose="status", channel="sms", **kwargs)


# -- the building block -------------------------------------------------------------------------------------------
def test_a_link_resolves_to_its_customer_and_counts_its_opening(customer):
    issued = status_link(customer)
    assert issued.url.endswith(f"/c/{issued.token}/") and len(issued.token) < 45
    link = links.link_resolve(issued.token, purposes=["status"])
    assert link.customer == customer
    link.refresh_from_db()
    assert link.open_count == 1 and link.last_opened_at is not None


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: str(int(t.split(".")[0]) + 1) + t[t.index(".") :],  # another row's id
        lambda t: t.split(".")[0] + ".xxxxxxxx." + t.split(".")[2],  # the nonce
        lambda t: "",
        lambda t: "1.2",
        lambda t: "9" * 40 + ".a.b",
    ],
)
def test_a_tampered_token_is_refused_as_invalid(customer, edit):
    issued = status_link(customer)
    status_link(customer)  # the next id exists too
    with pytest.raises(links.LinkRefused) as refused:
        links.link_resolve(edit(issued.token), purposes=["status"])
    assert refused.value.reason == "invalid" and refused.value.status == 403


def test_expired_revoked_and_other_purpose_links_are_refused(customer, advisor):
    now = timezone.now()
    issued = status_link(customer, days=2, now=now)
    assert links.link_resolve(issued.token, purposes=["status"], now=now + datetime.timedelta(days=1))
    with pytest.raises(links.LinkRefused) as refused:
        links.link_resolve(issued.token, purposes=["status"], now=now + datetime.timedelta(days=2, seconds=1))
    assert refused.value.reason == "expired" and refused.value.status == 410
    with pytest.raises(links.LinkRefused) as refused:
        links.link_resolve(issued.token, purposes=["appointment_reply"])
    assert refused.value.reason == "invalid"
    assert links.links_revoke(actor=advisor, customer=customer) == 1
    with pytest.raises(links.LinkRefused) as refused:
        links.link_resolve(issued.token, purposes=["status"])
    assert refused.value.reason == "revoked"
    assert CustomerLink.objects.get().revoked_by == advisor
    assert AuditEntry.objects.filter(object_id=customer.pk, message__startswith="customer's links revoked").exists()


# -- every message carries the link ---------------------------------------------------------------------------------
def test_every_sms_and_email_to_a_customer_carries_a_status_link(customer, dealership, mailoutbox, capsys):
    from notifications import services as notification_services

    emailed = CustomerFactory(dealership=dealership, preferred_channel="email", language="en")
    for who in (customer, emailed):
        notification_services.customer_notify(actor=None, customer=who, subject="Тест", body="Привет", reference="t1")
    # Sent by the eager task after commit in production; here the sending task runs directly.
    from notifications.tasks import send_delivery

    for delivery in Delivery.objects.order_by("pk"):
        send_delivery.delay(delivery.pk)
    sms, email = Delivery.objects.order_by("pk")
    sms_link, email_link = CustomerLink.objects.order_by("pk")
    assert sms.body.startswith("Привет\nhttp") or sms.body.startswith("Привет\n/c/")
    assert sms.body.endswith(f"/c/{links.sign(sms_link)}/")
    assert (sms_link.channel, sms_link.sent_with, sms_link.customer) == ("sms", f"delivery:{sms.pk}", customer)
    assert f"/c/{links.sign(sms_link)}/" in capsys.readouterr().out  # the console backend sent the body with it
    assert "Your orders, repairs and appointments:" in email.body and email_link.channel == "email"
    assert mailoutbox[0].body == email.body


# -- the status page --------------------------------------------------------------------------------------------------
def test_status_page_shows_work_order_stages_estimate_and_appointment(client, customer, work_order, findings):
    customer.language = "en"
    customer.save()
    response = client.get(status_link(customer).url)
    body = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert work_order.number in body and 'aria-current="step"' in body
    assert "Estimate" in body
    # unsent findings needing a decision are not shown; the green one is, for information
    assert "Передние тормозные колодки" not in body and "Шины" in body


def test_status_page_speaks_the_browser_language_when_the_customer_has_none(client, customer, work_order):
    url = status_link(customer).url
    assert "Work order" in client.get(url, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert "维修" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "Заказ-наряд" in client.get(url).content.decode()


def test_status_page_shows_customer_orders_arrival_and_where_to_collect(client, customer, advisor, parts_manager):
    from orders import services as order_services
    from parts.models import Part, Supplier

    dealership = customer.dealership
    dealership.address = "Москва, Ленинградское ш., 1"
    dealership.save()
    filter_part = Part.objects.create(dealership=dealership, number="04152-YZZA1", name="Фильтр", price=Decimal("890"))
    supplier = Supplier.objects.create(dealership=dealership, name="ТМР", delivery_days=7, return_days=30)
    order = order_services.customer_order_create(
        actor=advisor,
        dealership=dealership,
        customer=customer,
        vehicle=VehicleFactory(customer=customer),
        kind="commercial",
        lines=[{"part": filter_part, "quantity": 2}],
        parts_manager=parts_manager,
        long_term_agreed=True,
    )
    placed = datetime.datetime(2030, 3, 1, 10, 0, tzinfo=dealership.tz)
    order = order_services.customer_order_place(
        actor=parts_manager,
        order=order,
        supplier=supplier,
        supplier_order_number="TMR-1",
        expected_at=datetime.date(2030, 3, 6),
        now=placed,
    )
    url = status_link(customer).url
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert order.number in body and "Promised" in body and "on the way" in body
    order_services.customer_order_receive(
        actor=parts_manager,
        order=order,
        lines=[{"line": order.lines.get().pk, "quantity": 2}],
        now=datetime.datetime(2030, 3, 5, 12, 0, tzinfo=dealership.tz),
    )
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "arrived" in body and "Москва, Ленинградское ш., 1" in body
    assert "04.04.2030" in body or "04/04/2030" in body or "2030-04-04" in body or "Apr" in body


# -- remote approval (R30) --------------------------------------------------------------------------------------------
def test_findings_are_sent_and_each_becomes_extra_work_awaiting_consent(work_order, findings, booking_advisor):
    result = services.findings_send(actor=booking_advisor, work_order=work_order)
    brakes, wipers, tyres = (InspectionFinding.objects.get(pk=f.pk) for f in findings)
    assert [f.pk for f in result["sent"]] == [brakes.pk, wipers.pk]
    assert brakes.job.consent == WorkOrderJob.Consent.PENDING and brakes.job.labour_amount == Decimal("6500.00")
    assert tyres.job is None and tyres.sent_at is None
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.AWAITING_APPROVAL
    delivery = result["delivery"]
    assert delivery.channel == "sms" and "2" in delivery.body
    with pytest.raises(ConflictError):
        services.findings_send(actor=booking_advisor, work_order=work_order)
    with pytest.raises(ConflictError):
        services.finding_update(actor=booking_advisor, finding=brakes, data={"price": "1"})


def test_findings_message_is_in_the_customers_language_not_the_advisors(work_order, findings, booking_advisor):
    from django.utils import translation

    work_order.customer.language = "en"
    work_order.customer.save()
    with translation.override("ru"):  # the advisor works in Russian
        delivery = services.findings_send(actor=booking_advisor, work_order=work_order)["delivery"]
    assert "we found 2 item(s) that need work" in delivery.body
    assert delivery.subject.startswith("Inspection of your")


def test_finding_validation(work_order, booking_advisor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.finding_create(actor=booking_advisor, work_order=work_order, item="", colour="purple", price="-1")
    assert set(error.value.message_dict) == {"item", "colour", "price"}
    with pytest.raises(ValidationError) as error:
        services.finding_create(actor=booking_advisor, work_order=work_order, item="Колодки", colour="red")
    assert "price" in error.value.message_dict
    fake = SimpleUploadedFile("x.png", b"not a png at all", content_type="image/png")
    with pytest.raises(ValidationError) as error:
        services.finding_create(
            actor=booking_advisor, work_order=work_order, item="Колодки", colour="red", price=1, photos=[fake]
        )
    assert "photos" in error.value.message_dict
    assert InspectionFinding.objects.count() == 0


def test_customer_approves_one_item_and_declines_another_on_the_status_page(
    client, customer, work_order, findings, booking_advisor
):
    services.findings_send(actor=booking_advisor, work_order=work_order)
    brakes, wipers, _tyres = findings
    issued = status_link(customer)
    body = client.get(issued.url).content.decode()
    assert "Передние тормозные колодки" in body and format_money(Decimal("6500"), "RUB") in body
    photo_row = brakes.photos.get()
    photo_url = reverse("service:customer_finding_photo", args=[issued.token, photo_row.pk])
    assert photo_url in body
    assert client.get(photo_url).status_code == 200
    revision_before = work_order.revisions.count()

    response = client.post(issued.url, {"answer": "approve", "finding": brakes.pk})
    # Post/redirect/get: reloading the thank-you page on the phone sends nothing again.
    assert response.status_code == 302 and response["Location"] == f"{issued.url}?answered={brakes.pk}"
    thanks = client.get(response["Location"]).content.decode()
    assert "status-done" in thanks and "Передние тормозные колодки" in thanks
    client.post(issued.url, {"answer": "decline", "finding": wipers.pk})

    brakes.refresh_from_db()
    wipers.refresh_from_db()
    assert brakes.job.consent == "agreed" and wipers.job.consent == "declined"
    consent = FindingConsent.objects.get(finding=brakes)
    assert consent.agreed and consent.link == issued.link and consent.channel == "sms"
    assert consent.price == Decimal("6500.00") and consent.client_address == "127.0.0.1" and consent.at
    assert brakes.job.consent_by == customer.name and "sms" in brakes.job.consent_channel.lower()
    assert work_order.revisions.count() == revision_before + 2  # the work order is revised (R30)
    assert AuditEntry.objects.filter(message="customer declined through the status link: %(item)s").exists()
    # answered once: a second answer is refused with a message, not a 500
    again = client.post(issued.url, {"answer": "decline", "finding": brakes.pk})
    assert again.status_code == 400 and 'id="status-error"' in again.content.decode()
    # the repair may start: nothing waits for consent; the declined item stays on the vehicle's card
    services.workorder_start_repair(actor=booking_advisor, work_order=work_order)
    assert list(selectors.declined_findings(vehicle=work_order.vehicle)) == [wipers]


def test_an_english_speaking_customers_consent_is_recorded_for_the_staff_in_russian(
    client, customer, work_order, findings, booking_advisor
):
    customer.language = "en"
    customer.save()
    services.findings_send(actor=booking_advisor, work_order=work_order)
    issued = status_link(customer)
    response = client.post(issued.url, {"answer": "approve", "finding": findings[0].pk}, follow=True)
    assert "Thank you: your decision" in response.content.decode()  # the customer reads English
    findings[0].refresh_from_db()
    assert findings[0].job.consent_channel.startswith("ссылка на статус (")


def test_a_customer_cannot_answer_another_customers_finding(client, work_order, findings, booking_advisor, dealership):
    services.findings_send(actor=booking_advisor, work_order=work_order)
    stranger = status_link(CustomerFactory(dealership=dealership))
    response = client.post(stranger.url, {"answer": "approve", "finding": findings[0].pk})
    assert response.status_code == 400
    assert FindingConsent.objects.count() == 0
    photo_url = reverse("service:customer_finding_photo", args=[stranger.token, findings[0].photos.get().pk])
    assert client.get(photo_url).status_code == 404


def test_appointment_is_confirmed_from_the_status_page(client, customer, book):
    appointment = book(11, 0, vehicle=VehicleFactory(customer=customer))
    url = status_link(customer).url
    assert f"appointment-{appointment.pk}" in client.get(url).content.decode()
    response = client.post(url, {"answer": "confirm", "appointment": appointment.pk}, follow=True)
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"
    assert response.redirect_chain == [(f"{url}?replied=confirm", 302)]
    assert "Спасибо, ваш визит подтверждён" in response.content.decode()
    # an answer for nothing just recorded shows no thanks
    assert 'id="status-done"' not in client.get(f"{url}?answered=999999").content.decode()


# -- every signed surface refuses tampered, expired and revoked links ------------------------------------------------
def _surfaces(customer, work_order_photo_pk, appointment):
    """(url for a token, purpose, subject) of every page a customer link opens."""
    return [
        (lambda t: reverse("service:customer_status", args=[t]), "status", None),
        (lambda t: reverse("service:customer_finding_photo", args=[t, work_order_photo_pk]), "status", None),
        (lambda t: reverse("service:public_reply", args=[t]), "appointment_reply", appointment.pk),
    ]


@pytest.mark.parametrize("surface", [0, 1, 2])
@pytest.mark.parametrize("how", ["tampered", "expired", "revoked"])
def test_every_signed_surface_refuses_tampered_expired_and_revoked_links(
    client, customer, work_order, findings, booking_advisor, book, advisor, surface, how
):
    services.findings_send(actor=booking_advisor, work_order=work_order)
    appointment = book(12, 0, vehicle=VehicleFactory(customer=customer))
    url_for, purpose, subject = _surfaces(customer, findings[0].photos.get().pk, appointment)[surface]
    issued = links.link_issue(customer=customer, purpose=purpose, subject_id=subject)
    assert client.get(url_for(issued.token)).status_code == 200
    token = issued.token
    if how == "tampered":
        token = token[:-2] + ("zz" if not token.endswith("zz") else "yy")
    elif how == "expired":
        CustomerLink.objects.filter(pk=issued.link.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    else:
        links.links_revoke(actor=advisor, customer=customer)
    response = client.get(url_for(token))
    body = response.content.decode()
    assert response.status_code == {"tampered": 403, "expired": 410, "revoked": 410}[how]
    assert 'id="link-refused"' in body and customer.name not in body and work_order.number not in body
    # a POST through a refused link changes nothing
    client.post(url_for(token), {"answer": "approve", "finding": findings[0].pk})
    assert FindingConsent.objects.count() == 0


def test_refused_links_are_rate_limited_per_address(client, settings):
    for _ in range(links.REFUSALS_PER_HOUR):
        assert client.get(reverse("service:customer_status", args=["1.abc.def"])).status_code == 403
    assert client.get(reverse("service:customer_status", args=["1.abc.def"])).status_code == 429
    # another address is not affected
    other = client.get(reverse("service:customer_status", args=["1.abc.def"]), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 403


# -- staff: revoke from the customer's card ---------------------------------------------------------------------------
def test_advisor_revokes_a_customers_links_from_the_card(client, customer, advisor, make_user):
    from dms.core import roles

    issued = status_link(customer)
    client.force_login(make_user(roles.STOREKEEPER))
    assert client.post(reverse("core:customer_revoke_links", args=[customer.pk])).status_code == 403
    client.force_login(advisor)
    card = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert 'id="revoke-links"' in card
    client.post(reverse("core:customer_revoke_links", args=[customer.pk]))
    assert client.get(issued.url).status_code == 410


def test_findings_page_actions_record_send_and_show_the_answers(client, work_order, booking_advisor):
    client.force_login(booking_advisor)
    url = reverse("service:workorder_action", args=[work_order.pk, "add-finding"])
    client.post(url, {"item": "Колодки", "colour": "red", "price": "6500", "photos": [photo()]})
    client.post(url, {"item": "", "colour": "red", "price": "1"})  # refused with a message
    finding = InspectionFinding.objects.get()
    assert finding.photos.count() == 1
    page = client.get(reverse("service:workorder_detail", args=[work_order.pk])).content.decode()
    assert 'capture="environment"' in page and 'accept="image/*"' in page and "Колодки" in page
    assert client.get(reverse("service:finding_photo", args=[finding.photos.get().pk])).status_code == 200
    client.post(reverse("service:workorder_action", args=[work_order.pk, "send-findings"]))
    finding.refresh_from_db()
    assert finding.sent_at is not None and finding.job.consent == "pending"


# -- API (staff side) -------------------------------------------------------------------------------------------------
def test_api_findings_crud_send_and_revoke_links(api_as, work_order, booking_advisor, customer, make_user):
    from dms.core import roles

    client = api_as(booking_advisor)
    base = f"/api/work-orders/{work_order.pk}"
    created = client.post(
        f"{base}/add-finding/",
        {"item": "Колодки", "colour": "red", "price": "6500", "photos": [photo()]},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    finding = created.json()
    assert finding["colour"] == "red" and len(finding["photos"]) == 1 and finding["sent_at"] is None
    bad = client.post(f"{base}/add-finding/", {"item": "Колодки", "colour": "red"}, format="json")
    assert bad.status_code == 400 and "price" in bad.json()
    changed = client.post(f"{base}/update-finding/", {"finding": finding["id"], "price": "7000"}, format="json")
    assert changed.status_code == 200 and changed.json()["price"] == "7000.00"
    green = client.post(f"{base}/add-finding/", {"item": "Шины", "colour": "green"}, format="json").json()
    assert client.post(f"{base}/remove-finding/", {"finding": green["id"]}, format="json").status_code == 200
    assert client.post(f"{base}/remove-finding/", {"finding": 10**9}, format="json").status_code == 400
    sent = client.post(f"{base}/send-findings/")
    assert sent.status_code == 200 and sent.json()["channel"] == "sms" and len(sent.json()["sent"]) == 1
    assert client.post(f"{base}/send-findings/").status_code == 409
    listed = client.get(f"{base}/findings/").json()
    assert [f["consent"] for f in listed] == ["pending"]
    # the storekeeper may not record findings; revoking links needs core.change_customerlink
    storekeeper = api_as(make_user(roles.STOREKEEPER))
    assert storekeeper.post(f"{base}/add-finding/", {"item": "x", "colour": "green"}, format="json").status_code == 403
    assert storekeeper.post(f"/api/customers/{customer.pk}/revoke-links/").status_code == 403
    issued = status_link(customer)
    revoked = client.post(f"/api/customers/{customer.pk}/revoke-links/")
    assert revoked.status_code == 200 and revoked.json()["revoked"] >= 1
    with pytest.raises(links.LinkRefused):
        links.link_resolve(issued.token, purposes=["status"])
