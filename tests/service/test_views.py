"""Pages: the calendar, booking form, preparation, reception, work order and board; roles and tenancy."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from dms.core import roles
from service import services
from service.models import Appointment, WorkOrder
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import NOW, at

pytestmark = pytest.mark.django_db


def test_calendar_day_and_week_views(client, book, booking_advisor, django_assert_max_num_queries):
    appointment = book(10, 0, duration=30, handover=at(16, 0))
    client.force_login(booking_advisor)
    url = reverse("service:appointment_calendar")
    with django_assert_max_num_queries(40):
        day = client.get(url, {"date": "2030-03-04"})
    html = day.content.decode()
    assert day.status_code == 200 and appointment.customer.name in html and "10:15" in html
    week = client.get(url, {"date": "2030-03-04", "view": "week", "advisor": booking_advisor.pk})
    assert week.status_code == 200 and appointment.customer.name in week.content.decode()
    # Issue 12 item 7: the feed link exists once the advisor issues it (then it is shown with its expiry).
    assert 'id="ics-renew"' in week.content.decode() and "appointments.ics" not in week.content.decode()
    client.post(reverse("service:calendar_feed_renew"))
    week = client.get(url, {"date": "2030-03-04", "view": "week", "advisor": booking_advisor.pk})
    assert "appointments.ics" in week.content.decode()


def test_booking_form_shows_grid_error_and_books(client, booking_advisor, dealership, vehicle):
    client.force_login(booking_advisor)
    url = reverse("service:appointment_create")
    base = {
        "advisor": booking_advisor.pk, "vin": vehicle.vin.lower(), "reason": "ТО", "area": "mechanical",
        "date": "2030-03-04", "duration_minutes": 15, "handover_date": "2030-03-04", "handover_time": "16:00",
    }  # fmt: skip
    bad = client.post(url, {**base, "time": "10:10"})
    assert bad.status_code == 200 and "time" in bad.context["form"].errors
    unknown = client.post(url, {**base, "vin": "JTDBR32E799999999", "time": "10:00"})
    assert "vin" in unknown.context["form"].errors
    assert Appointment.objects.count() == 0
    ok = client.post(url, {**base, "time": "10:00"})
    appointment = Appointment.objects.get()
    assert ok.status_code == 302 and ok["Location"] == appointment.get_absolute_url()
    assert appointment.vehicle == vehicle and appointment.customer == vehicle.customer
    assert client.get(appointment.get_absolute_url()).status_code == 200


def test_inspector_cannot_book_and_director_cannot_act(client, make_user, book):
    appointment = book(10, 0)
    client.force_login(make_user(roles.QUALITY_INSPECTOR))
    assert client.get(reverse("service:appointment_create")).status_code == 403
    client.force_login(make_user(roles.DIRECTOR))
    assert client.get(reverse("service:appointment_calendar")).status_code == 200
    assert client.post(reverse("service:appointment_action", args=[appointment.pk, "cancel"])).status_code == 403


def test_foreign_appointment_is_404(client, booking_advisor, other_dealership, make_user, working_week):
    foreign_advisor = working_week(make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership]))
    v = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    foreign = services.appointment_book(
        actor=foreign_advisor, dealership=other_dealership, advisor=foreign_advisor, customer=v.customer, vehicle=v,
        reason="ТО", area="body", starts_at=at(10), handover_at=at(16), now=NOW,
    )  # fmt: skip
    client.force_login(booking_advisor)
    assert client.get(reverse("service:appointment_detail", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("service:appointment_prepare", args=[foreign.pk])).status_code == 404


def test_reception_page_then_work_order_page_flow(client, book, booking_advisor, inspector):
    appointment = book(10, 0)
    client.force_login(booking_advisor)
    url = reverse("service:appointment_reception", args=[appointment.pk])
    bad = client.post(url, {"mileage": "", "fuel_level": "", "customer_words": ""})
    assert bad.status_code == 200 and {"mileage", "fuel_level", "customer_words"} <= set(bad.context["form"].errors)
    r = client.post(url, {"mileage": 5, "fuel_level": "1/2", "customer_words": "Стучит"})
    wo = WorkOrder.objects.get()
    assert r.status_code == 302 and r["Location"] == wo.get_absolute_url() and wo.odometer_rollback is True
    page = client.get(wo.get_absolute_url())
    assert page.status_code == 200 and "rollback-flag" in page.content.decode()
    act = lambda name, **data: client.post(reverse("service:workorder_action", args=[wo.pk, name]), data)  # noqa: E731
    act("add-job", description="ТО", standard_hours="1.0")
    act("start-diagnosis")
    act("add-job", description="Диски", standard_hours="2")
    wo.refresh_from_db()
    assert wo.status == "awaiting_approval"
    r = act("start-repair")
    messages = [str(m) for m in list(r.wsgi_request._messages)]
    assert any("согласия клиента" in m for m in messages)  # R30: repair waits for the consent
    extra = wo.jobs.get(is_extra=True)
    act("consent", job=extra.pk, agreed="yes", given_by="Клиент", channel="телефон")
    act("start-repair")
    for job in wo.jobs.all():
        act("complete-job", job=job.pk)
    act("submit-quality-check", technician="Петров")
    assert act("quality-check", result="pass", checked_jobs=[j.pk for j in wo.jobs.all()]).status_code == 403
    client.force_login(inspector)
    act("quality-check", result="pass", checked_jobs=[j.pk for j in wo.jobs.all()])
    client.force_login(booking_advisor)
    act("deliver", signed_by="Клиент")
    wo.refresh_from_db()
    assert wo.status == "delivered" and wo.total == Decimal("7500.00")
    pdf = client.get(reverse("service:workorder_pdf", args=[wo.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_lists_board_and_schedule_pages(client, book, booking_advisor, dealership, django_assert_max_num_queries):
    appointment = book(10, 0)
    services.appointment_open_work_order(actor=booking_advisor, appointment=appointment)
    client.force_login(booking_advisor)
    for name in ("workorder_list", "appointment_list", "workshop_board", "loaner_list", "recall_list", "schedule",
                 "preparation_list", "confirmation_calls"):  # fmt: skip
        with django_assert_max_num_queries(40):
            assert client.get(reverse(f"service:{name}")).status_code == 200, name
    found = client.get(reverse("service:workorder_list"), {"q": appointment.vehicle.vin[-6:]})
    assert len(found.context["page_obj"]) == 1
    client.post(reverse("service:schedule"), {"kind": "day_off", "advisor": booking_advisor.pk, "date": "2030-03-04"})
    assert not booking_advisor.days_off.exists()  # has appointments that day: refused with a message
    client.post(reverse("service:schedule"), {"kind": "day_off", "advisor": booking_advisor.pk, "date": "2030-03-05"})
    assert booking_advisor.days_off.get().date == datetime.date(2030, 3, 5)


def test_recall_csv_upload_page(client, booking_advisor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(booking_advisor)
    upload = SimpleUploadedFile("r.csv", "code;title;vin\nRC9;Ремень;JTDBR32E720012345\n".encode())
    r = client.post(reverse("service:recall_list"), {"file": upload})
    assert r.status_code == 302
    assert "RC9" in client.get(reverse("service:recall_list")).content.decode()


def test_demo_loader_is_idempotent(db):
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    counts = (Appointment.objects.count(), WorkOrder.objects.count())
    call_command("load_demo", verbosity=0)
    assert (Appointment.objects.count(), WorkOrder.objects.count()) == counts
    assert Appointment.objects.count() == 3 and Appointment.objects.first().recall_campaigns.count() == 1
    # Issue 17 item 4: one of them booked by the customer on the public page, through the SMS code.
    online = Appointment.objects.get(booked_online=True)
    assert online.online_booking.status == "booked" and online.vehicle.customer == online.customer


def test_demo_work_to_do_carries_its_kind_of_job_so_the_load_counts_it_per_skill(db):
    """Issue 18 item 3 on the demo: the open work orders' jobs and the coming appointments name the skill they need,
    so /workshop/load/ shows hours per skill, not 0 everywhere."""
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from service import workshop
    from service.models import JobClock, WorkOrderJob

    call_command("load_demo", verbosity=0)
    # Every job the demo finished, and every clock, lies in the past (efficiency and KPIs read them by date).
    now = timezone.now()
    assert not WorkOrderJob.objects.filter(done_at__gt=now).exists()
    assert not JobClock.objects.filter(started_at__gt=now).exists()
    assert not JobClock.objects.filter(ended_at__gt=now).exists()
    running = WorkOrderJob.objects.select_related("kind").get(description="Замена тормозных дисков")
    assert running.kind.name == "Тормозная система" and running.technician.username == "mechanic"
    booked = Appointment.objects.filter(booked_online=False).select_related("planned_kind", "dealership")
    assert {(a.reason, a.planned_kind.name) for a in booked} == {
        ("Скрип тормозов спереди", "Тормозная система"),
        ("ТО-60", "Техническое обслуживание"),
    }
    dealership = booked[0].dealership
    day = timezone.localtime(booked[0].starts_at, dealership.tz).date()
    load = workshop.workshop_load(dealership=dealership, date_from=day, date_to=day + datetime.timedelta(days=0))[0]
    by_skill = {s.name: s.load for s in load.skills}
    assert by_skill["Тормозная система"] >= Decimal("2") and by_skill["Техническое обслуживание"] >= Decimal("3")


def test_r10_board_puts_waiting_lot_cars_with_parts_arrived_today_first(book, booking_advisor, dealership):
    from django.utils import timezone

    from orders.models import CustomerOrder
    from service import selectors
    from tests.service.factories import PartFactory

    a1, a2 = book(10, 0), book(10, 15)
    first = services.appointment_open_work_order(actor=booking_advisor, appointment=a1)
    waiting = services.appointment_open_work_order(actor=booking_advisor, appointment=a2)
    from orders import services as order_services

    order = order_services.customer_order_create(
        actor=booking_advisor, dealership=dealership, customer=waiting.customer, vehicle=waiting.vehicle,
        kind="commercial", lines=[{"part": PartFactory(dealership=dealership), "quantity": Decimal("1")}],
    )  # fmt: skip
    CustomerOrder.objects.filter(pk=order.pk).update(status="received", received_at=timezone.now())
    WorkOrder.objects.filter(pk=waiting.pk).update(on_waiting_lot=True, customer_order=order)
    opened = next(c for c in selectors.workshop_board(dealership=dealership) if c["status"] == "opened")
    assert [wo.pk for wo in opened["orders"]] == [waiting.pk, first.pk]
    assert opened["orders"][0].parts_arrived_today is True


def test_board_column_shows_its_first_cards_and_links_to_the_rest(
    client, book, booking_advisor, dealership, monkeypatch, django_assert_num_queries
):
    """Issue 19: a column holds its first BOARD_COLUMN_CARDS cards in R10 order, counts them all, and links to the
    work order list of its status for the rest — a dealership with years of unclosed work orders drew them all."""
    from django.utils import timezone

    from orders import services as order_services
    from orders.models import CustomerOrder
    from service import selectors
    from tests.service.factories import PartFactory

    opened = [services.appointment_open_work_order(actor=booking_advisor, appointment=book(10, m)) for m in (0, 15, 30)]
    waiting = opened[2]
    order = order_services.customer_order_create(
        actor=booking_advisor, dealership=dealership, customer=waiting.customer, vehicle=waiting.vehicle,
        kind="commercial", lines=[{"part": PartFactory(dealership=dealership), "quantity": Decimal("1")}],
    )  # fmt: skip
    CustomerOrder.objects.filter(pk=order.pk).update(status="received", received_at=timezone.now())
    WorkOrder.objects.filter(pk=waiting.pk).update(on_waiting_lot=True, customer_order=order)
    monkeypatch.setattr(selectors, "BOARD_COLUMN_CARDS", 2)
    column = next(c for c in selectors.workshop_board(dealership=dealership) if c["status"] == "opened")
    # R10 first (the waiting car whose parts came today), then by arrival: the third card is not read
    assert [wo.pk for wo in column["orders"]] == [waiting.pk, opened[0].pk]
    assert [wo.parts_arrived_today for wo in column["orders"]] == [True, False]
    assert (column["total"], column["more"]) == (3, 1)
    empty = next(c for c in selectors.workshop_board(dealership=dealership) if c["status"] == "ready")
    assert (empty["orders"], empty["total"], empty["more"]) == ([], 0, 0)
    client.force_login(booking_advisor)
    client.get(reverse("service:workshop_board"))  # the session and caches warm
    with django_assert_num_queries(4):  # identity, the counts per status, the R10 cards, the one column with cards
        page = client.get(reverse("service:workshop_board")).content.decode()
    assert f'href="{reverse("service:workorder_list")}?status=opened"' in page
    assert "Ещё 1 заказ-наряд" in page or "1 more work order" in page
    assert opened[1].number not in page and waiting.number in page and opened[0].number in page
