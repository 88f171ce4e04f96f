"""R15, R16: the appointment book."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dms.core.models import AuditEntry
from service import selectors, services
from service.models import Appointment, AppointmentSlot, AppointmentStatus, DayOff
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, NOW, at
from .factories import RecallCampaignFactory

pytestmark = pytest.mark.django_db


def test_r16_booking_occupies_consecutive_slots_and_the_handover_slot(book):
    appointment = book(10, 0, duration=45, handover=at(16, 30))
    slots = list(appointment.slots.order_by("starts_at").values_list("starts_at", "kind"))
    assert slots == [
        (at(10, 0), "reception"),
        (at(10, 15), "reception"),
        (at(10, 30), "reception"),
        (at(16, 30), "handover"),
    ]
    assert appointment.ends_at == at(10, 45) and appointment.status == AppointmentStatus.BOOKED
    assert AuditEntry.objects.filter(object_id=appointment.pk, action="created").count() == 1


@pytest.mark.parametrize("minute", [5, 10, 20, 44])
def test_r16_booking_off_the_15_minute_grid_is_refused(book, minute):
    with pytest.raises(ValidationError) as error:
        book(10, minute)
    assert "15-minute grid" in str(error.value.message_dict["starts_at"])
    assert Appointment.objects.count() == 0 and AppointmentSlot.objects.count() == 0


def test_r16_handover_off_grid_or_before_the_job_ends_is_refused(book):
    with pytest.raises(ValidationError) as error:
        book(10, 0, handover=at(16, 10))
    assert "handover_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        book(10, 0, duration=60, handover=at(10, 45))
    assert "handover_at" in error.value.message_dict
    assert Appointment.objects.count() == 0


def test_r16_duration_must_be_whole_slots(book):
    with pytest.raises(ValidationError) as error:
        book(10, 0, duration=20)
    assert "duration_minutes" in error.value.message_dict


def test_r16_third_customer_in_an_hour_is_accepted_the_fourth_refused(book):
    book(10, 0)
    book(10, 15)
    third = book(10, 30)
    assert third.pk
    with pytest.raises(ValidationError) as error:
        book(10, 45)
    message = " ".join(error.value.message_dict["starts_at"])
    assert "3" in message and "10:00" in message and "11:00" in message
    assert Appointment.objects.count() == 3
    # The next hour is free again; a cancelled appointment frees its place in the hour.
    assert book(11, 0).pk
    services.appointment_cancel(actor=third.advisor, appointment=third)
    assert book(10, 45).pk


def test_r16_a_taken_slot_cannot_be_booked_twice(book):
    book(10, 0, duration=30)
    with pytest.raises(ValidationError) as error:
        book(10, 15)
    assert "already booked" in " ".join(error.value.message_dict["starts_at"])


def test_r16_db_constraint_refuses_a_double_booked_slot_even_without_the_service(book):
    first = book(10, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentSlot.objects.create(
            dealership=first.dealership, advisor=first.advisor, starts_at=at(10, 0), appointment=first, kind="reception"
        )


def test_outside_working_hours_and_days_off_are_refused(book, booking_advisor, dealership):
    with pytest.raises(ValidationError) as error:
        book(8, 45)
    assert "working hours" in " ".join(error.value.message_dict["starts_at"])
    with pytest.raises(ValidationError):
        book(17, 45, duration=30)  # runs past 18:00
    with pytest.raises(ValidationError) as error:
        book(10, 0, day=MONDAY + datetime.timedelta(days=5))  # Saturday: no hours
    assert "working hours" in " ".join(error.value.message_dict["starts_at"])
    DayOff.objects.create(dealership=dealership, advisor=booking_advisor, date=MONDAY + datetime.timedelta(days=1))
    with pytest.raises(ValidationError) as error:
        book(10, 0, day=MONDAY + datetime.timedelta(days=1))
    assert "day off" in " ".join(error.value.message_dict["starts_at"])


def test_booking_in_the_past_is_refused(book):
    with pytest.raises(ValidationError) as error:
        book(10, 0, now=at(10, 0))
    assert "future" in " ".join(error.value.message_dict["starts_at"])


def test_r15_customer_vehicle_and_reason_are_required(booking_advisor, dealership, vehicle):
    with pytest.raises(ValidationError) as error:
        services.appointment_book(
            actor=booking_advisor,
            dealership=dealership,
            advisor=booking_advisor,
            customer=None,
            vehicle=None,
            reason="  ",
            area="mechanical",
            starts_at=at(10),
            handover_at=at(16),
            now=NOW,
        )
    assert set(error.value.message_dict) == {"customer", "vehicle", "reason"}


def test_foreign_vehicle_or_non_advisor_is_refused(book, dealership, other_dealership, make_user):
    foreign = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    with pytest.raises(ValidationError) as error:
        book(10, vehicle=foreign)
    assert "vehicle" in error.value.message_dict or "customer" in error.value.message_dict
    from dms.core import roles

    inspector = make_user(roles.QUALITY_INSPECTOR)
    with pytest.raises(ValidationError) as error:
        book(10, advisor=inspector)
    assert "not a service advisor" in " ".join(error.value.message_dict["advisor"])


def test_r15_repeat_visit_for_the_same_reason_within_the_period_is_flagged(book, dealership):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    first = book(10, 0, vehicle=vehicle, reason="Стук в передней подвеске")
    assert first.is_repeat_visit is False
    again = book(10, 0, vehicle=vehicle, reason="стук передней подвески снова", day=MONDAY + datetime.timedelta(days=7))
    assert again.is_repeat_visit is True and again.repeat_of == first
    other_reason = book(11, 0, vehicle=vehicle, reason="Замена масла", day=MONDAY + datetime.timedelta(days=8))
    assert other_reason.is_repeat_visit is False


def test_r15_repeat_visit_period_is_configurable(book, dealership, advisor):
    services.service_settings_update(actor=advisor, dealership=dealership, data={"repeat_visit_days": 5})
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    book(10, 0, vehicle=vehicle, reason="Стук в подвеске")
    later = book(10, 0, vehicle=vehicle, reason="Стук в подвеске", day=MONDAY + datetime.timedelta(days=7))
    assert later.is_repeat_visit is False
    within = book(11, 0, vehicle=vehicle, reason="Стук в подвеске", day=MONDAY + datetime.timedelta(days=3))
    assert within.is_repeat_visit is True


def test_r15_open_recall_campaigns_for_the_vin_are_attached_at_booking(book, dealership):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership), vin="JTDBR32E720012345")
    by_range = RecallCampaignFactory(dealership=dealership, vin_from="JTDBR32E720010000", vin_to="JTDBR32E720019999")
    by_list = RecallCampaignFactory(dealership=dealership)
    by_list.vins.create(vin="JTDBR32E720012345")
    RecallCampaignFactory(dealership=dealership, vin_from="JTDBR32E720020000", vin_to="JTDBR32E720029999")
    RecallCampaignFactory(
        dealership=dealership, is_open=False, vin_from="JTDBR32E720010000", vin_to="JTDBR32E72001999Z"
    )
    appointment = book(10, vehicle=vehicle)
    assert set(appointment.recall_campaigns.all()) == {by_range, by_list}


def test_recall_csv_import_is_all_or_nothing(advisor, dealership):
    good = (
        "code;title;vin;vin_from;vin_to\n"
        "RC1;Подушка;JTDBR32E720012345;;\n"
        "RC1;Подушка;;JTDBR32E720010000;JTDBR32E720019999\n"
        "RC2;Ремень;VF7SA9HZ8CW123456;;\n"
    )
    result = services.recall_campaigns_import_csv(actor=advisor, dealership=dealership, text=good)
    assert result == {"created": 2, "updated": 0, "vins": 2}
    rc1 = selectors.recall_campaign_list(dealership_ids=[dealership.pk]).get(code="RC1")
    assert rc1.vin_from == "JTDBR32E720010000" and list(rc1.vins.values_list("vin", flat=True)) == ["JTDBR32E720012345"]
    bad = "code,title,vin\nRC3,Тормоза,JTDBR32E720012345\nRC4,,JTDBR32E720012345\nRC5,Свечи,BADVIN\n"
    with pytest.raises(ValidationError) as error:
        services.recall_campaigns_import_csv(actor=advisor, dealership=dealership, text=bad)
    messages = error.value.message_dict["file"]
    assert any("Row 3" in m for m in messages) and any("Row 4" in m for m in messages)
    assert not selectors.recall_campaign_list(dealership_ids=[dealership.pk]).filter(code="RC3").exists()


def test_reschedule_moves_the_slots_and_cancel_frees_them(book):
    appointment = book(10, 0, duration=30)
    moved = services.appointment_reschedule(
        actor=appointment.advisor, appointment=appointment, starts_at=at(12, 0), handover_at=at(17, 0), now=NOW
    )
    assert sorted(moved.slots.values_list("starts_at", flat=True)) == [at(12, 0), at(12, 15), at(17, 0)]
    assert book(10, 0).pk  # old slots are free
    services.appointment_cancel(actor=appointment.advisor, appointment=moved)
    moved.refresh_from_db()
    assert moved.status == AppointmentStatus.CANCELLED and moved.slots.count() == 0


def test_day_slots_show_free_taken_and_full_hours(book, booking_advisor, dealership):
    book(10, 0)
    book(10, 15)
    book(10, 30)
    slots = selectors.advisor_day_slots(dealership=dealership, advisor=booking_advisor, day=MONDAY, now=NOW)
    by_time = {s["time"]: s for s in slots}
    assert slots[0]["time"] == "09:00" and slots[-1]["time"] == "17:45" and len(slots) == 36
    assert by_time["10:00"]["free"] is False and by_time["10:00"]["kind"] == "reception"
    assert by_time["10:45"]["free"] is True and by_time["10:45"]["bookable"] is False  # hour full (R16)
    assert by_time["11:00"]["bookable"] is True
