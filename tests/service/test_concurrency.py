"""R16/R18 under concurrency: two people booking the same thing at the same moment (real PostgreSQL threads)."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from dms.core import roles
from service import services
from service.models import Appointment, AppointmentSlot, LoanerReservation
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, NOW, at
from .factories import LoanerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is asserted by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def _booker(actor, advisor, dealership, vehicle, start, handover):
    def call():
        return services.appointment_book(
            actor=actor,
            dealership=dealership,
            advisor=advisor,
            customer=vehicle.customer,
            vehicle=vehicle,
            reason="ТО",
            area="express",
            starts_at=start,
            handover_at=handover,
            duration_minutes=30,
            now=NOW,
        )

    return call


def test_r16_two_advisors_booking_the_same_slot_at_once_get_one_booking(dealership, make_user, working_week):
    target = working_week(make_user(roles.SERVICE_ADVISOR))
    colleague = make_user(roles.SERVICE_ADVISOR)
    v1 = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    v2 = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    results = run_concurrently(
        _booker(target, target, dealership, v1, at(10, 0), at(16, 0)),
        _booker(colleague, target, dealership, v2, at(10, 15), at(16, 15)),
    )
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert Appointment.objects.count() == 1
    assert AppointmentSlot.objects.filter(starts_at=at(10, 15)).count() == 1


def test_r16_racing_for_the_third_place_in_an_hour_books_only_one(dealership, make_user, working_week):
    advisor = working_week(make_user(roles.SERVICE_ADVISOR))
    for n, minute in enumerate((0, 15)):
        v = VehicleFactory(customer=CustomerFactory(dealership=dealership))
        services.appointment_book(
            actor=advisor, dealership=dealership, advisor=advisor, customer=v.customer, vehicle=v, reason="ТО",
            area="express", starts_at=at(10, minute), handover_at=at(15, 15 * n), now=NOW,
        )  # fmt: skip
    v3 = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    v4 = VehicleFactory(customer=CustomerFactory(dealership=dealership))

    def one_slot(vehicle, minute, handover):
        return lambda: services.appointment_book(
            actor=advisor, dealership=dealership, advisor=advisor, customer=vehicle.customer, vehicle=vehicle,
            reason="ТО", area="express", starts_at=at(10, minute), handover_at=handover, now=NOW,
        )  # fmt: skip

    results = run_concurrently(one_slot(v3, 30, at(16, 0)), one_slot(v4, 45, at(16, 30)))
    assert sum(isinstance(r, Appointment) for r in results) == 1, results
    assert Appointment.objects.filter(starts_at__gte=at(10), starts_at__lt=at(11)).count() == 3


def test_r18_two_reservations_of_one_loaner_at_once_get_one(dealership, make_user, working_week):
    advisor = working_week(make_user(roles.SERVICE_ADVISOR))
    loaner = LoanerFactory(dealership=dealership)
    appointments = []
    for n in range(2):
        v = VehicleFactory(customer=CustomerFactory(dealership=dealership))
        appointments.append(
            services.appointment_book(
                actor=advisor,
                dealership=dealership,
                advisor=advisor,
                customer=v.customer,
                vehicle=v,
                reason="ТО",
                area="body",
                starts_at=at(10, 15 * n),
                handover_at=at(16, 15 * n, MONDAY + datetime.timedelta(days=1)),
                now=NOW,
            )  # fmt: skip
        )
    results = run_concurrently(
        *[lambda a=a: services.loaner_reserve(actor=advisor, appointment=a, loaner=loaner) for a in appointments]
    )
    assert sum(isinstance(r, LoanerReservation) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert LoanerReservation.objects.count() == 1


def test_r18_two_loaners_for_one_appointment_at_once_get_one(dealership, make_user, working_week):
    """Issue 14 item 2: two advisors reserve different cars for the same appointment at the same moment."""
    advisor = working_week(make_user(roles.SERVICE_ADVISOR))
    v = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    appointment = services.appointment_book(
        actor=advisor, dealership=dealership, advisor=advisor, customer=v.customer, vehicle=v, reason="ТО",
        area="body", starts_at=at(10), handover_at=at(16), now=NOW,
    )  # fmt: skip
    loaners = [LoanerFactory(dealership=dealership) for _ in range(2)]
    results = run_concurrently(
        *[
            lambda car=car: services.loaner_reserve(actor=advisor, appointment=appointment, loaner=car)
            for car in loaners
        ]
    )
    assert sum(isinstance(r, LoanerReservation) for r in results) == 1, results
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1 and "appointment" in refused[0].message_dict
    assert LoanerReservation.objects.filter(appointment=appointment, status="reserved").count() == 1
