"""Issue 12 item 2, swept over the pages: every POST form that any page shows (to a superuser of the demo
dealership, who sees every form) is submitted with a control character in each of its text inputs and textareas;
the answer is never a 500 and nothing is stored.

The pages come from the access matrix's page table, which a test there keeps complete against the URL resolver.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.hardening.test_access_matrix import PAGES, page_url, snapshot
from tests.hardening.test_access_matrix import world as matrix_world

world = matrix_world  # the access matrix's demo world (module-scoped fixture), built once for this module too

BAD = "Text\x1fmore"
TEXT_INPUTS = {"text", "search", "email", "tel", "url", ""}
# Forms outside this sweep's reach: signing out ends the session the sweep runs in.
SKIPPED_ACTIONS = ("/accounts/logout/",)


class _Forms(HTMLParser):
    """The page's POST forms: action, and (name, value, is_text) of each field (first option of a select)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("file", "submit", "button", "image", "reset"):
                return
            self._form["fields"].append([a["name"], a.get("value") or "", kind in TEXT_INPUTS])
        elif tag == "textarea" and a.get("name"):
            self._form["fields"].append([a["name"], "", True])
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and a.get("value"):
            self._form["fields"].append([self._select, a["value"], False])
            self._select = None

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@pytest.fixture
def superuser_client(world, db):
    user = UserFactory(username="m_superuser", is_superuser=True, is_staff=True, dealership=[world.main])
    client = Client()
    client.force_login(user)
    return client


def _text_rows_with_control_characters() -> int:
    from django.apps import apps
    from django.db import models

    from dms.core.validators import PROJECT_APP_LABELS

    found = 0
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APP_LABELS:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                found += model._base_manager.filter(**{f"{field.attname}__contains": "\x1f"}).count()
    return found


def test_every_page_form_refuses_control_characters(world, superuser_client):
    client = superuser_client
    seen: set[tuple[str, tuple]] = set()
    failures, submitted, stored = [], 0, _text_rows_with_control_characters()
    assert stored == 0
    for name in sorted(PAGES):
        row = PAGES[name]
        if not row.get:
            continue
        url = page_url(world, name, row)
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(page.content.decode())
        for form in parser.forms:
            action = urljoin(url, form["action"] or url)
            names = tuple(sorted({f[0] for f in form["fields"] if f[2]}))
            if not names or action.startswith(SKIPPED_ACTIONS) or (action.split("?")[0], names) in seen:
                continue
            seen.add((action.split("?")[0], names))
            data: dict[str, list[str]] = {}
            for field_name, value, is_text in form["fields"]:
                data.setdefault(field_name, []).append(BAD if is_text else value)
            before = snapshot()
            response = client.post(action, data)
            submitted += 1
            if response.status_code >= 500:
                failures.append(f"POST {action} (form on {name}): {response.status_code}")
            after = snapshot()
            changed = sorted(t for t in before if before[t] != after.get(t) and not t.startswith("core_auditentry"))
            if changed and (now := _text_rows_with_control_characters()) > stored:
                failures.append(f"POST {action} (form on {name}) stored a control character in {changed}")
                stored = now
    assert submitted >= 30, submitted  # the sweep really reaches the forms
    assert not failures, "\n".join(failures)
