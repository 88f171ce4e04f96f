"""Demo data for the service pages: advisor's hours, loaners, a recall, appointments (one with a loaner) and work
orders in every state, dated relative to today (issue 14 item 7). Idempotent: a vehicle with a work order is skipped."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from dms.core.models import Vehicle

from . import selectors, services
from .models import (
    Appointment,
    JobKind,
    Loaner,
    LoanerReservation,
    OnlineBooking,
    RecallCampaign,
    TechnicianAbsence,
    TechnicianProfile,
    WorkingHours,
    WorkOrder,
    WorkOrderStatus,
)
from .services import online_booking

# Issue 18: the workshop's technicians — (user, grade, skills, Saturday too); kinds of job shared by the dealerships.
TECHNICIANS = [
    ("mechanic", 4, ["Техническое обслуживание", "Тормозная система", "Двигатель"], True),
    ("mechanic2", 2, ["Техническое обслуживание", "Подвеска", "Электрика"], False),
]

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
# Issue 18 item 3: the kind of job (a technician's skill) of the work still to do — the open work orders' jobs and the
# coming appointments — so the load page and the appointment book's load line count it per skill.
KIND_OF_JOB = {
    "Замена тормозных дисков": "Тормозная система",
    "Диагностика подвески": "Подвеска",
    "Замена сайлентблоков передних рычагов": "Подвеска",
    "Компьютерная диагностика": "Электрика",
    "Скрип тормозов спереди": "Тормозная система",
    "ТО-60": "Техническое обслуживание",
}


def _kind(text: str) -> JobKind | None:
    name = KIND_OF_JOB.get(text)
    return JobKind.objects.get_or_create(name=name)[0] if name else None


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
    _technicians(users=users, dealership=dealership)
    _work_orders(users=users, dealership=dealership)
    _findings(users=users, dealership=dealership)
    _online_booking(users=users, dealership=dealership)
    _service_reminders(users=users, dealership=dealership)
    _declined_follow_up(dealership=dealership)
    if Appointment.objects.filter(dealership=dealership, booked_online=False).exists():
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
                handover_at=start.replace(hour=17), planned_hours=3 if reason == "ТО-60" else 2,
                planned_kind=_kind(reason),
            )  # fmt: skip
        except ValidationError:
            continue
        loaner = Loaner.objects.filter(dealership=dealership, plate="А002АА77").first()
        if reason == "ТО-60" and loaner is not None and not LoanerReservation.objects.filter(loaner=loaner).exists():
            # R18: the customer in for the 60,000 km service gets a loaner for the day of the visit.
            services.loaner_reserve(
                actor=advisor, appointment=appointment, loaner=loaner, driver_licence="77 01 123456"
            )


DEMO_BOOKING_CODE = "246810"


def _online_booking(*, users, dealership) -> None:
    """Issue 17 item 4: the public booking page is on (/book/demo-moscow/, embeddable on the dealership's demo site)
    and a customer booked a visit there (the SMS code of the demo is fixed, so the real path books it)."""
    services.service_settings_update(
        actor=users["admin"],
        dealership=dealership,
        data={"online_booking": True, "booking_embed_origins": "https://dealer.example.ru"},
    )
    if OnlineBooking.objects.filter(dealership=dealership).exists():
        return
    now = timezone.now()
    day = timezone.localtime(now, dealership.tz).date() + datetime.timedelta(days=2)
    while day.weekday() > 4:
        day += datetime.timedelta(days=1)
    try:
        booking = services.online_booking_request(
            dealership=dealership, name="Ольга Смирнова", phone=PhoneNumber.from_string("+79165550123"),
            vin="XW8ZZZ61ZJG054321", make="Škoda", model="Octavia", plate="М777ОС77",
            reason="ТО-45000 и замена летних шин", starts_at=datetime.datetime.combine(day, datetime.time(12, 0),
            tzinfo=dealership.tz), language="ru", now=now,
        )  # fmt: skip
        OnlineBooking.objects.filter(pk=booking.pk).update(
            code_hash=online_booking._hash_code(DEMO_BOOKING_CODE, "demo")
        )
        services.online_booking_verify(booking=booking, code=DEMO_BOOKING_CODE, now=now)
    except ValidationError:
        return  # the demo's grid is full that day: the page still works


def _work_orders(*, users, dealership) -> None:
    advisor, inspector = users["advisor"], users["inspector"]
    now = timezone.now()
    for vin, target, jobs, complaint in WORK_ORDER_PLAN:
        vehicle = Vehicle.objects.filter(dealership=dealership, vin=vin).select_related("customer").first()
        if vehicle is None or WorkOrder.objects.filter(vehicle=vehicle).exists():
            continue
        delivered = target == WorkOrderStatus.DELIVERED
        arrived = now - datetime.timedelta(days=7 if delivered else 0, hours=0 if delivered else 2)
        if target in (WorkOrderStatus.QUALITY_CHECK, WorkOrderStatus.READY):
            # Its jobs are done two days after arrival (_advance): the car came in four days ago, so the jobs, their
            # clocks and the checks lie in the past, not the days ahead (issue 18: efficiency and KPIs of the week).
            arrived = now - datetime.timedelta(days=4)
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
            services.workorder_job_add(
                actor=advisor, work_order=wo, description=text, standard_hours=1 + i % 2, kind=_kind(text)
            )
            for i, text in enumerate(jobs)
        ]
        services.workorder_start_diagnosis(actor=advisor, work_order=wo)
        if target == WorkOrderStatus.AWAITING_APPROVAL:
            # Extra work found at diagnosis: the work order waits for the customer's consent (R30).
            services.workorder_job_add(
                actor=advisor,
                work_order=wo,
                description="Замена сайлентблоков передних рычагов",
                standard_hours=3,
                kind=_kind("Замена сайлентблоков передних рычагов"),
            )
            continue
        _advance(wo, added, target=target, advisor=advisor, inspector=inspector, at=arrived)


def _advance(wo, jobs, *, target, advisor, inspector, at) -> None:
    """Walk the R31 path from diagnosis up to ``target``."""
    reached = STEPS.index(target)
    if reached >= STEPS.index(WorkOrderStatus.IN_REPAIR):
        services.workorder_start_repair(actor=advisor, work_order=wo)
    technicians = [p.user for p in TechnicianProfile.objects.filter(dealership=wo.dealership).order_by("pk")]
    if reached == STEPS.index(WorkOrderStatus.IN_REPAIR) and technicians:
        # Issue 18: the car in repair — its job given to the first technician, who is clocked in on it now.
        for job in jobs:
            services.job_assign(actor=advisor, job=job, technician=technicians[0])
        services.job_clock_start(actor=technicians[0], job=jobs[0], now=timezone.now() - datetime.timedelta(hours=1))
    if reached >= STEPS.index(WorkOrderStatus.QUALITY_CHECK):
        for n, job in enumerate(jobs):
            done = at + datetime.timedelta(days=2)
            if technicians:
                # Issue 18: clocked by a technician (a little under or over the sold hours), then finished.
                tech = technicians[n % len(technicians)]
                services.job_assign(actor=advisor, job=job, technician=tech)
                minutes = int(job.standard_hours * 60) + (-15 if n % 2 else 20)
                services.job_clock_start(actor=tech, job=job, now=done - datetime.timedelta(minutes=minutes + 5 * n))
                services.job_clock_finish(actor=tech, job=job, now=done - datetime.timedelta(minutes=5 * n))
            else:
                services.workorder_job_complete(actor=advisor, job=job, now=done)
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


def _technicians(*, users, dealership) -> None:
    """Issue 18: two technicians with skills, Monday-to-Friday hours (one also on Saturday), one on leave next week."""
    director = users["director"]
    for username, grade, skills, saturday in TECHNICIANS:
        user = users.get(username)
        if user is None or TechnicianProfile.objects.filter(dealership=dealership, user=user).exists():
            continue
        kinds = [JobKind.objects.get_or_create(name=name)[0] for name in skills]
        profile = services.technician_create(
            actor=director, dealership=dealership, user=user, certification_level=grade, skills=kinds
        )
        for weekday in range(6 if saturday else 5):
            services.technician_hours_set(
                actor=director, technician=profile, weekday=weekday, starts_at=datetime.time(9),
                ends_at=datetime.time(15 if weekday == 5 else 18), break_minutes=0 if weekday == 5 else 60,
            )  # fmt: skip
        if not saturday:
            today = timezone.localdate()
            monday = today + datetime.timedelta(days=7 - today.weekday())
            services.technician_absence_create(
                actor=director, technician=profile, kind=TechnicianAbsence.Kind.VACATION, starts_on=monday,
                ends_on=monday + datetime.timedelta(days=4), reason="Ежегодный отпуск",
            )  # fmt: skip


def _demo_photo(name: str, rgb: tuple[int, int, int]):
    """A small solid-colour PNG standing in for a tablet's photo (the demo ships no binary files)."""
    import struct
    import zlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    width, height = 64, 48

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile(name, png, content_type="image/png")


def _findings(*, users, dealership) -> None:
    """Issue 17: the car waiting for approval has its inspection findings sent to the customer; the customer declined
    the wiper blades through the status link (they stay on the vehicle's card) and has not answered on the brake
    pads."""
    from decimal import Decimal

    from dms.core import links

    from .models import InspectionFinding

    wo = WorkOrder.objects.filter(dealership=dealership, vehicle__vin="JTEBU3FJ705123456").first()
    if wo is None or InspectionFinding.objects.filter(work_order=wo).exists():
        return
    if wo.status != WorkOrderStatus.AWAITING_APPROVAL:
        return
    advisor, inspector = users["advisor"], users["inspector"]
    services.finding_create(
        actor=inspector, work_order=wo, item="Передние тормозные колодки", colour="red",
        comment="Остаток накладки 2 мм, на диске начинается задир.", price=Decimal("6800"),
        photos=[_demo_photo("kolodki.png", (170, 60, 50))],
    )  # fmt: skip
    wipers = services.finding_create(
        actor=inspector, work_order=wo, item="Щётки стеклоочистителя", colour="amber",
        comment="Оставляют полосы, резина растрескалась.", price=Decimal("1450"),
        photos=[_demo_photo("shchetki.png", (200, 160, 40))],
    )  # fmt: skip
    services.finding_create(
        actor=inspector, work_order=wo, item="Шины", colour="green", comment="Протектор 6 мм, износ равномерный."
    )
    services.findings_send(actor=advisor, work_order=wo)
    link = links.link_issue(customer=wo.customer, purpose="status", channel="sms", sent_with="demo")
    wipers.refresh_from_db()
    services.finding_decide(link=link.link, finding=wipers, agreed=False, client_address="192.0.2.10")


def _declined_follow_up(*, dealership) -> None:
    """Issue 17 item 5: the declined wiper blades become the advisor's call — the daily beat as it runs once the
    dealership's days have passed (the call shows on the advisor's home page and «Мои звонки» now, due then)."""
    from .models import ReminderReason, ServiceReminder

    if ServiceReminder.objects.filter(dealership=dealership, reason=ReminderReason.DECLINED).exists():
        return
    days = selectors.service_settings(dealership=dealership).declined_follow_up_days
    services.declined_follow_ups_raise(now=timezone.now() + datetime.timedelta(days=days))


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
