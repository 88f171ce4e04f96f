"""Issue 17 item 5: work the customer declined (R30) becomes a call for the advisor of its work order after the
dealership's number of days — one per finding (a database constraint), raised by the beat with ``now`` explicit,
completed with an outcome and an optional satisfaction 1–5 (issue 18 item 6), on pages and over the API."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from dms.core import roles
from service import selectors, services
from service.models import InspectionFinding, ServiceReminder, WorkOrder, WorkOrderJob, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def moment(day: str, hour: int = 10) -> datetime.datetime:
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, hour, tzinfo=MSK)


def work_order(vehicle, advisor, number: str, created: str) -> WorkOrder:
    order = WorkOrder.objects.create(
        dealership=vehicle.dealership, number=number, customer=vehicle.customer, vehicle=vehicle, advisor=advisor,
        status=WorkOrderStatus.IN_REPAIR, arrived_at=moment(created),
    )  # fmt: skip
    WorkOrder.objects.filter(pk=order.pk).update(created_at=moment(created))
    return order


def answered(order: WorkOrder, item: str, *, agreed: bool, day: str, hour: int = 10) -> InspectionFinding:
    """A finding sent to the customer and answered on ``day`` (the job's consent, as finding_decide records it)."""
    job = WorkOrderJob.objects.create(
        work_order=order, description=item, standard_hours=Decimal("1.0"), rate=Decimal("2500"), is_extra=True,
        consent=WorkOrderJob.Consent.AGREED if agreed else WorkOrderJob.Consent.DECLINED,
        consent_at=moment(day, hour), consent_channel="link",
    )  # fmt: skip
    return InspectionFinding.objects.create(
        work_order=order, item=item, colour="red", price=Decimal("4200.00"), job=job, sent_at=moment(day, 9)
    )


@pytest.fixture
def car(dealership):
    return VehicleFactory(customer=CustomerFactory(dealership=dealership, phone="+79161234567"), plate="В777ОР77")


@pytest.fixture
def visit(car, advisor):
    return work_order(car, advisor, "ЗН-1", "2026-03-01")


def test_declined_work_becomes_the_advisors_call_after_the_days(visit, advisor, car):
    wipers = answered(visit, "Щётки стеклоочистителя", agreed=False, day="2026-03-02", hour=23)  # 23:00 Moscow
    answered(visit, "Тормозные колодки", agreed=True, day="2026-03-02")  # agreed: nothing to call about
    # Default 14 days: answered on 2 March (Moscow), due on 16 March — not a day earlier.
    assert services.declined_follow_ups_raise(now=moment("2026-03-15", 23)) == 0
    assert services.declined_follow_ups_raise(now=moment("2026-03-16", 0)) == 1
    follow_up = ServiceReminder.objects.get()
    assert (follow_up.reason, follow_up.finding, follow_up.status) == ("declined", wipers, "call_due")
    assert (follow_up.assignee, follow_up.customer, follow_up.vehicle) == (advisor, car.customer, car)
    assert (follow_up.last_work_order, follow_up.due_on) == (visit, datetime.date(2026, 3, 16))
    # The beat runs again (and again): still one call per finding.
    assert services.declined_follow_ups_raise(now=moment("2026-03-17")) == 0
    assert services.service_follow_ups_raise(now=moment("2026-04-01")) == 0
    assert ServiceReminder.objects.count() == 1
    assert list(selectors.reminder_calls_due(user=advisor, dealership=car.dealership)) == [follow_up]


def test_one_follow_up_per_finding_is_a_database_constraint(visit):
    wipers = answered(visit, "Щётки", agreed=False, day="2026-03-02")
    fields = dict(
        dealership=visit.dealership, vehicle=visit.vehicle, customer=visit.customer, last_work_order=visit,
        reason="declined", finding=wipers, due_on=datetime.date(2026, 3, 16), status="call_due",
        assignee=visit.advisor,
    )  # fmt: skip
    ServiceReminder.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceReminder.objects.create(**fields)
    # Two declined findings of one visit are two calls, and the visit's service reminder is a third row.
    ServiceReminder.objects.create(**{**fields, "finding": answered(visit, "Фильтр", agreed=False, day="2026-03-02")})
    ServiceReminder.objects.create(**{**fields, "finding": None, "reason": "time"})
    assert ServiceReminder.objects.filter(last_work_order=visit).count() == 3


def test_work_agreed_on_a_later_visit_before_the_due_date_raises_nothing(visit, car, advisor):
    answered(visit, "Щётки стеклоочистителя", agreed=False, day="2026-03-02")
    oil = answered(visit, "Замена масла", agreed=False, day="2026-03-02")
    later = work_order(car, advisor, "ЗН-2", "2026-03-10")
    # The customer came back and had the wipers done (same work, any letter case): no call about them.
    WorkOrderJob.objects.create(
        work_order=later, description="щётки стеклоочистителя", standard_hours=Decimal("0.3"), rate=Decimal("2500")
    )
    # A job of the later visit the customer declined again is no reason to skip the oil.
    WorkOrderJob.objects.create(
        work_order=later, description="Замена масла", standard_hours=Decimal("1"), rate=Decimal("2500"),
        consent=WorkOrderJob.Consent.DECLINED, consent_at=moment("2026-03-10"),
    )  # fmt: skip
    assert services.declined_follow_ups_raise(now=moment("2026-03-20")) == 1
    assert ServiceReminder.objects.get().finding == oil


def test_a_job_of_an_earlier_visit_does_not_count_as_done(car, advisor):
    earlier = work_order(car, advisor, "ЗН-0", "2026-01-10")
    WorkOrderJob.objects.create(
        work_order=earlier, description="Щётки", standard_hours=Decimal("0.3"), rate=Decimal("2500")
    )
    answered(work_order(car, advisor, "ЗН-1", "2026-03-01"), "Щётки", agreed=False, day="2026-03-02")
    assert services.declined_follow_ups_raise(now=moment("2026-03-16")) == 1


def test_days_are_the_dealerships_setting_and_zero_turns_it_off(visit, dealership):
    answered(visit, "Щётки", agreed=False, day="2026-03-02")
    services.service_settings_update(actor=None, dealership=dealership, data={"declined_follow_up_days": 0})
    assert services.declined_follow_ups_raise(now=moment("2026-12-31")) == 0
    services.service_settings_update(actor=None, dealership=dealership, data={"declined_follow_up_days": 3})
    assert services.declined_follow_ups_raise(now=moment("2026-03-04")) == 0
    assert services.declined_follow_ups_raise(now=moment("2026-03-05")) == 1
    assert ServiceReminder.objects.get().due_on == datetime.date(2026, 3, 5)


def test_settings_page_edits_the_days(client, make_user, dealership):
    url = reverse("service:follow_up_settings")
    director = make_user(roles.DIRECTOR)
    client.force_login(director)
    assert client.get(url).status_code == 200
    assert (
        client.post(url, {"reminder_months": 12, "reminder_km": 15000, "declined_follow_up_days": 7}).status_code == 403
    )
    admin = make_user(roles.ADMINISTRATOR)
    client.force_login(admin)
    response = client.post(url, {"reminder_months": 12, "reminder_km": 15000, "declined_follow_up_days": 400})
    assert response.status_code == 200 and "declined_follow_up_days" in response.context["form"].errors
    response = client.post(url, {"reminder_months": 6, "reminder_km": 10000, "declined_follow_up_days": 7})
    assert response.status_code == 302
    saved = selectors.service_settings(dealership=dealership)
    assert (saved.reminder_months, saved.reminder_km, saved.declined_follow_up_days) == (6, 10000, 7)


def test_advisor_completes_the_call_on_my_calls_and_the_card_shows_it(client, visit, advisor, car):
    answered(visit, "Щётки стеклоочистителя", agreed=False, day="2026-03-02")
    services.declined_follow_ups_raise(now=moment("2026-03-16"))
    follow_up = ServiceReminder.objects.get()
    client.force_login(advisor)
    page = client.get(reverse("notifications:my_calls")).content.decode()
    assert f'data-reminder="{follow_up.pk}"' in page and 'data-reason="declined"' in page
    assert "Щётки стеклоочистителя" in page
    url = reverse("service:reminder_called", args=[follow_up.pk])
    back = reverse("notifications:my_calls")
    # A score out of range is refused with its message; nothing is recorded.
    response = client.post(url, {"outcome": "reached", "satisfaction": "7", "next": back}, follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and "7" in errors[0]  # "Удовлетворённость клиента (1–5): Выберите корректный вариант. 7 …"
    follow_up.refresh_from_db()
    assert follow_up.status == "call_due"
    response = client.post(url, {"outcome": "booked", "satisfaction": "5", "note": "Приедет в субботу", "next": back})
    assert response.status_code == 302 and response.url == back
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.satisfaction) == ("called", "booked", 5)
    assert (follow_up.called_by, follow_up.note) == (advisor, "Приедет в субботу")
    assert f'data-reminder="{follow_up.pk}"' not in client.get(back).content.decode()
    for card in (
        client.get(reverse("core:vehicle_detail", args=[car.pk])).content.decode(),
        client.get(reverse("core:customer_detail", args=[car.customer_id])).content.decode(),
    ):
        # the pages speak Russian (the user's language)
        assert "Звонок по отказанным работам" in card and "Приедет в субботу" in card and "оценка 5/5" in card
        assert "Записался на визит" in card


def test_service_refuses_a_bad_outcome_or_score(visit, advisor):
    from django.core.exceptions import ValidationError

    answered(visit, "Щётки", agreed=False, day="2026-03-02")
    services.declined_follow_ups_raise(now=moment("2026-03-16"))
    follow_up = ServiceReminder.objects.get()
    for outcome, score, field in (
        ("maybe", None, "outcome"),
        ("reached", 0, "satisfaction"),
        ("reached", "5.5", "satisfaction"),
    ):
        with pytest.raises(ValidationError) as error:
            services.service_reminder_called(actor=advisor, reminder=follow_up, outcome=outcome, satisfaction=score)
        assert field in error.value.message_dict
    services.service_reminder_called(actor=advisor, reminder=follow_up, outcome="unreachable", satisfaction="")
    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.satisfaction) == ("unreachable", None)


def test_api_lists_and_completes_follow_ups(api_as, visit, advisor, make_user, other_dealership, car):
    answered(visit, "Щётки", agreed=False, day="2026-03-02")
    services.declined_follow_ups_raise(now=moment("2026-03-16"))
    follow_up = ServiceReminder.objects.get()
    api = api_as(advisor)
    listed = api.get("/api/service-follow-ups/", {"reason": "declined", "status": "call_due"})
    assert listed.status_code == 200
    row = listed.json()["results"][0]
    assert (row["id"], row["reason"], row["finding_item"], row["finding_price"]) == (
        follow_up.pk, "declined", "Щётки", "4200.00",
    )  # fmt: skip
    assert (row["work_order"], row["due_on"], row["assignee"]["id"]) == (visit.pk, "2026-03-16", advisor.pk)
    assert api.get("/api/service-follow-ups/", {"reason": "time"}).json()["results"] == []
    url = f"/api/service-follow-ups/{follow_up.pk}/called/"
    bad = api.post(url, {"outcome": "reached", "satisfaction": 6}, format="json")
    assert bad.status_code == 400 and "satisfaction" in bad.json()
    assert api.post(url, {"outcome": "nope"}, format="json").status_code == 400
    done = api.post(url, {"outcome": "reached", "satisfaction": 3, "note": "Подумает"}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["outcome"], done.json()["satisfaction"]) == ("called", "reached", 3)
    assert api.post(url, {"outcome": "reached"}, format="json").status_code == 409
    stranger = api_as(make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership]))
    assert stranger.post(url, {"outcome": "reached"}, format="json").status_code == 404
    assert stranger.get("/api/service-follow-ups/").json()["results"] == []
    # Read-only roles list them but may not record the call.
    assert api_as(make_user(roles.DIRECTOR)).post(url, {"outcome": "reached"}, format="json").status_code == 403


def test_beat_task_raises_declined_follow_ups(visit):
    from service.tasks import raise_service_reminders

    answered(visit, "Щётки", agreed=False, day="2026-03-02")
    assert raise_service_reminders.delay(now=moment("2026-03-15").isoformat()).get() == 0
    assert raise_service_reminders.delay(now=moment("2026-03-16").isoformat()).get() == 1
    assert raise_service_reminders.delay(now=moment("2026-03-17").isoformat()).get() == 0


def test_migration_kept_the_due_service_rule_per_visit(visit):
    """The period constraint now holds for service due only: a second reminder of the same visit is refused."""
    fields = dict(
        dealership=visit.dealership, vehicle=visit.vehicle, customer=visit.customer, last_work_order=visit,
        reason="time", due_on=datetime.date(2027, 3, 1), status="call_due", assignee=visit.advisor,
    )  # fmt: skip
    ServiceReminder.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceReminder.objects.create(**{**fields, "reason": "mileage"})
