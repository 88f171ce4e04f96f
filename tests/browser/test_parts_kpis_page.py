"""Issue 15 item 8 in the browser: the directors' parts KPI page with its two charts, in Russian, English and
Simplified Chinese; money grouped with the currency, no untranslated headings."""

import pytest

from dms.core import roles
from parts import services as parts_services
from tests.orders.factories import PartFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_kpi_page_with_charts_in_each_language(page, login, make_user, dealership, language):
    from django.utils import translation

    make_user(roles.DIRECTOR, username="director")
    keeper = make_user(roles.STOREKEEPER)
    part = PartFactory(dealership=dealership, price=1000)
    parts_services.stock_receive(actor=keeper, dealership=dealership, part=part, quantity=12, unit_cost="1234.5")
    login("director")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + "/orders/kpis/")
    with translation.override(language):
        title, aged = translation.gettext("Parts KPIs"), translation.gettext("Aged stock")
    assert page.locator("h1").inner_text() == title
    assert page.locator("svg.kpi-chart").count() == 2
    assert aged in page.locator("body").inner_text()
    stock_value = page.locator("#kpi-stock-value").inner_text()
    assert (
        stock_value.replace("\u00a0", " ")
        .replace("\u202f", " ")
        .startswith({"ru": "14 814,00", "en": "14,814.00", "zh-hans": "14,814.00"}[language])
    ), stock_value
    page.screenshot(path=f"/tmp/rev15-kpis-{language}.png", full_page=True)
