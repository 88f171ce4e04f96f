"""Demo data for the service pages: advisor's hours, loaners, a recall, appointments (one with a loaner) and work
orders in every state, dated relative to today (issue 14 item 7). Idempotent: a vehicle with a work order is skipped."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from dms.core.models import Vehicle

from . import services
from .models import Appointment, Loaner, LoanerReservation, RecallCampaign, WorkingHours, WorkOrder, WorkOrderStatus

# VIN → the state its work order is left in. The delivered ones (cars in warranty) carry the jobs the warranty
# claims of the claims demo are made from (the wipers left unclaimed, for the warranty engineer to try); the RAV4
# waits for the customer's consent to extra work (R30).
WORK_ORDER_PLAN = [
    ("JTDBR32E720012345", WorkOrderStatus.DELIVERED,
     ["Замена передних тормозных колодок", "Замена свечей", "Диагностика ЭБУ", "Замена салонного фильтра"],
     "Скрип тормозов, троит двигатель"),
    ("JTMHV05J604123456", WorkOrderStatus.DELIVERED,
     ["Замена амортизатора переднего правого", "Замена радиатора", "Ремонт проводки", "Замена щёток стеклоочистителя"],
     "Стук справа, течь антифриза"),
    ("JTNB11HK503123456", WorkOrderStatus.QUALITY_CHECK, ["ТО-30", "Замена воздушного фильтра"], "Плановое ТО"),
    ("VF7NC9HP0DY123456", WorkOrderStatus.READY, ["Замена масла"], "Замена масла"),
    ("LSGJA52U4CS123456", WorkOrderStatus.IN_REPAIR, ["Замена тормозных дисков"], "Бьёт руль при торможении"),
    ("JTEBU3FJ705123456", WorkOrderStatus.AWAITING_APPROVAL, ["Диагностика подвески"], "Стук в подвеске"),
    ("VF7SA9HZ8CW123456", WorkOrderStatus.DIAGNOSIS, ["Компьютерная диагностика"], "Горит Check Engine"),
    ("LSGPC52U6AF123456", WorkOrderStatus.OPENED, [], "Не заводится с утра"),
]  # fmt: skip
# How far each state gets along R30/R31; the delivered cars came in a week ago and left three days later.
STEPS = [
    WorkOrderStatus.OPENED,
    WorkOrderStatus.DIAGNOSIS,
    WorkOrderStatus.IN_REPAIR,
    WorkOrderStatus.QUALITY_CHECK,
    WorkOrderStatus.READY,
    WorkOrderStatus.DELIVERED,
]


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
    _work_orders(users=users, dealership=dealership)
    _service_reminders(users=users, dealership=dealership)
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
            appointment = services.appointment_book(
                actor=advisor, dealership=dealership, advisor=advisor, customer=vehicle.customer, vehicle=vehicle,
                reason=reason, area="mechanical", starts_at=start, duration_minutes=30,
                handover_at=start.replace(hour=17),
            )  # fmt: skip
        except ValidationError:
            continue
        loaner = Loaner.objects.filter(dealership=dealership, plate="А002АА77").first()
        if reason == "ТО-60" and loaner is not None and not LoanerReservation.objects.filter(loaner=loaner).exists():
            # R18: the customer in for the 60,000 km service gets a loaner for the day of the visit.
            services.loaner_reserve(
                actor=advisor, appointment=appointment, loaner=loaner, driver_licence="77 01 123456"
            )


def _work_orders(*, users, dealership) -> None:
    advisor, inspector = users["advisor"], users["inspector"]
    now = timezone.now()
    for vin, target, jobs, complaint in WORK_ORDER_PLAN:
        vehicle = Vehicle.objects.filter(dealership=dealership, vin=vin).select_related("customer").first()
        if vehicle is None or WorkOrder.objects.filter(vehicle=vehicle).exists():
            continue
        delivered = target == WorkOrderStatus.DELIVERED
        arrived = now - datetime.timedelta(days=7 if delivered else 0, hours=0 if delivered else 2)
        wo = services.workorder_open(
            actor=advisor, dealership=dealership, customer=vehicle.customer, vehicle=vehicle, complaint=complaint
        )
        if target == WorkOrderStatus.OPENED:
            continue  # a walk-in waiting for its reception
        services.workorder_record_reception(
            actor=advisor, work_order=wo, mileage=vehicle.mileage + 1200, fuel_level="1/2",
            customer_words=complaint, now=arrived,
        )  # fmt: skip
        added = [
            services.workorder_job_add(actor=advisor, work_order=wo, description=text, standard_hours=1 + i % 2)
            for i, text in enumerate(jobs)
        ]
        services.workorder_start_diagnosis(actor=advisor, work_order=wo)
        if target == WorkOrderStatus.AWAITING_APPROVAL:
            # Extra work found at diagnosis: the work order waits for the customer's consent (R30).
            services.workorder_job_add(
                actor=advisor, work_order=wo, description="Замена сайлентблоков передних рычагов", standard_hours=3
            )
            continue
        _advance(wo, added, target=target, advisor=advisor, inspector=inspector, at=arrived)


def _advance(wo, jobs, *, target, advisor, inspector, at) -> None:
    """Walk the R31 path from diagnosis up to ``target``."""
    reached = STEPS.index(target)
    if reached >= STEPS.index(WorkOrderStatus.IN_REPAIR):
        services.workorder_start_repair(actor=advisor, work_order=wo)
    if reached >= STEPS.index(WorkOrderStatus.QUALITY_CHECK):
        for job in jobs:
            services.workorder_job_complete(actor=advisor, job=job, now=at + datetime.timedelta(days=2))
        services.workorder_submit_for_quality_check(
            actor=advisor, work_order=wo, technician="Петров А. В.", now=at + datetime.timedelta(days=2)
        )
    if reached >= STEPS.index(WorkOrderStatus.READY):
        services.workorder_quality_check(
            actor=inspector, work_order=wo, passed=True, checked_jobs=jobs, now=at + datetime.timedelta(days=3)
        )
    if reached >= STEPS.index(WorkOrderStatus.DELIVERED):
        services.workorder_deliver(
            actor=advisor, work_order=wo, signed_by=wo.customer.name, now=at + datetime.timedelta(days=4)
        )


def _service_reminders(*, users, dealership) -> None:
    """Issue 17 item 5: a car last serviced 13 months ago (a paper-era visit recorded as delivered) is due for
    service: the daily beat raises its reminder — a message, or the advisor's call for a customer who prefers the
    phone."""
    from .models import ServiceReminder

    if ServiceReminder.objects.filter(dealership=dealership).exists():
        return
    vehicle = Vehicle.objects.filter(dealership=dealership, work_orders__isnull=True).select_related("customer").first()
    if vehicle is None:
        return
    visited = timezone.now() - datetime.timedelta(days=396)
    WorkOrder.objects.create(
        dealership=dealership, number="ЗН-АРХ-1", customer=vehicle.customer, vehicle=vehicle,
        advisor=users["advisor"], status=WorkOrderStatus.DELIVERED, complaint="ТО-45", arrived_at=visited,
        mileage_in=max(vehicle.mileage - 14000, 0), delivered_at=visited + datetime.timedelta(hours=5),
    )  # fmt: skip
    services.service_reminders_raise()
