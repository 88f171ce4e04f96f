"""Issue 18 items 5, 6 in the browser: the director reads the month's staff KPIs (seed 004) and the technicians'
weekly efficiency, with the figures tests/claims/staff_world.py derives by hand from the same rows, then opens,
scores and finalises an appraisal."""

import pytest

from tests.claims import staff_world
from tests.claims.staff_world import EXPECTED_ADVISOR, EXPECTED_TECHNICIAN, PERIOD, WEEK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _cell(page, user_id, name) -> str:
    return page.locator(f'tr[data-user="{user_id}"] td[data-kpi="{name}"]').inner_text().replace("\u00a0", " ")


def test_director_reads_the_month_and_the_week_and_appraises(page, login, dealership, other_dealership, screenshot):
    for d in (dealership, other_dealership):
        d.time_zone = "Europe/Moscow"
        d.save()
    world = staff_world.build(dealership, other_dealership)
    tech, _foreign = staff_world.build_workshop(dealership, other_dealership)
    login(world.director.username)
    page.goto(page.base_url + f"/staff/kpis/?period={PERIOD}")
    advisor = world.advisor.pk
    assert _cell(page, advisor, "sales_amount").startswith("2 800,00")
    assert _cell(page, advisor, "sales_orders") == str(EXPECTED_ADVISOR["sales_orders"])
    assert _cell(page, advisor, "work_orders") == "1"
    assert _cell(page, advisor, "labour_hours") == "3,50"
    assert _cell(page, advisor, "return_rate") == "33,3"
    assert _cell(page, advisor, "complaint_on_time_rate") == "33,3"
    assert _cell(page, advisor, "satisfaction") == "3,5"
    assert _cell(page, advisor, "calls_on_time_rate") == "33,3"
    assert page.locator("svg.kpi-chart").count() == 3
    assert page.locator(f'tr[data-user="{world.foreign_manager.pk}"]').count() == 1  # both dealerships
    screenshot("issue18-staff-kpis")

    page.click("#efficiency-link")
    page.goto(page.base_url + f"/staff/efficiency/?week={WEEK}")
    assert _cell(page, tech.pk, "present_hours") == "32,00"
    assert _cell(page, tech.pk, "clocked_hours") == "9,00"
    assert _cell(page, tech.pk, "sold_hours") == "5,00"
    assert _cell(page, tech.pk, "efficiency") == str(EXPECTED_TECHNICIAN["efficiency"]).replace(".", ",")
    assert _cell(page, tech.pk, "productivity") == "28,1"
    screenshot("issue18-technician-efficiency")

    page.goto(page.base_url + f"/staff/kpis/?period={PERIOD}")
    with page.expect_navigation():
        page.locator(f'tr[data-user="{advisor}"] button[type=submit]').click()
    assert page.locator('#appraisal-figures td[data-kpi="labour_hours"]').inner_text() == "3,50"
    page.select_option("#id_source", "supervisor")
    page.select_option("#id_score", "4")
    page.fill("#id_comment", "Хороший объём работ")
    with page.expect_navigation():
        page.click("#score-form button[type=submit]")
    assert page.locator('#appraisal-scores tr[data-source="supervisor"]').count() == 1
    page.fill("#id_summary", "Оценка «хорошо»")
    with page.expect_navigation():
        page.click("#finalise-form button[type=submit]")
    assert page.locator("#appraisal-status").inner_text() == "Утверждена"
    screenshot("issue18-appraisal")
