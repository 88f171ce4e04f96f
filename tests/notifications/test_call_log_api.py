"""The call log's list API (/api/call-events/) at a dealership's size (issue 19).

Its items are built from rows (``dms.core.lean_items``) and stay exactly the serializer's — the labels of kind,
status and outcome in the reader's language included; its page is read in the model's order through the index that
starts with the dealership and the due date, so PostgreSQL stops at the page instead of sorting every event.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from notifications import selectors, services
from notifications.apis import CallEventSerializer
from notifications.models import CallEvent, CallOutcome
from tests.core.test_lean_list_items import _assert_items_are_the_serializers

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def call_log(make_order, advisor):
    """Three arrival calls: one open, one done (reached, with a comment and a score), one unreachable (its retry
    open) — kinds, statuses and outcomes with labels, a completing employee, an agreed date left empty."""
    for day in ("2025-06-03", "2025-06-04", "2025-06-05"):
        make_order(kind="warranty", placed_at=at("2025-06-01"), received_at=at(day))
    services.call_events_generate(now=at("2025-06-05", 12))
    first, second, _third = CallEvent.objects.order_by("due_date", "id")
    services.call_event_complete(
        actor=advisor, event=first, outcome=CallOutcome.REACHED, comment="Приедет <завтра>", satisfaction=5,
        now=at("2025-06-05", 13),
    )  # fmt: skip
    services.call_event_complete(actor=advisor, event=second, outcome=CallOutcome.UNREACHABLE, now=at("2025-06-05", 14))
    assert CallEvent.objects.count() == 4


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_call_log_items_equal_the_serializers_in_the_readers_language(call_log, api_as, advisor, language):
    client = api_as(advisor)
    listing = client.get("/api/call-events/", HTTP_ACCEPT_LANGUAGE=language).json()["results"]
    assert len(listing) == 4
    outcomes = {item["outcome"] for item in listing}
    assert outcomes == {"", CallOutcome.REACHED, CallOutcome.UNREACHABLE}
    with translation.override(language):
        reached = next(item for item in listing if item["outcome"] == CallOutcome.REACHED)
        assert reached["outcome_display"] == str(CallOutcome.REACHED.label)
        assert reached["completed_by"]["id"] == advisor.pk and reached["satisfaction"] == 5
        _assert_items_are_the_serializers(listing, CallEventSerializer, CallEvent.objects.all())
    if language != "ru":  # the labels follow the reader's language, not the first request's
        assert reached["outcome_display"] != "Дозвонились"


def test_call_log_is_read_in_its_order_through_the_dealership_due_date_index(call_log, dealership):
    """No sort of every event of the dealership for a page: the plan walks ``callevent_report_idx`` (dealership,
    due date, id, …) in the list's order (sequential scans priced out, as a big table would)."""
    with CaptureQueriesContext(connection) as captured:
        list(selectors.call_event_list(dealership_ids=[dealership.pk])[:50])
    (sql,) = [q["sql"] for q in captured.captured_queries if "notifications_callevent" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "callevent_report_idx" in plan and "Sort" not in plan, plan


def test_call_log_order_holds_on_equal_due_dates(call_log, api_as, advisor):
    """Events due the same day come in id order (the index's third column), page after page."""
    day = datetime.date(2025, 6, 8)
    CallEvent.objects.update(due_date=day)
    ids = [item["id"] for item in api_as(advisor).get("/api/call-events/").json()["results"]]
    assert ids == sorted(ids) and len(ids) == 4
