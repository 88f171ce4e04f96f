"""Recording call results (R8, R9, R12, R13), the compliance report (R14) and the selector contract."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from dms.core import roles
from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from notifications import reports, selectors, services
from notifications.models import CallEvent, CallKind, CallStatus
from orders import services as order_services

from .conftest import at, d

pytestmark = pytest.mark.django_db


@pytest.fixture
def arrival(make_order):
    """A warranty order whose parts arrived on 05.06.2025: the arrival call is due 08.06 (R6)."""

    def make(kind="warranty", received="2025-06-05", **kwargs):
        order = make_order(kind=kind, placed_at=at("2025-06-01"), received_at=at(received), **kwargs)
        services.call_events_generate(now=at(received, 12))
        return CallEvent.objects.get(order=order, kind=CallKind.ARRIVAL)

    return make


def complete(event, user, outcome="reached", now=None, **kwargs):
    return services.call_event_complete(actor=user, event=event, outcome=outcome, now=now or at("2025-06-06"), **kwargs)


def test_r13_completing_records_who_when_what(arrival, advisor):
    event = arrival()
    done = complete(event, advisor, comment="Приедет в пятницу", now=at("2025-06-06", 15, 30))
    done.refresh_from_db()
    assert done.status == CallStatus.DONE
    assert done.completed_by == advisor
    assert done.completed_at == at("2025-06-06", 15, 30)
    assert done.completed_on == d("2025-06-06")
    assert (done.outcome, done.comment) == ("reached", "Приедет в пятницу")
    entry = AuditEntry.objects.get(object_id=done.pk, action="transition", content_type__model="callevent")
    assert entry.changes == {"status": ["open", "done"]}
    # issue 14 item 8: the outcome is kept as its msgid and shown in the reader's language
    with translation.override("ru"):
        assert entry.shown_message == "Дозвонились: Приедет в пятницу"
    with translation.override("en"):
        assert "Дозвонились" not in entry.shown_message and entry.shown_message.endswith(": Приедет в пятницу")


def test_r9_unreachable_creates_a_retry_due_in_3_days(arrival, advisor):
    event = arrival()
    complete(event, advisor, outcome="unreachable", now=at("2025-06-06", 11))
    retry = CallEvent.objects.get(kind=CallKind.RETRY)
    assert (retry.due_date, retry.status, retry.assignee, retry.source_event_id) == (
        d("2025-06-09"),
        "open",
        advisor,
        event.pk,
    )
    # ... and unreachable again on the retry: the next one 3 days after that call.
    complete(retry, advisor, outcome="no_answer_left_message", now=at("2025-06-09", 10))
    assert list(CallEvent.objects.filter(kind="retry").order_by("due_date").values_list("due_date", "status")) == [
        (d("2025-06-09"), "done"),
        (d("2025-06-12"), "open"),
    ]


def test_r8_agreed_date_creates_an_event_due_that_day(arrival, advisor):
    event = arrival()
    complete(event, advisor, agreed_date=d("2025-06-10"), now=at("2025-06-06"))
    agreed = CallEvent.objects.get(kind=CallKind.AGREED_DATE)
    assert (agreed.due_date, agreed.assignee) == (d("2025-06-10"), advisor)
    assert CallEvent.objects.get(pk=event.pk).agreed_date == d("2025-06-10")


def test_r12_no_show_on_the_agreed_date_gets_a_call_the_same_day(arrival, advisor):
    event = arrival()
    complete(event, advisor, agreed_date=d("2025-06-10"), now=at("2025-06-06"))
    agreed = CallEvent.objects.get(kind=CallKind.AGREED_DATE)
    with pytest.raises(ValidationError) as error:
        complete(agreed, advisor, outcome="did_not_come", now=at("2025-06-09", 18))
    assert "outcome" in error.value.message_dict
    complete(agreed, advisor, outcome="did_not_come", now=at("2025-06-10", 19))
    no_show = CallEvent.objects.get(kind=CallKind.NO_SHOW)
    assert (no_show.due_date, no_show.status) == (d("2025-06-10"), "open")
    # Its result is recorded too and sets the new date.
    complete(no_show, advisor, agreed_date=d("2025-06-12"), now=at("2025-06-10", 19, 30))
    assert CallEvent.objects.filter(kind="agreed_date", due_date=d("2025-06-12"), status="open").count() == 1


def test_r10_lot_repair_task_takes_only_repair_started(make_order, advisor):
    order = make_order(placed_at=at("2025-06-01"), received_at=at("2025-06-05"), on_waiting_lot=True)
    services.call_events_generate(now=at("2025-06-05", 12))
    task = CallEvent.objects.get(order=order, kind=CallKind.LOT_REPAIR)
    with pytest.raises(ValidationError):
        complete(task, advisor, outcome="reached", now=at("2025-06-05", 13))
    complete(task, advisor, outcome="repair_started", now=at("2025-06-05", 13))
    assert CallEvent.objects.get(pk=task.pk).status == "done"
    assert CallEvent.objects.get(order=order, kind="arrival").status == "open"  # the customer is still called


@pytest.mark.parametrize(
    ("outcome", "kwargs", "field"),
    [
        ("teleported", {}, "outcome"),
        ("reached", {"agreed_date": d("2025-06-05")}, "agreed_date"),
        ("unreachable", {"agreed_date": d("2025-06-09")}, "agreed_date"),
        ("reached", {"agreed_date": d("2027-01-01")}, "agreed_date"),
        ("reached", {"comment": "x" * 2001}, "comment"),
        ("did_not_come", {}, "outcome"),
    ],
)
def test_bad_input_changes_nothing(arrival, advisor, outcome, kwargs, field):
    event = arrival()
    with pytest.raises(ValidationError) as error:
        complete(event, advisor, outcome=outcome, now=at("2025-06-06"), **kwargs)
    assert field in error.value.message_dict
    event.refresh_from_db()
    assert event.status == "open" and event.completed_at is None
    assert CallEvent.objects.count() == 1
    assert not AuditEntry.objects.filter(object_id=event.pk, content_type__model="callevent").exists()


def test_completing_twice_or_a_cancelled_event_is_a_conflict(arrival, advisor):
    event = arrival()
    complete(event, advisor)
    with pytest.raises(ConflictError):
        complete(event, advisor, outcome="unreachable")
    assert CallEvent.objects.count() == 1  # no retry from the refused second call
    order = event.order
    order_services.customer_order_issue(actor=order.parts_manager, order=order, now=at("2025-06-07"))
    services.call_events_generate(now=at("2025-06-07", 12))
    other = CallEvent.objects.create(
        dealership=order.dealership, order=order, kind="retry", assignee=advisor, due_date=d("2025-06-20")
    )
    services.call_events_generate(now=at("2025-06-07", 13))
    other.refresh_from_db()
    assert other.status == "cancelled"
    with pytest.raises(ConflictError):
        complete(other, advisor)


def test_another_dealerships_user_cannot_complete(arrival, other_dealership, make_user):
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    event = arrival()
    with pytest.raises(ValidationError):
        complete(event, stranger)
    event.refresh_from_db()
    assert event.status == "open"


def test_no_follow_up_once_the_order_is_issued(arrival, advisor):
    event = arrival()
    order_services.customer_order_issue(actor=event.order.parts_manager, order=event.order, now=at("2025-06-06", 9))
    complete(event, advisor, outcome="unreachable", now=at("2025-06-06", 10))
    assert CallEvent.objects.filter(kind="retry").count() == 0


# -- R13: the read contract for the order dashboard ----------------------------------------------------------------
def test_call_log_for_orders_contract_in_one_query(arrival, advisor, make_order, django_assert_num_queries):
    first = arrival()
    complete(first, advisor, outcome="unreachable", comment="Не берёт трубку", now=at("2025-06-06", 10))
    retry = CallEvent.objects.get(kind="retry")
    complete(retry, advisor, agreed_date=d("2025-06-12"), comment="Заберёт 12-го", now=at("2025-06-09", 16))
    silent = make_order(placed_at=at("2025-06-01"))
    ids = [first.order_id, silent.pk, *range(10_000, 10_050)]
    with django_assert_num_queries(1):
        log = selectors.call_log_for_orders(order_ids=ids)
    assert set(log) == set(ids)
    summary = log[first.order_id]
    assert summary.last_caller_name == "Анна Смирнова"
    assert summary.last_called_at == at("2025-06-09", 16)
    assert [(r.kind, r.outcome, r.comment, r.agreed_date) for r in summary.results] == [
        ("retry", "reached", "Заберёт 12-го", d("2025-06-12")),
        ("arrival", "unreachable", "Не берёт трубку", None),
    ]
    entry = summary.results[0]
    assert entry.caller_name == "Анна Смирнова" and entry.completed_at == at("2025-06-09", 16)
    assert entry.outcome_display == "Дозвонились" and entry.kind_display == "Повторный звонок"
    assert log[silent.pk].last_caller_name == "" and log[silent.pk].last_called_at is None
    assert log[silent.pk].results == []
    assert selectors.call_log_for_orders(order_ids=[]) == {}


@pytest.mark.postgres
def test_call_log_sql_in_the_order_query_equals_call_log_for_orders(arrival, advisor, make_order):
    """The dashboard reads the call log inside its page query (R13): the same summaries as the separate query."""
    from django.db import connection

    from orders import selectors as order_selectors

    first = arrival()
    complete(first, advisor, outcome="unreachable", comment="Не берёт трубку", now=at("2025-06-06", 10))
    retry = CallEvent.objects.get(kind="retry")
    complete(retry, advisor, agreed_date=d("2025-06-12"), comment="Заберёт 12-го", now=at("2025-06-09", 16))
    silent = make_order(placed_at=at("2025-06-01"))
    ids = sorted([first.order_id, silent.pk])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id, ({selectors.call_log_sql('o.id')}) FROM orders_customerorder o "
            "WHERE o.id = ANY(%s) ORDER BY o.id",
            [ids],
        )
        rows = cursor.fetchall()
    inline = dict(zip([row[0] for row in rows], selectors.call_logs_from_json([row[1] for row in rows]), strict=True))
    assert inline == selectors.call_log_for_orders(order_ids=ids)
    assert inline[first.order_id].results[0].comment == "Заберёт 12-го"
    # and the dashboard's rows carry it (one query for rows and call logs)
    page = order_selectors.order_rows(order_selectors.customer_order_list(dealership_ids=[first.dealership_id]))
    by_id = {row.id: row for row in page}
    assert by_id[first.order_id].call_log == inline[first.order_id]
    assert by_id[first.order_id].call_log.last_caller_name == "Анна Смирнова"


# -- R14: compliance --------------------------------------------------------------------------------------------------
def report_for(user, date_from="2025-06-01", date_to="2025-06-30", now=None):
    return reports.compliance_for_user(
        user=user, date_from=d(date_from), date_to=d(date_to), now=now or at("2025-07-01", 9)
    )


def test_r14_warranty_day_3_on_time_day_4_late(arrival, advisor, director):
    on_time = arrival(received="2025-06-05")  # due 08.06
    late = arrival(received="2025-06-05")
    complete(on_time, advisor, now=at("2025-06-08", 20))
    complete(late, advisor, now=at("2025-06-09", 9))
    row = report_for(director).employees[0]
    assert (row.label, row.due, row.on_time, row.late, row.missed) == ("Анна Смирнова", 2, 1, 1, 0)
    assert row.on_time_share == 0.5


def test_r14_commercial_day_7_on_time_day_8_late_and_missed(arrival, advisor, director):
    on_time = arrival(kind="commercial", received="2025-06-05")  # due 12.06
    late = arrival(kind="commercial", received="2025-06-05")
    arrival(kind="commercial", received="2025-06-05")  # never called
    complete(on_time, advisor, now=at("2025-06-12", 18))
    complete(late, advisor, now=at("2025-06-13", 9))
    report = report_for(director, now=at("2025-06-13", 10))
    row = report.employees[0]
    assert (row.due, row.on_time, row.late, row.missed) == (3, 1, 1, 1)
    assert {o.label: (o.on_time, o.late, o.missed) for o in report.orders} == {
        on_time.order.number: (1, 0, 0),
        late.order.number: (0, 1, 0),
        CallEvent.objects.get(status="open").order.number: (0, 0, 1),
    }
    # On the due day itself an open call is not missed yet.
    assert report_for(director, now=at("2025-06-12", 10)).employees[0].missed == 0
    assert report.daily[advisor.pk][d("2025-06-12")] == (1, 1, 1)


def test_r14_others_see_only_their_own_rows(arrival, advisor, make_user, director, parts_manager):
    event = arrival()
    other_advisor = make_user(roles.SERVICE_ADVISOR, first_name="Олег", last_name="Иванов")
    CallEvent.objects.create(
        dealership=event.dealership, order=event.order, kind="retry", assignee=other_advisor, due_date=d("2025-06-09")
    )
    assert {r.label for r in report_for(director).employees} == {"Анна Смирнова", "Олег Иванов"}
    assert [r.label for r in report_for(advisor).employees] == ["Анна Смирнова"]
    assert report_for(parts_manager).employees == []


def test_report_range_parsing():
    today = d("2025-06-11")
    assert reports.parse_range(None, None, today=today) == (d("2025-06-05"), d("2025-06-11"))
    assert reports.parse_range("2025-06-02", None, today=today) == (d("2025-06-02"), d("2025-06-08"))
    for bad in (("2025-13-01", None), ("2025-06-10", "2025-06-01"), ("2024-01-01", "2025-06-01")):
        with pytest.raises(ValidationError):
            reports.parse_range(*bad, today=today)


def test_weekly_email_goes_to_directors_with_a_csv(arrival, advisor, director, mailoutbox):
    event = arrival(received="2025-06-05")
    complete(event, advisor, now=at("2025-06-08"))
    sent = reports.email_weekly_reports(today=d("2025-06-09"))  # Monday: the week 02.06–08.06
    assert sent == 1
    message = mailoutbox[0]
    assert message.to == [director.email]
    assert "02.06.2025" in message.subject and "08.06.2025" in message.subject
    assert "Анна Смирнова" in message.body
    name, content, mimetype = message.attachments[0]
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    assert mimetype == "text/csv" and "Анна Смирнова" in text
    # issue 16 item 3: the Russian dialect, one header row (the period is in the file name, not a title row)
    assert name == "call-compliance-2025-06-02-2025-06-08.csv"
    assert (content if isinstance(content, str) else content.decode("utf-8")).startswith("\ufeff")  # BOM for Excel
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Раздел", "Сотрудник / заказ"] and all(len(row) == 8 for row in rows)
    anna = next(row for row in rows if row[1] == "Анна Смирнова")
    assert [int(value) for value in anna[2:7]] == [1, 1, 0, 0, 0] and Decimal(anna[7].replace(",", ".")) == 100


def test_weekly_email_takes_last_week_in_the_dealerships_calendar(director, dealership, mailoutbox):
    """R14 in the dealership's calendar: when the Monday e-mail goes out in Moscow, a dealership far west of Moscow
    is still in its Sunday — its last full week is the one before, not the week Moscow has just finished."""
    dealership.time_zone = "America/New_York"
    dealership.save()
    # Monday 9 June 2025, 06:00 in Moscow = Sunday 8 June, 23:00 in New York: the New York week 2–8 June is not over
    now = at("2025-06-09", 6)
    reports.email_weekly_reports(now=now)
    (message,) = mailoutbox
    assert "26.05.2025" in message.subject and "01.06.2025" in message.subject, message.subject
    mailoutbox.clear()
    dealership.time_zone = "Europe/Moscow"
    dealership.save()
    reports.email_weekly_reports(now=now)
    (message,) = mailoutbox
    assert "02.06.2025" in message.subject and "08.06.2025" in message.subject, message.subject


def test_weekly_report_task_is_the_beat_entry(settings):
    from notifications import tasks

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.generate_call_events.name in names
    assert tasks.send_weekly_call_compliance_report.name in names


def test_my_calls_groups_and_puts_waiting_lot_tasks_first(make_order, advisor):
    lot = make_order(placed_at=at("2025-06-01"), received_at=at("2025-06-05"), on_waiting_lot=True)
    plain = make_order(placed_at=at("2025-06-01"), received_at=at("2025-06-02"))
    services.call_events_generate(now=at("2025-06-05", 12))
    calls = selectors.my_calls(user=advisor, dealership=lot.dealership, today=d("2025-06-05"))
    # The plain order's arrival is due 05.06 too; the lot task still comes first (R10).
    assert [(e.order_id, e.kind) for e in calls.today] == [(lot.pk, "lot_repair"), (plain.pk, "arrival")]
    assert [(e.order_id, e.kind) for e in calls.upcoming] == [(lot.pk, "arrival")]
    later = selectors.my_calls(user=advisor, dealership=lot.dealership, today=d("2025-06-09"))
    assert [e.kind for e in later.overdue] == ["lot_repair", "arrival", "arrival"]
    assert all(e.is_overdue(d("2025-06-09")) for e in later.overdue)
    assert datetime.date(2025, 6, 9) > later.overdue[0].due_date
