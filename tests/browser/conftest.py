"""Headless Chromium (Debian's, never a downloaded one) driven by Playwright against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}"))


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Issue 12, item 8: Chromium reports what the Content-Security-Policy blocked (an inline script or handler, a file
# from another host) on the console; the DOM's securitypolicyviolation event is logged there too, with the directive.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error("Content Security Policy violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber));
"""


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def page(chromium, live_server, settings):
    settings.AXES_ENABLED = False
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    context.set_default_timeout(15000)
    context.add_init_script(CSP_REPORTER)
    page = context.new_page()
    page.base_url = live_server.url
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            page.csp_violations.append(f"{page.url}: {message.text}")
            if message.type == "error" and is_csp_violation(message.text)
            else None
        ),
    )
    yield page
    context.close()
    # Any page the test opened that broke the policy fails the test (here, at teardown, after the journey).
    assert not page.csp_violations, "CSP violations:\n" + "\n".join(page.csp_violations)


@pytest.fixture
def login(page):
    def do_login(username: str, password: str = "pass12345"):
        page.goto(page.base_url + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "/accounts/login/" not in page.url, f"login as {username} failed"
        return page

    return do_login


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(name: str):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot
