"""Each role's main day in headless Chromium at 1366×768 and at tablet width 768×1024 (issue 8, part 6).

On every page: no horizontal overflow of the document, the page's key element visible, a screenshot in
tests/artifacts/journey-<role>-<viewport>-<step>.png. On the tablet the navigation collapses behind its toggler.
"""

import pytest
from django.core.management import call_command

from orders.models import CustomerOrder, OrderStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "tablet": {"width": 768, "height": 1024}}
DEMO_PASSWORD = "demo12345"


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def check_page(page, screenshot, name, key_selector):
    page.wait_for_load_state("load")
    assert page.locator(key_selector).first.is_visible(), f"{name}: {key_selector} not visible at {page.url}"
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )
    screenshot(name)
    assert widths["scroll"] <= widths["client"] + 1, f"{name}: the page scrolls sideways ({widths}) at {page.url}"


def check_navigation(page, viewport):
    nav = page.locator("#mainNav")
    toggler = page.locator(".navbar-toggler")
    if viewport == "tablet":
        assert toggler.is_visible() and not nav.is_visible(), "the navigation should collapse on a tablet"
        toggler.click()
        page.wait_for_selector("#mainNav.show:not(.collapsing)")
        toggler.click()
        nav.wait_for(state="hidden")
    else:
        assert nav.is_visible() and not toggler.is_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_advisor_day(page, login, screenshot, demo, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    login("advisor", DEMO_PASSWORD)
    base = page.base_url
    check_navigation(page, viewport)
    page.goto(base + "/customers/")
    check_page(page, screenshot, f"journey-advisor-{viewport}-1-customers", "main table")
    page.goto(base + "/orders/new/")
    check_page(page, screenshot, f"journey-advisor-{viewport}-2-new-order", "main form")
    page.goto(base + "/appointments/")
    check_page(page, screenshot, f"journey-advisor-{viewport}-3-appointments", "main")
    page.goto(base + "/calls/")
    check_page(page, screenshot, f"journey-advisor-{viewport}-4-my-calls", "main")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_parts_manager_day(page, login, screenshot, demo, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    login("parts", DEMO_PASSWORD)
    base = page.base_url
    check_navigation(page, viewport)
    page.goto(base + "/orders/")
    check_page(page, screenshot, f"journey-parts-{viewport}-1-dashboard", "main table")
    to_place = CustomerOrder.objects.filter(status=OrderStatus.NOT_PLACED).order_by("pk").first()
    page.goto(base + f"/orders/{to_place.pk}/place/")
    check_page(page, screenshot, f"journey-parts-{viewport}-2-place", "main form")
    to_receive = CustomerOrder.objects.filter(status=OrderStatus.ORDERED).order_by("pk").first()
    page.goto(base + f"/orders/{to_receive.pk}/receive/")
    check_page(page, screenshot, f"journey-parts-{viewport}-3-receive", "main form")
    export = page.request.get(base + "/orders/export.csv")
    assert export.status == 200 and export.headers["content-type"].startswith("text/csv")
    assert to_place.number in export.text()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_director_week(page, login, screenshot, demo, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    login("director", DEMO_PASSWORD)
    base = page.base_url
    check_navigation(page, viewport)
    page.goto(base + "/reports/call-compliance/")
    check_page(page, screenshot, f"journey-director-{viewport}-1-call-compliance", "main table")
    if viewport == "tablet":
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainNav.show:not(.collapsing)")
    select = page.locator("nav select[name=dealership]")
    assert select.is_visible()
    kazan = select.locator("option", has_text="Казань").get_attribute("value")
    with page.expect_navigation():
        select.select_option(kazan)  # submits on change
    assert page.locator("nav select[name=dealership] option:checked").get_attribute("value") == kazan
    check_page(page, screenshot, f"journey-director-{viewport}-2-switched", "main")
    page.goto(base + "/claims/kpi/")
    check_page(page, screenshot, f"journey-director-{viewport}-3-claims-kpi", "main")
