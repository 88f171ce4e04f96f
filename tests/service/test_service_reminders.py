"""Issue 17 item 5: service due by time or mileage raises one reminder per vehicle and period — a message, or the
advisor's call; ``now`` explicit."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse

from notifications.models import Delivery
from service import selectors, services
from service.models import ServiceReminder, WorkOrder, WorkOrderStatus
from service.services.reminders import add_months, estimate_mileage, service_due
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db
MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def moment(day: str, hour: int = 10) -> datetime.datetime:
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, hour, tzinfo=MSK)


def visit(vehicle, advisor, day: str, km: int | None, *, delivered=True) -> WorkOrder:
    at = moment(day)
    return WorkOrder.objects.create(
        dealership=vehicle.dealership, number=f"ЗН-{day}", customer=vehicle.customer, vehicle=vehicle,
        advisor=advisor, status=WorkOrderStatus.DELIVERED if delivered else WorkOrderStatus.IN_REPAIR,
        arrived_at=at, mileage_in=km, delivered_at=at + datetime.timedelta(hours=6) if delivered else None,
    )  # fmt: skip


@pytest.fixture
def car(dealership):
    return VehicleFactory(customer=CustomerFactory(dealership=dealership, preferred_channel="sms"), plate="А123ВС77")


def test_add_months_keeps_the_end_of_month():
    assert add_months(datetime.date(2025, 1, 31), 1) == datetime.date(2025, 2, 28)
    assert add_months(datetime.date(2025, 3, 15), 12) == datetime.date(2026, 3, 15)


def test_mileage_is_estimated_from_the_readings():
    readings = [(datetime.date(2025, 1, 1), 10000), (datetime.date(2025, 7, 1), 28100)]  # 100 km a day
    estimated, per_day = estimate_mileage(readings, datetime.date(2025, 7, 11))
    assert (estimated, round(per_day)) == (29100, 100)
    assert estimate_mileage(readings[:1], datetime.date(2025, 7, 11)) is None  # one reading tells nothing
    assert (
        estimate_mileage([(datetime.date(2025, 1, 1), 1), (datetime.date(2025, 1, 10), 900)], datetime.date(2025, 2, 1))
        is None
    )


def test_due_by_time_or_by_mileage_whichever_first():
    visit_day = datetime.date(2025, 1, 1)
    slow = [(datetime.date(2024, 1, 1), 0), (visit_day, 3650)]  # 10 km a day
    due = service_due(
        visit_day=visit_day, visit_km=3650, readings=slow, today=datetime.date(2026, 1, 1), months=12, km=15000
    )
    assert (due.reason, due.due_on) == ("time", datetime.date(2026, 1, 1))
    assert (
        service_due(
            visit_day=visit_day, visit_km=3650, readings=slow, today=datetime.date(2025, 12, 31), months=12, km=15000
        )
        is None
    )
    fast = [(datetime.date(2024, 1, 1), 0), (visit_day, 36600)]  # 100 km a day: 15,000 km in 150 days
    due = service_due(
        visit_day=visit_day, visit_km=36600, readings=fast, today=datetime.date(2025, 6, 1), months=12, km=15000
    )
    assert (due.reason, due.due_on, due.estimated_mileage) == ("mileage", datetime.date(2025, 5, 31), 51700)
    assert (
        service_due(visit_day=visit_day, visit_km=36600, readings=fast, today=datetime.date(2025, 6, 1), months=0, km=0)
        is None
    )


def test_time_reminder_is_a_message_once_per_period(car, advisor, django_capture_on_commit_callbacks):
    visit(car, advisor, "2024-03-01", 20000)
    assert services.service_reminders_raise(now=moment("2025-02-28")) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.service_reminders_raise(now=moment("2025-03-01")) == 1
    reminder = ServiceReminder.objects.get()
    assert (reminder.reason, reminder.status, reminder.assignee) == ("time", "sent", advisor)
    delivery = Delivery.objects.get(reference=f"service-due:{reminder.pk}")
    assert delivery.channel == "sms" and "А123ВС77" in delivery.body and delivery.status == "sent"
    # The beat runs again (and again): nothing more for this period.
    assert services.service_reminders_raise(now=moment("2025-03-02")) == 0
    assert services.service_reminders_raise(now=moment("2025-06-01")) == 0
    assert ServiceReminder.objects.count() == 1 and Delivery.objects.count() == 1
    # A new visit opens a new period.
    visit(car, advisor, "2025-03-10", 31000)
    assert services.service_reminders_raise(now=moment("2025-06-01")) == 0
    assert services.service_reminders_raise(now=moment("2026-03-10")) == 1


def test_mileage_reminder_from_the_reception_history(car, advisor):
    visit(car, advisor, "2024-01-10", 10000)
    visit(car, advisor, "2024-07-08", 28000)  # 100 km a day
    visit(car, advisor, "2024-09-01", None, delivered=False)  # still in the workshop: not a visit that counts
    assert services.service_reminders_raise(now=moment("2024-11-01")) == 0  # ~39,600 km < 43,000
    assert services.service_reminders_raise(now=moment("2024-12-20")) == 1  # ~44,500 km
    reminder = ServiceReminder.objects.get()
    assert reminder.reason == "mileage" and reminder.estimated_mileage > 43000
    assert reminder.due_on == datetime.date(2024, 12, 5)  # 150 days at 100 km a day after 8 July


def test_phone_customer_becomes_the_advisors_call(car, advisor, client):
    car.customer.preferred_channel = "phone"
    car.customer.save()
    visit(car, advisor, "2024-03-01", 20000)
    services.service_reminders_raise(now=moment("2025-03-05"))
    reminder = ServiceReminder.objects.get()
    assert reminder.status == "call_due" and not Delivery.objects.exists()
    client.force_login(advisor)
    home = client.get(reverse("home")).content.decode()
    assert f'data-reminder="{reminder.pk}"' in home
    response = client.post(
        reverse("service:reminder_called", args=[reminder.pk]),
        {"outcome": "booked", "note": "Запишется на ТО", "satisfaction": "4", "next": "/"},
    )
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert (reminder.status, reminder.called_by, reminder.note) == ("called", advisor, "Запишется на ТО")
    assert (reminder.outcome, reminder.satisfaction) == ("booked", 4)
    assert client.post(reverse("service:reminder_called", args=[reminder.pk])).status_code == 302  # 409 as a message
    assert list(selectors.reminder_calls_due(user=advisor, dealership=car.dealership)) == []
    card = client.get(reverse("core:vehicle_detail", args=[car.pk])).content.decode()
    assert "Запишется на ТО" in card


def test_dealership_can_turn_reminders_off(car, advisor, dealership):
    visit(car, advisor, "2024-03-01", 20000)
    services.service_settings_update(actor=None, dealership=dealership, data={"reminder_months": 0, "reminder_km": 0})
    assert services.service_reminders_raise(now=moment("2026-03-05")) == 0


def test_another_dealerships_reminder_is_404(car, advisor, make_user, other_dealership, client):
    car.customer.preferred_channel = "phone"
    car.customer.save()
    visit(car, advisor, "2024-03-01", 20000)
    services.service_reminders_raise(now=moment("2025-03-05"))
    client.force_login(make_user(dealerships=[other_dealership]))
    reminder = ServiceReminder.objects.get()
    assert client.post(reverse("service:reminder_called", args=[reminder.pk])).status_code == 404


def test_beat_task_takes_now(car, advisor):
    from service.tasks import raise_service_reminders

    visit(car, advisor, "2024-03-01", 20000)
    assert raise_service_reminders.delay(now=moment("2025-03-05").isoformat()).get() == 1
    assert raise_service_reminders.delay(now=moment("2025-03-06").isoformat()).get() == 0
