"""Issue 18 item 6: the rows the staff-KPI tests count, and the figures they expect — written out by hand from the
definitions in claims/staff_kpi.py's docstring, never computed by it.

October 2025 in the dealership's time zone (Europe/Moscow). Advisor «Иванова» (``advisor``) has:

* sales orders shipped 5 Oct (2 × 1000 + 1 × 500) and 31 Oct 23:30 (3 × 100); one shipped 1 Nov 00:30 and one
  cancelled don't count → 2 orders, 3 lines, 2 800.00;
* returns against her orders: one approved (10 Oct), one refused (11 Oct, not counted), one asked 2 Nov (outside)
  → 1 return, 1/3 lines = 33.3 %;
* a work order delivered 15 Oct with jobs of 1.5 h (in the order), 2.0 h (agreed) and 1.0 h (declined); one delivered
  in November and one still in repair don't count → 1 work order, 3.50 h;
* complaints received in October and assigned to her: closed on time (satisfaction 5), closed late (2), open past
  its deadline → 3 complaints, 1 on time of 3 judged = 33.3 %, satisfaction (5 + 2) / 2 = 3.5;
* call events due in October: done on the day, done 2 days late, still open (missed), cancelled (not counted)
  → 3 due, 1 on time of 3 settled = 33.3 %.

The storekeeper issued one requisition of 2 lines on 20 Oct → 2 lines issued. A parts manager of the *other*
dealership shipped one order (1 × 700) in October: the director (both dealerships) sees him, the advisor does not.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from dms.core import roles
from tests.factories import CustomerFactory, UserFactory
from tests.orders.factories import CustomerOrderFactory, PartFactory
from tests.service.factories import make_work_order

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
PERIOD = "2025-10"
NOW = datetime.datetime(2025, 12, 1, 12, 0, tzinfo=MSK)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2025, month, day, hour, minute, tzinfo=MSK)


EXPECTED_ADVISOR = {
    "sales_orders": 2,
    "sales_lines": 3,
    "sales_amount": Decimal("2800.00"),
    "issued_lines": 0,
    "work_orders": 1,
    "labour_hours": Decimal("3.50"),
    "returns": 1,
    "return_rate": 33.3,
    "complaints": 3,
    "complaints_on_time": 1,
    "complaint_on_time_rate": 33.3,
    "satisfaction": 3.5,
    "calls_due": 3,
    "calls_on_time": 1,
    "calls_on_time_rate": 33.3,
}


@dataclass
class World:
    advisor: object
    colleague: object
    storekeeper: object
    director: object
    foreign_manager: object
    dealership: object
    other: object


def _sales_order(*, dealership, manager, customer, lines, status, shipped_at=None):
    from parts.models import SalesOrder, SalesOrderLine

    order = SalesOrder.objects.create(
        dealership=dealership, customer=customer, manager=manager, status=status, shipped_at=shipped_at
    )
    for quantity, price in lines:
        part = PartFactory(dealership=dealership)
        SalesOrderLine.objects.create(order=order, part=part, quantity=quantity, unit_price=price)
    return order


def _return(*, order, status, requested_on, creator):
    from parts.models import ReturnRequest

    line = order.lines.first()
    return ReturnRequest.objects.create(
        dealership=order.dealership,
        customer=order.customer,
        sales_order=order,
        part=line.part,
        quantity=1,
        received_on=requested_on - datetime.timedelta(days=2),
        requested_on=requested_on,
        deadline=requested_on + datetime.timedelta(days=5),
        reason=ReturnRequest.Reason.QUALITY,
        resolution=ReturnRequest.Resolution.EXCHANGE,
        description="Брак",
        status=status,
        created_by=creator,
    )


def _work_order(*, dealership, advisor, number, status, delivered_at, jobs):
    from service.models import WorkOrderJob

    wo = make_work_order(
        dealership=dealership, advisor=advisor, number=number, jobs=(), status=status, delivered_at=delivered_at
    )
    for hours, consent in jobs:
        WorkOrderJob.objects.create(
            work_order=wo, description="Работа", standard_hours=hours, rate=Decimal("2500"), consent=consent
        )
    return wo


def _complaint(*, dealership, number, assignee, received_at, deadline, closed_at=None, satisfaction=None):
    from claims.models import Complaint, ComplaintStatus

    return Complaint.objects.create(
        dealership=dealership,
        number=number,
        channel="phone",
        received_at=received_at,
        description="Жалоба",
        assignee=assignee,
        category="repair_quality",
        department="service",
        deadline=deadline,
        closed_at=closed_at,
        satisfaction=satisfaction,
        status=ComplaintStatus.CLOSED if closed_at else ComplaintStatus.ASSIGNED,
    )


def _call(*, order, assignee, due, status="open", done_on=None, kind="arrival"):
    from notifications.models import CallEvent

    done_at = datetime.datetime.combine(done_on, datetime.time(11), tzinfo=MSK) if done_on else None
    return CallEvent.objects.create(
        dealership=order.dealership,
        order=order,
        kind=kind,
        assignee=assignee,
        due_date=due,
        status=status,
        completed_at=done_at,
        completed_on=done_on,
        completed_by=assignee if done_on else None,
        outcome="reached" if done_on else "",
    )


def build(dealership, other) -> World:
    from parts.models import Requisition, RequisitionLine, ReturnRequest, SalesOrder
    from service.models import WorkOrderJob, WorkOrderStatus

    advisor = UserFactory(role=roles.SERVICE_ADVISOR, dealership=[dealership], first_name="Мария", last_name="Иванова")
    colleague = UserFactory(role=roles.SERVICE_ADVISOR, dealership=[dealership], first_name="Олег", last_name="Ким")
    storekeeper = UserFactory(role=roles.STOREKEEPER, dealership=[dealership], first_name="Пётр", last_name="Склад")
    director = UserFactory(
        role=roles.DIRECTOR, dealership=[dealership, other], first_name="Денис", last_name="Директоров"
    )
    foreign_manager = UserFactory(role=roles.PARTS_MANAGER, dealership=[other], first_name="Фёдор", last_name="Чужой")
    customer = CustomerFactory(dealership=dealership)
    shipped, cancelled = SalesOrder.Status.SHIPPED, SalesOrder.Status.CANCELLED
    so1 = _sales_order(
        dealership=dealership,
        manager=advisor,
        customer=customer,
        lines=[(2, Decimal("1000")), (1, Decimal("500"))],
        status=shipped,
        shipped_at=at(10, 5),
    )
    so2 = _sales_order(
        dealership=dealership,
        manager=advisor,
        customer=customer,
        lines=[(3, Decimal("100"))],
        status=shipped,
        shipped_at=at(10, 31, 23, 30),
    )
    _sales_order(
        dealership=dealership,
        manager=advisor,
        customer=customer,
        lines=[(1, Decimal("9999"))],
        status=shipped,
        shipped_at=at(11, 1, 0, 30),
    )
    _sales_order(
        dealership=dealership, manager=advisor, customer=customer, lines=[(5, Decimal("50"))], status=cancelled
    )
    _sales_order(
        dealership=other,
        manager=foreign_manager,
        customer=CustomerFactory(dealership=other),
        lines=[(1, Decimal("700"))],
        status=shipped,
        shipped_at=at(10, 7),
    )
    _return(order=so1, status=ReturnRequest.Status.APPROVED, requested_on=datetime.date(2025, 10, 10), creator=advisor)
    _return(order=so1, status=ReturnRequest.Status.REFUSED, requested_on=datetime.date(2025, 10, 11), creator=advisor)
    _return(order=so2, status=ReturnRequest.Status.REQUESTED, requested_on=datetime.date(2025, 11, 2), creator=advisor)

    included, agreed, declined = (
        WorkOrderJob.Consent.INCLUDED,
        WorkOrderJob.Consent.AGREED,
        WorkOrderJob.Consent.DECLINED,
    )
    _work_order(
        dealership=dealership,
        advisor=advisor,
        number="ЗН-1",
        status=WorkOrderStatus.DELIVERED,
        delivered_at=at(10, 15),
        jobs=[(Decimal("1.5"), included), (Decimal("2.0"), agreed), (Decimal("1.0"), declined)],
    )
    _work_order(
        dealership=dealership,
        advisor=advisor,
        number="ЗН-2",
        status=WorkOrderStatus.DELIVERED,
        delivered_at=at(11, 3),
        jobs=[(Decimal("4"), included)],
    )
    _work_order(
        dealership=dealership,
        advisor=advisor,
        number="ЗН-3",
        status=WorkOrderStatus.IN_REPAIR,
        delivered_at=None,
        jobs=[(Decimal("6"), included)],
    )
    requisition = Requisition.objects.create(
        dealership=dealership,
        status=Requisition.Status.ISSUED,
        requested_by=advisor,
        issued_by=storekeeper,
        issued_at=at(10, 20),
    )
    for _n in range(2):
        RequisitionLine.objects.create(requisition=requisition, part=PartFactory(dealership=dealership), quantity=1)

    _complaint(
        dealership=dealership,
        number="ЖЛ-1",
        assignee=advisor,
        received_at=at(10, 2),
        deadline=datetime.date(2025, 10, 10),
        closed_at=at(10, 9),
        satisfaction=5,
    )
    _complaint(
        dealership=dealership,
        number="ЖЛ-2",
        assignee=advisor,
        received_at=at(10, 3),
        deadline=datetime.date(2025, 10, 12),
        closed_at=at(10, 14),
        satisfaction=2,
    )
    _complaint(
        dealership=dealership,
        number="ЖЛ-3",
        assignee=advisor,
        received_at=at(10, 4),
        deadline=datetime.date(2025, 10, 20),
    )

    order = CustomerOrderFactory(dealership=dealership, customer=customer, author=advisor)
    _call(
        order=order, assignee=advisor, due=datetime.date(2025, 10, 5), status="done", done_on=datetime.date(2025, 10, 5)
    )
    _call(
        order=order, assignee=advisor, due=datetime.date(2025, 10, 6), status="done", done_on=datetime.date(2025, 10, 8)
    )
    _call(order=order, assignee=advisor, due=datetime.date(2025, 10, 7))
    _call(order=order, assignee=advisor, due=datetime.date(2025, 10, 9), status="cancelled")
    return World(advisor, colleague, storekeeper, director, foreign_manager, dealership, other)


# -- issue 18 item 5: one technician's week 2025-W42 (Mon 13 – Sun 19 Oct 2025), derived by hand ---------------------
# Hours Mon–Fri 09:00–18:00 with a 60-minute break (8 h a day), absent on Wednesday → present 4 × 8 = 32 h.
# Job A (3.0 h sold) finished Tue: clocked Mon 10:00–11:30 and Tue 09:00–10:30 (3.0 h).
# Job B (2.0 h sold) finished Thu: clocked Sun 12 Oct 22:00 – Mon 01:00 (3 h, 1 h in the week), Thu 09:00–10:00.
# Job C (not finished): clocked Fri 09:00–13:00 (4 h). Job D finished the Friday before (not this week).
# Clocked in the week 1.5 + 1.5 + 1 + 1 + 4 = 9.0 h; sold 5.0 h; clocked on the finished jobs 3.0 + 4.0 = 7.0 h.
WEEK = "2025-W42"
EXPECTED_TECHNICIAN = {
    "present_hours": Decimal("32.00"),
    "clocked_hours": Decimal("9.00"),
    "jobs_finished": 2,
    "sold_hours": Decimal("5.00"),
    "clocked_on_finished": Decimal("7.00"),
    "efficiency": Decimal("71.4"),  # 5 ÷ 7
    "productivity": Decimal("28.1"),  # 9 ÷ 32
}


def build_workshop(dealership, other):
    from service.models import (
        JobClock,
        TechnicianAbsence,
        TechnicianHours,
        TechnicianProfile,
        WorkOrderJob,
        WorkOrderStatus,
    )

    def technician(dealership, **names):
        user = UserFactory(role=roles.TECHNICIAN, dealership=[dealership], **names)
        profile = TechnicianProfile.objects.create(dealership=dealership, user=user)
        for weekday in range(5):
            TechnicianHours.objects.create(
                dealership=dealership,
                technician=profile,
                weekday=weekday,
                starts_at=datetime.time(9),
                ends_at=datetime.time(18),
                break_minutes=60,
            )
        return user, profile

    tech, profile = technician(dealership, first_name="Игорь", last_name="Механиков")
    foreign, _foreign_profile = technician(other, first_name="Антон", last_name="Дальний")
    TechnicianAbsence.objects.create(
        dealership=dealership,
        technician=profile,
        starts_on=datetime.date(2025, 10, 15),
        ends_on=datetime.date(2025, 10, 15),
    )
    advisor = UserFactory(role=roles.SERVICE_ADVISOR, dealership=[dealership])
    wo = _work_order(
        dealership=dealership,
        advisor=advisor,
        number="ЗН-W42",
        status=WorkOrderStatus.IN_REPAIR,
        delivered_at=None,
        jobs=[
            (Decimal("3.0"), "included"),
            (Decimal("2.0"), "included"),
            (Decimal("6.0"), "included"),
            (Decimal("1"), "included"),
        ],
    )
    job_a, job_b, job_c, job_d = list(wo.jobs.order_by("id"))
    done = {job_a: at(10, 14, 15), job_b: at(10, 16, 15), job_d: at(10, 10, 15)}
    for job in (job_a, job_b, job_c, job_d):
        WorkOrderJob.objects.filter(pk=job.pk).update(technician=tech, done_at=done.get(job))

    def clock(job, start, end):
        JobClock.objects.create(dealership=dealership, job=job, technician=tech, started_at=start, ended_at=end)

    clock(job_a, at(10, 13, 10), at(10, 13, 11, 30))
    clock(job_a, at(10, 14, 9), at(10, 14, 10, 30))
    clock(job_b, at(10, 12, 22), at(10, 13, 1))
    clock(job_b, at(10, 16, 9), at(10, 16, 10))
    clock(job_c, at(10, 17, 9), at(10, 17, 13))
    clock(job_d, at(10, 10, 9), at(10, 10, 14))
    return tech, foreign
