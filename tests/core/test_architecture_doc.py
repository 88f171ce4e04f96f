"""docs/ARCHITECTURE.md stays true (issue 13): every file its rule table (section 5) names exists, and every
function, class or constant it names after a file is named in that file (defined, or used where the map says it is
used). A rename or a move that forgets the map fails here.

In a cell, a backticked name belongs to the file named last before it, or to the file that follows it as
"`NAME` in `path`"; a dotted name (``CustomerOrder.place``) needs each part; ``…_fmc_confirm`` (an elided prefix) is
not checked. A bare test file name (``test_views.py``) is in the folder of the last test file named with its folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"

TOKEN = re.compile(r"`([^`]+)`")
PATH = re.compile(r"^[a-z_]+(/[a-z_]+)*\.py$")
MODULE_NAME = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+)\.([A-Za-z_][A-Za-z0-9_]*)$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def rule_rows() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 5.", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("rule", "---"):
            rows.append(cells)
    return rows


def names(source: str, name: str) -> bool:
    """``name`` stands in ``source`` as a whole word (a definition, a use, a constraint's quoted name)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", source) is not None


def names_by_file(cell: str) -> list[tuple[str, str]]:
    """(file, name) pairs of an "enforced in" cell."""
    tokens = [(match.group(1), cell[match.end() :]) for match in TOKEN.finditer(cell)]
    pairs, current = [], None
    for index, (token, after) in enumerate(tokens):
        if PATH.match(token):
            current = token
            continue
        module = MODULE_NAME.match(token)
        if module and (ROOT / (module.group(1).replace(".", "/") + ".py")).exists():
            pairs.append((module.group(1).replace(".", "/") + ".py", module.group(2)))
            continue
        if "…" in token or not NAME.match(token):
            continue
        owner = current
        if after.startswith(" in `") and index + 1 < len(tokens) and PATH.match(tokens[index + 1][0]):
            owner = tokens[index + 1][0]
        pairs.append((owner, token))
    return pairs


ROWS = rule_rows()


def test_the_table_names_every_rule():
    named = {int(number) for row in ROWS for number in re.findall(r"\bR(\d+)\b", row[0])}
    assert set(range(1, 34)) <= named


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:40] for row in ROWS])
def test_every_named_function_is_where_the_map_says(row):
    missing = []
    for path in {token for token in TOKEN.findall(row[1]) if PATH.match(token)}:
        if not (ROOT / path).is_file():
            missing.append(f"no file {path}")
    for path, name in names_by_file(row[1]):
        if path is None:
            missing.append(f"`{name}` follows no file")
            continue
        file = ROOT / path
        if not file.is_file():
            continue  # already reported
        source = file.read_text(encoding="utf-8")
        for part in name.split("."):
            if not names(source, part):
                missing.append(f"{path} does not name `{part}` (of `{name}`)")
    assert not missing, missing


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:40] for row in ROWS])
def test_every_named_test_file_exists(row):
    folder, missing = None, []
    for token in TOKEN.findall(row[2]):
        if not token.endswith(".py"):
            continue
        if "/" in token:
            path = ROOT / token
            folder = path.parent
        elif folder is not None:
            path = folder / token
        else:
            missing.append(f"{token}: no folder")
            continue
        if not path.is_file():
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, missing


def test_every_core_module_in_the_map_exists():
    """Section 2 lists dms/core's modules by file name: each is a file of dms/core (or the path it gives)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 2.", 1)[1].split("\n## ", 1)[0]
    missing = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("module", "---"):
            continue
        for token in TOKEN.findall(cells[0]):
            if token.endswith(".py") and not ((ROOT / "dms" / "core" / token).is_file() or (ROOT / token).is_file()):
                missing.append(token)
    assert not missing, missing
