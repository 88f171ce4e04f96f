"""Every shipped catalogue is complete: no empty or fuzzy translation in ru, en or zh_Hans (issue 8, part 5)."""

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
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


# Where each catalogue's messages come from: the project's own (dms/, templates/) and each app's.
APPS_WITH_CATALOGUES = sorted({p.parents[2].parent.name for p in CATALOGUES if p.parents[2].parent != ROOT})


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
@pytest.mark.parametrize("source", ["(project)", *APPS_WITH_CATALOGUES])
def test_catalogues_cover_every_message_in_the_code(source, tmp_path, settings):
    """A text added to the code or a template without a translation fails here, not in front of a user: makemessages
    runs on a copy of the sources and must find nothing new in ru, en or zh_Hans.
    """
    settings.LOCALE_PATHS = []  # makemessages writes only into the copy's own locale/
    if source == "(project)":
        work = tmp_path / "project"
        for part in ("dms", "templates", "locale"):
            shutil.copytree(ROOT / part, work / part, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        work = tmp_path / source
        shutil.copytree(ROOT / source, work, ignore=shutil.ignore_patterns("__pycache__"))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        call_command("makemessages", locale=list(LANGUAGES), verbosity=0, no_obsolete=True)
    finally:
        os.chdir(cwd)
    for lang in LANGUAGES:
        po = polib.pofile(str(work / "locale" / lang / "LC_MESSAGES" / "django.po"))
        missing = [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()]
        assert not missing, f"{source} {lang}: no translation for {missing[:10]} (make messages, then translate)"
