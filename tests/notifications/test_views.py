"""Pages: My calls (overdue in red, lot tasks first, one-click result) and the call-compliance report (R14)."""

import io

import pytest
from django.urls import reverse
from freezegun import freeze_time
from openpyxl import load_workbook

from dms.core import roles
from notifications import services
from notifications.models import CallEvent

from .conftest import at, d

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(make_order):
    lot = make_order(placed_at=at("2025-06-01"), received_at=at("2025-06-05"), on_waiting_lot=True)
    late = make_order(placed_at=at("2025-06-01"), received_at=at("2025-06-01"))
    services.call_events_generate(now=at("2025-06-05", 12))
    return {"lot": lot, "late": late}


@freeze_time("2025-06-05 12:00:00+03:00")
def test_my_calls_page(client, advisor, calls):
    client.force_login(advisor)
    response = client.get(reverse("notifications:my_calls"))
    assert response.status_code == 200
    html = response.content.decode()
    overdue = html[html.index('id="section-overdue"') : html.index('id="section-today"')]
    today = html[html.index('id="section-today"') : html.index('id="section-upcoming"')]
    assert calls["late"].number in overdue and "table-danger" in overdue  # due 04.06: red
    assert 'data-kind="lot_repair"' in today
    assert "04.06.2025" in overdue


@freeze_time("2025-06-05 12:00:00+03:00")
def test_one_click_result_and_bad_input(client, advisor, calls):
    client.force_login(advisor)
    event = CallEvent.objects.get(order=calls["late"], kind="arrival")
    url = reverse("notifications:complete_call", args=[event.pk])
    bad = client.post(url, {f"e{event.pk}-outcome": "reached", f"e{event.pk}-agreed_date": "2025-06-01"})
    assert bad.status_code == 400
    assert "The agreed date is in the past." in bad.content.decode() or "прошлом" in bad.content.decode()
    assert CallEvent.objects.get(pk=event.pk).status == "open"
    ok = client.post(url, {f"e{event.pk}-outcome": "unreachable", f"e{event.pk}-comment": "Не берёт"})
    assert ok.status_code == 302
    assert CallEvent.objects.get(pk=event.pk).status == "done"
    assert CallEvent.objects.get(order=calls["late"], kind="retry").due_date == d("2025-06-08")
    again = client.post(url, {f"e{event.pk}-outcome": "reached"}, follow=True)
    assert again.status_code == 200 and CallEvent.objects.get(pk=event.pk).outcome == "unreachable"


def test_pages_need_the_right_role(client, make_user, director, calls, other_dealership):
    storekeeper = make_user(roles.STOREKEEPER)
    client.force_login(storekeeper)
    assert client.get(reverse("notifications:my_calls")).status_code == 403
    assert client.get(reverse("notifications:call_compliance")).status_code == 403
    client.force_login(director)
    event = CallEvent.objects.filter(status="open").first()
    assert client.post(reverse("notifications:complete_call", args=[event.pk]), {}).status_code == 403
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    client.force_login(stranger)
    response = client.post(reverse("notifications:complete_call", args=[event.pk]), {f"e{event.pk}-outcome": "reached"})
    assert response.status_code == 404


@freeze_time("2025-06-10 09:00:00+03:00")
def test_compliance_page_chart_and_exports(client, director, advisor, calls):
    event = CallEvent.objects.get(order=calls["late"], kind="arrival")
    services.call_event_complete(actor=advisor, event=event, outcome="reached", now=at("2025-06-04", 18))
    client.force_login(director)
    url = reverse("notifications:call_compliance")
    assert url == "/reports/call-compliance/"
    response = client.get(url, {"from": "2025-06-02", "to": "2025-06-08"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Анна Смирнова" in html and "<svg" in html and "<rect" in html
    assert calls["lot"].number in html  # per-order table: its calls are past due
    csv = client.get(url, {"from": "2025-06-02", "to": "2025-06-08", "export": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert text.startswith("Раздел;")  # one header row, no title row above it (issue 16 item 3)
    assert "Анна Смирнова;3;1;0;2;0;33,3" in text  # Russian dialect: a decimal comma
    xlsx = client.get(url, {"from": "2025-06-02", "to": "2025-06-08", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["Анна Смирнова", 3, 1, 0, 2, 0, 33.3] in [r[1:] for r in rows]
    bad = client.get(url, {"from": "2025-06-09", "to": "2025-06-01"})
    assert bad.status_code == 400 and "is-invalid" in bad.content.decode()


def test_navigation_links_appear_for_the_roles(client, advisor, director):
    client.force_login(advisor)
    html = client.get(reverse("notifications:my_calls")).content.decode()
    assert 'href="/calls/"' in html and 'href="/reports/call-compliance/"' in html
