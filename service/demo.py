"""Demo data for the service pages: advisor's hours, loaners, a recall, two appointments. Idempotent."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from dms.core.models import Vehicle

from . import services
from .models import Appointment, Loaner, RecallCampaign, WorkingHours


def load(*, users, dealership):
    advisor = users["advisor"]
    for weekday in range(6):
        if not WorkingHours.objects.filter(advisor=advisor, weekday=weekday).exists():
            services.working_hours_set(
                actor=users["admin"], dealership=dealership, advisor=advisor, weekday=weekday,
                starts_at=datetime.time(9, 0), ends_at=datetime.time(18, 0),
            )  # fmt: skip
    for plate, make, model in (("А001АА77", "Toyota", "Yaris"), ("А002АА77", "Citroën", "C3")):
        if not Loaner.objects.filter(dealership=dealership, plate=plate).exists():
            services.loaner_create(actor=advisor, dealership=dealership, plate=plate, make=make, model=model)
    if not RecallCampaign.objects.filter(dealership=dealership, code="TMR-2026-01").exists():
        services.recall_campaign_create(
            actor=advisor, dealership=dealership, code="TMR-2026-01", title="Замена газогенератора подушки водителя",
            vin_from="JTDBR32E720010000", vin_to="JTDBR32E720019999",
        )  # fmt: skip
    if Appointment.objects.filter(dealership=dealership).exists():
        return
    tz = dealership.tz
    day = timezone.localtime(timezone.now(), tz).date() + datetime.timedelta(days=1)
    while day.weekday() > 4:
        day += datetime.timedelta(days=1)
    plan = [("JTDBR32E720012345", 10, 0, "Скрип тормозов спереди"), ("VF7SA9HZ8CW123456", 11, 15, "ТО-60")]
    for vin, hour, minute, reason in plan:
        vehicle = Vehicle.objects.filter(dealership=dealership, vin=vin).select_related("customer").first()
        if vehicle is None:
            continue
        start = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)
        try:
            services.appointment_book(
                actor=advisor, dealership=dealership, advisor=advisor, customer=vehicle.customer, vehicle=vehicle,
                reason=reason, area="mechanical", starts_at=start, duration_minutes=30,
                handover_at=start.replace(hour=17),
            )  # fmt: skip
        except ValidationError:
            continue
