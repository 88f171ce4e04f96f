"""Issue 14 item 5: each role lands where its day starts, after login and on "/", as README's demo-users table says."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from dms.core import roles
from dms.core.views import landing_url

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"

# The page each demo user reaches after signing in ("home" = the home dashboard with these panels).
EXPECTED = {
    "advisor": ("/", ["home-appointments", "home-arrivals", "home-calls"]),
    "parts": ("/orders/", []),
    "warranty": ("/claims/", []),
    "storekeeper": ("/parts/stock/", []),
    "inspector": ("/workorders/?status=quality_check", []),
    "director": ("/reports/", ["reports"]),
    "admin": ("/", ["home-appointments", "home-arrivals", "home-calls"]),
}


@pytest.fixture
def demo():
    call_command("load_demo", stdout=io.StringIO())


def _login(username: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": "demo12345"}, follow=True)
    assert response.status_code == 200
    assert response.wsgi_request.user.is_authenticated, username
    return client, response


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_demo_role_lands_where_its_day_starts(demo, username):
    expected_url, panel_ids = EXPECTED[username]
    client, response = _login(username)
    landed = response.wsgi_request.get_full_path()
    assert landed == expected_url
    html = response.content.decode()
    for panel_id in panel_ids:
        assert f'id="{panel_id}"' in html, (username, panel_id)
    # "/" (the DMS brand link) lands on the same page.
    again = client.get(reverse("home"), follow=True)
    assert again.wsgi_request.get_full_path() == expected_url


def test_readme_table_agrees_with_the_app():
    """Every demo user's row in README's "lands on" column names the URL the app lands it on."""
    text = README.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \|[^|]*\| (.*) \|$", text, flags=re.M))
    assert set(rows) == set(EXPECTED)
    for username, (url, _panels) in EXPECTED.items():
        assert f"`{url}`" in rows[username], (username, rows[username])


def test_home_panels_link_to_their_pages(demo):
    client, response = _login("advisor")
    html = response.content.decode()
    assert reverse("notifications:my_calls") in html
    assert f"{reverse('service:appointment_list')}?status=arrived" in html
    assert reverse("service:appointment_calendar") + "?date=" in html


def test_director_reports_list_only_reports_the_role_may_open(demo):
    client, response = _login("director")
    html = response.content.decode()
    for name in ("notifications:call_compliance", "claims:kpi", "parts:stock_value", "parts:job_cost"):
        assert reverse(name) in html, name
    storekeeper, _ = _login("storekeeper")
    page = storekeeper.get(reverse("core:reports")).content.decode()
    assert reverse("notifications:call_compliance") not in page


def test_several_roles_land_by_priority(make_user):
    """A director who also works the parts counter starts at the counter; advisor beats everything."""
    user = make_user(roles.DIRECTOR)
    assert landing_url(user) == reverse("core:reports")
    user.groups.add(Group.objects.get(name=roles.PARTS_MANAGER))
    user = type(user).objects.get(pk=user.pk)
    assert landing_url(user) == reverse("orders:dashboard")
    user.groups.add(Group.objects.get(name=roles.SERVICE_ADVISOR))
    user = type(user).objects.get(pk=user.pk)
    assert landing_url(user) is None  # the home dashboard


def test_every_role_has_a_landing():
    from dms.core.views import role_landings

    landings = role_landings()
    assert set(roles.LANDING_PRIORITY) == set(roles.ALL_ROLES)
    for role in roles.ALL_ROLES:
        assert role in landings, role


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", ["Записи на сегодня", "Прибыли сегодня", "Мои звонки"]),
        ("en", ["Today's appointments", "Arrivals today", "My calls"]),
        ("zh-hans", ["今日预约", "今日到店"]),
    ],
)
def test_home_panels_speak_the_users_language(demo, language, words):
    client = Client()
    client.cookies["django_language"] = language
    response = client.post(reverse("login"), {"username": "advisor", "password": "demo12345"}, follow=True)
    html = response.content.decode()
    for word in words:
        assert escape(word) in html, (language, word)
