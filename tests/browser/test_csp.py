"""Issue 12, item 8: under the Content-Security-Policy the pages' scripts still work, and so do the admin and the
Swagger UI docs (served from our static files). The ``page`` fixture fails any test whose pages broke the policy."""

import pytest
from django.contrib.auth import get_user_model

from dms.core import roles

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_policy_is_enforced_in_the_browser(page, live_server):
    """The check can fail: a script the policy forbids is blocked and reported."""
    page.goto(page.base_url + "/accounts/login/")
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.ran = true";
                   document.body.appendChild(s); }"""
    )
    assert page.evaluate("() => window.ran === undefined")
    page.wait_for_timeout(200)
    assert page.csp_violations, "Chromium did not report the blocked inline script"
    page.csp_violations.clear()  # expected here; the fixture checks every other test


def test_the_switchers_submit_without_inline_handlers(page, login, make_user):
    make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    login("anna")
    with page.expect_navigation():
        page.select_option("#language-switcher select", "en")
    assert page.locator("html").get_attribute("lang") == "en"


def test_swagger_ui_works_under_the_policy(page):
    page.goto(page.base_url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)  # the schema loaded and rendered (lazily, in batches)
    page.locator(".swagger-ui .opblock-summary").first.click()
    page.wait_for_selector(".swagger-ui .opblock.is-open .opblock-body")  # an operation opens: the UI is live
    assert "/static/drf_spectacular_sidecar/" in page.content()


def test_the_admin_works_under_the_policy(page, login, dealership):
    get_user_model().objects.create_superuser("root", "root@example.com", "pass12345")
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pass12345")
    with page.expect_navigation():
        page.click("input[type=submit]")
    page.goto(page.base_url + "/admin/auth/user/")
    page.click("#action-toggle")  # actions.js: select every row
    assert page.locator("input.action-select:checked").count() >= 1
    page.goto(page.base_url + "/admin/core/dealership/add/")
    page.wait_for_selector("#content-main form")
    page.goto(page.base_url + "/admin/django_celery_beat/periodictask/add/")
    page.wait_for_selector("#periodictask_form")
    # the package's inline script ran (with the nonce): it hides the crontab translation row
    assert page.locator(".field-crontab_translation").is_hidden()


def test_forms_with_data_confirm_ask_first(page):
    """static/js/app.js replaces the inline onsubmit="return confirm(...)" of the cancel buttons."""
    page.goto(page.base_url + "/accounts/login/")
    page.evaluate(
        """() => { const form = document.createElement("form"); form.method = "get"; form.action = "/healthz/";
                   form.dataset.confirm = "Отменить запись?"; form.innerHTML = '<button id="go">go</button>';
                   document.body.appendChild(form); }"""
    )
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#go")
    page.wait_for_timeout(300)
    assert asked == ["Отменить запись?"] and "/accounts/login/" in page.url
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#go")
    assert "/healthz/" in page.url
