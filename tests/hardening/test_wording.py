"""What users read (issue 14 item 8): one message means one thing in every app, and rule numbers stay in the code.

Django merges every app's catalogue into one per language, the first app winning: a msgid that two apps translate
differently shows one app's sense in the other (the appointment's «Book» read «По учёту», the stock count's sense).
Words with two senses carry a context (``pgettext``); the sweep below fails on any msgid translated two ways.
"""

import collections
import re
from pathlib import Path

import polib
import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from tests.hardening.test_page_languages import MAIN_PAGES, latin_client, visible_text  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(
    p for p in ROOT.glob("**/locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts and "var" not in p.parts
)
RULE_NUMBER = re.compile(r"\bR\d{1,2}\b")


@pytest.mark.parametrize("language", ["ru", "en", "zh_Hans"])
def test_no_message_is_translated_two_ways_across_apps(language):
    translations = collections.defaultdict(lambda: collections.defaultdict(list))
    for path in CATALOGUES:
        if path.parts[-3] != language:
            continue
        for entry in polib.pofile(str(path)).translated_entries():
            msgstr = entry.msgstr if not entry.msgid_plural else tuple(sorted(entry.msgstr_plural.items()))
            translations[(entry.msgctxt, entry.msgid)][msgstr].append(str(path.relative_to(ROOT).parts[0]))
    clashes = {key: dict(values) for key, values in translations.items() if len(values) > 1}
    assert not clashes, f"give these a context (pgettext) or one translation: {list(clashes.items())[:5]}"


@pytest.mark.django_db
def test_appointment_form_books_an_appointment(client, advisor):
    client.force_login(advisor)
    html = client.get(reverse("service:appointment_create")).content.decode()
    button = re.search(r'<button class="btn btn-primary" type="submit">([^<]*)</button>', html)
    assert button and button.group(1) == "Записать"
    assert "По учёту" not in html
    with translation.override("ru"):
        # The stock count keeps its own sense of the word.
        assert translation.pgettext("stock count", "Book") == "По учёту"
        assert translation.pgettext("appointment action", "Book") == "Записать"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_rule_number_in_any_translation(path):
    """Every text a user reads passes through a catalogue: no R15 in any of them (in the code comments only)."""
    shown = [e.msgstr for e in polib.pofile(str(path)).translated_entries() if RULE_NUMBER.search(e.msgstr)]
    assert not shown, f"{path}: {shown[:5]}"


def test_no_rule_number_in_template_text():
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = re.sub(r"(?s)\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", " ", template.read_text())
        text = re.sub(r"\{#.*?#\}", " ", text)
        if RULE_NUMBER.search(text):
            offenders.append(str(template.relative_to(ROOT)))
    assert not offenders, offenders


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("name", MAIN_PAGES)
def test_main_pages_show_no_rule_numbers(latin_client, name, language):  # noqa: F811 - the imported fixture
    latin_client.cookies["django_language"] = language
    response = latin_client.get(reverse(name))
    assert response.status_code == 200, f"{name}: {response.status_code}"
    found = RULE_NUMBER.findall(visible_text(response.content.decode()))
    assert not found, f"{name} in {language} shows rule numbers {found}"


def test_error_templates_load():
    for name in ("400.html", "403.html", "404.html", "500.html"):
        get_template(name)
    get_template("403_csrf.html")


@pytest.mark.django_db
def test_order_dashboard_marks_a_long_term_order_in_words(client, advisor, vehicle):
    """The dashboard's badge for an agreed long delivery term read «R4»."""
    from orders import services as order_services
    from tests.orders.factories import PartFactory

    order = order_services.customer_order_create(
        actor=advisor,
        dealership=vehicle.dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        kind="warranty",
        lines=[{"part": PartFactory(dealership=vehicle.dealership), "quantity": 1}],
        long_term_agreed=True,
    )
    client.force_login(advisor)
    html = client.get(reverse("orders:dashboard")).content.decode()
    row = html[html.index(f'id="order-{order.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "долгий срок" in row
    assert not RULE_NUMBER.findall(visible_text(html))
