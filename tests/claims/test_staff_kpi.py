"""Issue 18 item 6: staff KPIs by seed 004 and the appraisal record.

Expected figures are the hand-derived ones of tests/claims/staff_world.py (from the rows it creates), never the
selector's own output.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from claims import services, staff_kpi
from claims.models import AppraisalStatus, ScoreSource, StaffAppraisal
from dms.core.exceptions import ConflictError
from tests.claims import staff_world
from tests.claims.staff_world import EXPECTED_ADVISOR, NOW, PERIOD

pytestmark = pytest.mark.django_db


def _period():
    return staff_kpi.StaffPeriod.parse(PERIOD, today=NOW.date())


def _rows(world, ids=None, employee_id=None):
    ids = ids or [world.dealership.pk, world.other.pk]
    rows = staff_kpi.staff_kpis(dealership_ids=ids, period=_period(), now=NOW, employee_id=employee_id)
    return {row.user_id: row for row in rows}


def test_selector_matches_the_figures_derived_from_the_rows(world):
    rows = _rows(world)
    advisor = rows[world.advisor.pk]
    for name, expected in EXPECTED_ADVISOR.items():
        assert getattr(advisor, name) == expected, name
    assert rows[world.storekeeper.pk].issued_lines == 2
    assert rows[world.foreign_manager.pk].sales_amount == Decimal("700.00")
    # a colleague with nothing in the period is listed with zeros and no rates
    colleague = rows[world.colleague.pk]
    assert (colleague.sales_amount, colleague.work_orders, colleague.return_rate) == (Decimal("0"), 0, None)


def test_one_dealership_only_and_the_year(world):
    rows = _rows(world, ids=[world.dealership.pk])
    assert world.foreign_manager.pk not in rows
    year = staff_kpi.StaffPeriod.parse("2025", today=NOW.date())
    yearly = staff_kpi.staff_kpis(dealership_ids=[world.dealership.pk], period=year, now=NOW)
    advisor = next(r for r in yearly if r.user_id == world.advisor.pk)
    # the year adds the 1 Nov order (9 999) and the November work order (4 h)
    assert advisor.sales_amount == Decimal("12799.00")
    assert advisor.labour_hours == Decimal("7.50")
    assert advisor.work_orders == 2


@pytest.mark.parametrize("raw", ["2025-13", "25-10", "abc", "2025-1", "1999", "2025-00"])
def test_bad_periods_are_refused(raw):
    with pytest.raises(ValidationError):
        staff_kpi.StaffPeriod.parse(raw, today=NOW.date())


def test_month_end():
    assert staff_kpi.StaffPeriod.parse("2024-02", today=NOW.date()).end == datetime.date(2024, 2, 29)


# -- the appraisal --------------------------------------------------------------------------------------------------
def _open(world):
    return services.staff_appraisal_open(
        actor=world.director, dealership=world.dealership, employee=world.advisor, period=_period(), now=NOW
    )


def test_appraisal_keeps_the_figures_of_its_time(world):
    appraisal = _open(world)
    assert appraisal.figures["sales_amount"] == "2800.00"
    assert appraisal.figures["labour_hours"] == "3.50"
    assert appraisal.figures["complaint_on_time_rate"] == 33.3
    staff_world._sales_order(
        dealership=world.dealership,
        manager=world.advisor,
        customer=staff_world.CustomerFactory(dealership=world.dealership),
        lines=[(1, Decimal("100"))],
        status="shipped",
        shipped_at=staff_world.at(10, 20),
    )
    appraisal.refresh_from_db()
    assert appraisal.figures["sales_amount"] == "2800.00"  # frozen
    assert _rows(world)[world.advisor.pk].sales_amount == Decimal("2900.00")  # the live figure moved on
    with pytest.raises(ConflictError):
        _open(world)


def test_who_enters_which_score(world):
    appraisal = _open(world)
    record = services.appraisal_score_record
    record(actor=world.advisor, appraisal=appraisal, source=ScoreSource.SELF, score=4, comment="Старалась")
    with pytest.raises(PermissionDenied):
        record(actor=world.advisor, appraisal=appraisal, source=ScoreSource.SUPERVISOR, score=5)
    with pytest.raises(PermissionDenied):
        record(actor=world.colleague, appraisal=appraisal, source=ScoreSource.SELF, score=5)
    with pytest.raises(PermissionDenied):
        record(actor=world.colleague, appraisal=appraisal, source=ScoreSource.SUPERVISOR, score=5)
    with pytest.raises(PermissionDenied):  # another dealership's employee is not a colleague
        record(actor=world.foreign_manager, appraisal=appraisal, source=ScoreSource.COLLEAGUE, score=5)
    record(actor=world.colleague, appraisal=appraisal, source=ScoreSource.COLLEAGUE, score=3)
    record(actor=world.colleague, appraisal=appraisal, source=ScoreSource.COLLEAGUE, score=5)  # changes his own
    record(actor=world.director, appraisal=appraisal, source=ScoreSource.SUPERVISOR, score=4)
    record(actor=world.director, appraisal=appraisal, source=ScoreSource.CUSTOMER, score=5, comment="Опрос")
    with pytest.raises(ValidationError):
        record(actor=world.director, appraisal=appraisal, source=ScoreSource.SUPERVISOR, score=6)
    scores = {(s.source, s.entered_by_id): s.score for s in appraisal.scores.all()}
    assert scores == {
        ("self", world.advisor.pk): 4,
        ("colleague", world.colleague.pk): 5,
        ("supervisor", world.director.pk): 4,
        ("customer", world.director.pk): 5,
    }
    with pytest.raises(PermissionDenied):
        services.staff_appraisal_finalise(actor=world.advisor, appraisal=appraisal)
    done = services.staff_appraisal_finalise(actor=world.director, appraisal=appraisal, summary="Хорошо", now=NOW)
    assert done.status == AppraisalStatus.FINAL
    with pytest.raises(ConflictError):
        record(actor=world.advisor, appraisal=done, source=ScoreSource.SELF, score=5)


def test_finalise_needs_the_supervisors_score_and_a_supervisor_does_not_appraise_himself(world):
    appraisal = _open(world)
    with pytest.raises(ValidationError):
        services.staff_appraisal_finalise(actor=world.director, appraisal=appraisal)
    with pytest.raises(ValidationError):
        services.staff_appraisal_open(
            actor=world.director, dealership=world.dealership, employee=world.director, period=_period(), now=NOW
        )
    with pytest.raises(PermissionDenied):
        services.staff_appraisal_open(
            actor=world.colleague, dealership=world.dealership, employee=world.advisor, period=_period(), now=NOW
        )


# -- API ---------------------------------------------------------------------------------------------------------------
def test_api_director_reads_everyone_an_employee_himself(world, api_as):
    body = api_as(world.director).get(f"/api/staff-kpis/?period={PERIOD}").json()
    by_user = {row["user_id"]: row for row in body["employees"]}
    assert by_user[world.advisor.pk]["sales_amount"] == "2800.00"
    assert by_user[world.advisor.pk]["labour_hours"] == "3.50"
    assert by_user[world.advisor.pk]["return_rate"] == 33.3
    assert world.foreign_manager.pk in by_user
    own = api_as(world.advisor).get(f"/api/staff-kpis/?period={PERIOD}").json()
    assert [row["user_id"] for row in own["employees"]] == [world.advisor.pk]
    assert api_as(world.advisor).get("/api/staff-kpis/?period=2025-13").status_code == 400
    assert api_as(world.advisor).get(f"/api/staff-kpis/?dealership={world.other.pk}").status_code == 400


def test_api_appraisal_flow(world, api_as):
    director = api_as(world.director)
    response = director.post(
        "/api/staff-appraisals/",
        {"employee": world.advisor.pk, "period": PERIOD},
        format="json",
        HTTP_X_DEALERSHIP=str(world.dealership.pk),
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["figures"]["sales_orders"] == 2
    advisor = api_as(world.advisor)
    assert (
        advisor.post(f"/api/staff-appraisals/{pk}/score/", {"source": "self", "score": 4}, format="json").status_code
        == 201
    )
    assert (
        advisor.post(
            f"/api/staff-appraisals/{pk}/score/", {"source": "supervisor", "score": 5}, format="json"
        ).status_code
        == 403
    )
    assert advisor.post(f"/api/staff-appraisals/{pk}/finalise/", {}, format="json").status_code == 403
    assert (
        advisor.post(
            "/api/staff-appraisals/", {"employee": world.colleague.pk, "period": PERIOD}, format="json"
        ).status_code
        == 403
    )
    colleague = api_as(world.colleague)
    seen = colleague.get(f"/api/staff-appraisals/{pk}/").json()
    assert seen["figures"] is None and seen["scores"] == []  # a colleague sees no figures and no one else's scores
    assert (
        colleague.post(
            f"/api/staff-appraisals/{pk}/score/", {"source": "colleague", "score": 0}, format="json"
        ).status_code
        == 400
    )
    assert (
        director.post(
            f"/api/staff-appraisals/{pk}/score/", {"source": "supervisor", "score": 4}, format="json"
        ).status_code
        == 201
    )
    final = director.post(f"/api/staff-appraisals/{pk}/finalise/", {"summary": "Итог"}, format="json")
    assert final.status_code == 200 and final.json()["status"] == "final"
    assert (
        advisor.post(f"/api/staff-appraisals/{pk}/score/", {"source": "self", "score": 5}, format="json").status_code
        == 409
    )
    assert colleague.get(f"/api/staff-appraisals/{pk}/").status_code == 404  # finalised: the employee's own now
    assert api_as(world.foreign_manager).get(f"/api/staff-appraisals/{pk}/").status_code == 404


# -- pages and exports -----------------------------------------------------------------------------------------------
def _page_client(client, user, dealership):
    client.force_login(user)
    session = client.session
    session["active_dealership_id"] = dealership.pk
    session.save()
    return client


def test_page_and_exports_read_back_with_types(world, client):
    c = _page_client(client, world.director, world.dealership)
    page = c.get(reverse("claims:staff_kpis"), {"period": PERIOD})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Иванова" in text and 'id="chart-sales"' in text
    xlsx = c.get(reverse("claims:staff_kpis"), {"period": PERIOD, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    advisor = rows["Мария Иванова"]
    assert advisor[1:4] == (2, 3, 2800)
    assert advisor[6] == 3.5 and advisor[8] == 33.3 and advisor[12] == 3.5
    assert isinstance(advisor[1], int)
    c.cookies["django_language"] = "en"
    body = c.get(reverse("claims:staff_kpis"), {"period": PERIOD, "export": "csv"}).content.decode("utf-8-sig")
    parsed = {row[0]: row for row in list(csv.reader(io.StringIO(body)))[1:]}
    assert Decimal(parsed["Мария Иванова"][3]) == Decimal("2800.00")
    assert parsed["Мария Иванова"][8] == "33.3"
    assert c.get(reverse("claims:staff_kpis"), {"period": "2025-99"}).status_code == 400


def test_page_shows_an_employee_only_himself(world, client):
    c = _page_client(client, world.advisor, world.dealership)
    text = c.get(reverse("claims:staff_kpis"), {"period": PERIOD}).content.decode()
    assert "Иванова" in text and "Ким" not in text and "Open appraisal" not in text


def test_pages_open_score_finalise(world, client):
    c = _page_client(client, world.director, world.dealership)
    response = c.post(reverse("claims:staff_appraisal_open"), {"employee": world.advisor.pk, "period": PERIOD})
    appraisal = StaffAppraisal.objects.get(employee=world.advisor)
    assert response.status_code == 302 and response["Location"] == appraisal.get_absolute_url()
    url = reverse("claims:staff_appraisal_action", args=[appraisal.pk, "score"])
    c.post(url, {"source": "supervisor", "score": "4", "comment": "Норма"})
    c.post(reverse("claims:staff_appraisal_action", args=[appraisal.pk, "finalise"]), {"summary": "Итог"})
    appraisal.refresh_from_db()
    assert appraisal.status == AppraisalStatus.FINAL
    own = _page_client(client, world.advisor, world.dealership)
    detail = own.get(appraisal.get_absolute_url())
    assert detail.status_code == 200 and "2\xa0800,00" in detail.content.decode()
    bad = own.post(url, {"source": "supervisor", "score": "5"})
    assert bad.status_code == 302  # refused with a message on the page, never a 500
    assert appraisal.scores.filter(entered_by=world.advisor).count() == 0
