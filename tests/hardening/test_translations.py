"""Every shipped catalogue is complete: no empty or fuzzy translation in ru, en or zh_Hans (issue 8, part 5)."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("ru", "en", "zh_Hans")
CATALOGUES = sorted(
    p for p in ROOT.glob("**/locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts and "var" not in p.parts
)


def test_every_app_ships_all_three_languages():
    locale_dirs = {p.parents[2] for p in CATALOGUES}
    assert locale_dirs, "no catalogues found"
    for locale_dir in locale_dirs:
        for lang in LANGUAGES:
            assert (locale_dir / lang / "LC_MESSAGES" / "django.po").exists(), f"{locale_dir} lacks {lang}"
            assert (locale_dir / lang / "LC_MESSAGES" / "django.mo").exists(), f"{locale_dir} lacks compiled {lang}"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_complete_and_compiled(path):
    po = polib.pofile(str(path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {path}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {path}: {fuzzy[:10]}"
    mo = polib.mofile(str(path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    stale = [e.msgid for e in po.translated_entries() if compiled.get((e.msgctxt, e.msgid)) != e.msgstr]
    assert not stale, f"{path.with_suffix('.mo')} is older than its .po: {stale[:5]} (run compilemessages)"


@pytest.mark.parametrize(
    "language, expected",
    [("ru", "Клиенты"), ("en", "Customers"), ("zh-hans", "客户")],
)
def test_runtime_uses_the_catalogues(language, expected):
    with translation.override(language):
        assert translation.gettext("Customers") == expected
