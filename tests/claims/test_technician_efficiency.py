"""Issue 18 item 5: efficiency (sold ÷ clocked) and productivity (clocked ÷ present) per technician and week.

Expected figures: tests/claims/staff_world.py (EXPECTED_TECHNICIAN), derived by hand from the rows it creates."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from claims import staff_kpi
from service import efficiency
from tests.claims import staff_world
from tests.claims.staff_world import EXPECTED_TECHNICIAN, NOW, WEEK

pytestmark = pytest.mark.django_db


@pytest.fixture
def workshop(dealership, other_dealership):
    for d in (dealership, other_dealership):
        d.time_zone = "Europe/Moscow"
        d.save()
    tech, foreign = staff_world.build_workshop(dealership, other_dealership)
    return dealership, other_dealership, tech, foreign


def test_week_figures_match_the_rows(workshop):
    dealership, other, tech, foreign = workshop
    monday = staff_kpi.parse_week(WEEK, today=NOW.date())
    assert monday == datetime.date(2025, 10, 13)
    rows = {
        r.user_id: r
        for r in efficiency.technician_efficiency(dealership_ids=[dealership.pk, other.pk], week_start=monday, now=NOW)
    }
    for name, expected in EXPECTED_TECHNICIAN.items():
        assert getattr(rows[tech.pk], name) == expected, name
    assert rows[foreign.pk].present_hours == 40 and rows[foreign.pk].productivity == 0


def test_a_running_interval_counts_up_to_now(workshop):
    from service.models import JobClock

    dealership, _other, tech, _foreign = workshop
    job = JobClock.objects.filter(technician=tech).first().job
    JobClock.objects.create(dealership=dealership, job=job, technician=tech, started_at=staff_world.at(10, 18, 9))
    now = staff_world.at(10, 18, 11)  # Saturday, 2 h running
    rows = efficiency.technician_efficiency(
        dealership_ids=[dealership.pk], week_start=datetime.date(2025, 10, 13), now=now
    )
    assert rows[0].clocked_hours == EXPECTED_TECHNICIAN["clocked_hours"] + 2


@pytest.mark.parametrize("raw", ["2025-W54", "2025W42", "42", "2025-13-01", "1999-W01"])
def test_bad_weeks_are_refused(raw):
    with pytest.raises(ValidationError):
        staff_kpi.parse_week(raw, today=NOW.date())


def test_api_director_everyone_technician_himself(workshop, api_as, director, make_user):
    dealership, other, tech, foreign = workshop
    body = api_as(director).get(f"/api/technician-efficiency/?week={WEEK}").json()
    rows = {r["user_id"]: r for r in body["technicians"]}
    assert rows[tech.pk]["efficiency"] == "71.4" and rows[tech.pk]["productivity"] == "28.1"
    assert rows[tech.pk]["sold_hours"] == "5.00" and foreign.pk in rows
    own = api_as(tech).get(f"/api/technician-efficiency/?week={WEEK}").json()
    assert [r["user_id"] for r in own["technicians"]] == [tech.pk]
    assert api_as(tech).get("/api/technician-efficiency/?week=2025-W99").status_code == 400
    assert api_as(tech).get(f"/api/technician-efficiency/?dealership={other.pk}").status_code == 400


def test_page_and_xlsx(workshop, client, director):
    dealership, _other, tech, _foreign = workshop
    client.force_login(director)
    session = client.session
    session["active_dealership_id"] = dealership.pk
    session.save()
    page = client.get(reverse("claims:technician_efficiency"), {"week": WEEK})
    assert page.status_code == 200 and "Механиков" in page.content.decode()
    xlsx = client.get(reverse("claims:technician_efficiency"), {"week": WEEK, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "Игорь Механиков")
    assert row[1:] == (32, 9, 2, 5, 7, 71.4, 28.1)
    assert isinstance(row[3], int)
    assert client.get(reverse("claims:technician_efficiency"), {"week": "x"}).status_code == 400


def test_staff_kpis_count_the_technicians_finished_jobs(workshop, api_as, director, client):
    """Seed 004's repair volume of the technician who does the repairs (issue 18 item 6): the jobs assigned to him
    that he finished in the month and their sold hours. staff_world.build_workshop finishes, in October 2025, job a
    (3 h, 14 Oct), job b (2 h, 16 Oct) and job d (1 h, 10 Oct); job c (6 h) is not done: 3 jobs, 6 hours."""
    dealership, other, tech, foreign = workshop
    period = staff_kpi.StaffPeriod.parse("2025-10", today=NOW.date())
    rows = {r.user_id: r for r in staff_kpi.staff_kpis(dealership_ids=[dealership.pk], period=period, now=NOW)}
    assert (rows[tech.pk].jobs_done, rows[tech.pk].jobs_hours) == (3, Decimal("6.00"))
    november = staff_kpi.StaffPeriod.parse("2025-11", today=NOW.date())
    later = {r.user_id: r for r in staff_kpi.staff_kpis(dealership_ids=[dealership.pk], period=november, now=NOW)}
    assert (later[tech.pk].jobs_done, later[tech.pk].jobs_hours) == (0, Decimal("0.00"))
    body = api_as(director).get("/api/staff-kpis/?period=2025-10").json()
    row = next(r for r in body["employees"] if r["user_id"] == tech.pk)
    assert (row["jobs_done"], row["jobs_hours"]) == (3, "6.00")
    client.force_login(director)
    page = client.get("/staff/kpis/?period=2025-10").content.decode()
    assert f'data-user="{tech.pk}"' in page
    cells = page.split(f'data-user="{tech.pk}"', 1)[1]
    assert '<td class="text-end" data-kpi="jobs_done">3</td>' in cells.split("</tr>", 1)[0]
    xlsx = client.get("/staff/kpis/", {"period": "2025-10", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [cell.value for cell in sheet[1]]
    technician_row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "Игорь Механиков")
    assert technician_row[header.index("Работ завершено")] == 3
    assert technician_row[header.index("Нормо-часы законченных работ")] == 6
