"""Issue 18 item 6: customer satisfaction per employee combines complaint closings AND follow-up calls.

On top of tests/claims/staff_world.py (advisor «Иванова»: closings scored 5 and 2 in October 2025), scores recorded
on calls — derived here by hand from the rows:

* an order's call event (the advisor is its assignee, the order's author) completed 20 Oct by a colleague, scored 4
  → the advisor's, not the colleague's (the call rates the service of the employee responsible for the customer);
* a service follow-up (declined work) of her work order called 21 Oct, scored 5 → hers;
* a follow-up called 31 Oct 23:30 Moscow (still October there), scored 1 → hers;
* a call event completed 1 Nov 00:30 Moscow scored 1, and one completed without a score → not counted;
* the other dealership's call event of its manager, scored 3 → his (the director sees both).

Advisor: (5 + 2 + 4 + 5 + 1) / 5 = 3.4 from 5 scores. Colleague: no score → None. Foreign manager: 3.0 from 1.
"""

import datetime
from decimal import Decimal

import pytest

from claims import staff_kpi
from notifications.models import CallEvent
from service.models import InspectionFinding, ServiceReminder, WorkOrder, WorkOrderJob
from tests.claims.staff_world import MSK, NOW, PERIOD, at
from tests.orders.factories import CustomerOrderFactory

pytestmark = pytest.mark.django_db


def _done_call(*, order, assignee, by, completed_at, satisfaction):
    return CallEvent.objects.create(
        dealership=order.dealership, order=order, kind="arrival", assignee=assignee,
        due_date=completed_at.astimezone(MSK).date(), status="done", completed_at=completed_at,
        completed_on=completed_at.astimezone(MSK).date(), completed_by=by, outcome="reached",
        satisfaction=satisfaction,
    )  # fmt: skip


def _follow_up(*, work_order, item, called_at, satisfaction):
    job = WorkOrderJob.objects.create(
        work_order=work_order, description=item, standard_hours=Decimal("1"), rate=Decimal("2500"),
        consent=WorkOrderJob.Consent.DECLINED, consent_at=called_at - datetime.timedelta(days=14),
    )  # fmt: skip
    finding = InspectionFinding.objects.create(work_order=work_order, item=item, colour="red", price=1, job=job)
    return ServiceReminder.objects.create(
        dealership=work_order.dealership, vehicle=work_order.vehicle, customer=work_order.customer,
        last_work_order=work_order, reason="declined", finding=finding, due_on=called_at.date(), status="called",
        assignee=work_order.advisor, called_at=called_at, called_by=work_order.advisor, outcome="reached",
        satisfaction=satisfaction,
    )  # fmt: skip


@pytest.fixture
def scored(world):
    advisor, colleague = world.advisor, world.colleague
    order = CustomerOrderFactory(dealership=world.dealership, author=advisor)
    _done_call(order=order, assignee=advisor, by=colleague, completed_at=at(10, 20), satisfaction=4)
    _done_call(order=order, assignee=advisor, by=advisor, completed_at=at(11, 1, 0, 30), satisfaction=1)
    _done_call(order=order, assignee=advisor, by=advisor, completed_at=at(10, 22), satisfaction=None)
    work_order = WorkOrder.objects.get(number="ЗН-1")
    _follow_up(work_order=work_order, item="Щётки", called_at=at(10, 21), satisfaction=5)
    _follow_up(work_order=work_order, item="Фильтр", called_at=at(10, 31, 23, 30), satisfaction=1)
    foreign = CustomerOrderFactory(dealership=world.other, author=world.foreign_manager)
    _done_call(order=foreign, assignee=world.foreign_manager, by=world.foreign_manager, completed_at=at(10, 7),
               satisfaction=3)  # fmt: skip
    return world


def _rows(world, ids):
    period = staff_kpi.StaffPeriod.parse(PERIOD, today=NOW.date())
    return {row.user_id: row for row in staff_kpi.staff_kpis(dealership_ids=ids, period=period, now=NOW)}


def test_satisfaction_combines_closings_and_calls(scored):
    rows = _rows(scored, [scored.dealership.pk, scored.other.pk])
    advisor = rows[scored.advisor.pk]
    assert (advisor.satisfaction, advisor.satisfaction_scores) == (3.4, 5)
    assert (rows[scored.colleague.pk].satisfaction, rows[scored.colleague.pk].satisfaction_scores) == (None, 0)
    assert (rows[scored.foreign_manager.pk].satisfaction, rows[scored.foreign_manager.pk].satisfaction_scores) == (
        3.0,
        1,
    )
    # the complaints' own figures are unchanged by the calls
    assert (advisor.complaints, advisor.complaints_on_time) == (3, 1)


def test_without_call_scores_the_closings_alone(world):
    advisor = _rows(world, [world.dealership.pk])[world.advisor.pk]
    assert (advisor.satisfaction, advisor.satisfaction_scores) == (3.5, 2)  # (5 + 2) / 2


def test_november_reads_only_the_november_call(scored):
    period = staff_kpi.StaffPeriod.parse("2025-11", today=NOW.date())
    rows = {r.user_id: r for r in staff_kpi.staff_kpis(dealership_ids=[scored.dealership.pk], period=period, now=NOW)}
    assert (rows[scored.advisor.pk].satisfaction, rows[scored.advisor.pk].satisfaction_scores) == (1.0, 1)


def test_the_year_weights_every_score_once(scored):
    period = staff_kpi.StaffPeriod.parse("2025", today=NOW.date())
    rows = {r.user_id: r for r in staff_kpi.staff_kpis(dealership_ids=[scored.dealership.pk], period=period, now=NOW)}
    # (5 + 2 + 4 + 5 + 1 + 1) / 6 = 3.0 — the world's November delivery etc. carry no scores
    assert (rows[scored.advisor.pk].satisfaction, rows[scored.advisor.pk].satisfaction_scores) == (3.0, 6)


def test_api_answers_the_combined_figure(scored, api_as):
    body = api_as(scored.director).get(f"/api/staff-kpis/?period={PERIOD}").json()
    row = next(r for r in body["employees"] if r["user_id"] == scored.advisor.pk)
    assert (row["satisfaction"], row["satisfaction_scores"]) == (3.4, 5)
