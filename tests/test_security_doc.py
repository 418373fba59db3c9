"""docs/security.md names, for each promise, the tests that fail when it is broken: every test
it names must exist, every promise must name one, and the README must link the page."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _promises() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Promises", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("- ")]


def test_every_named_test_exists():
    text = DOC.read_text(encoding="utf-8")
    named = REFERENCE.findall(text)
    assert len(named) >= 40
    missing = []
    for path, name in named:
        file = ROOT / path
        source = file.read_text(encoding="utf-8") if file.is_file() else ""
        if not re.search(rf"^\s*(async )?def {name}\(", source, re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_promise_names_a_test():
    promises = _promises()
    assert len(promises) >= 20
    assert [p for p in promises if not REFERENCE.search(p)] == []


def test_the_readme_links_the_threat_model():
    assert "docs/security.md" in (ROOT / "README.md").read_text(encoding="utf-8")
