"""The structural plan's renderings: JSON of the published schema (its own kind; exact reports
keep theirs), Markdown that a hostile path cannot break, and the counts and calls-out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from secretsync.models import Action
from secretsync.report.json_report import build_report
from secretsync.report.structural import (
    build_structural_report,
    render_structural_text,
    summary_line,
)
from secretsync.report.structural_markdown import render_structural_markdown
from secretsync.review.records import (
    BaseInfo,
    EntryChange,
    GroupChange,
    KeyChange,
    StructuralPlan,
)
from tests.factories import change, plan_of, target

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent.parent / "schemas/report.schema.json").read_text()
)


def plan(*keys: KeyChange, status: str = "ok", groups=(), entries=()) -> StructuralPlan:
    return StructuralPlan(
        base=BaseInfo(
            ref="origin/main",
            commit="a" * 40,
            manifest="secretsync.yaml",
            status=status,  # type: ignore[arg-type]
            problems=("origin/main:secretsync.yaml:3:1: bad",) if status == "invalid" else (),
        ),
        entries=tuple(entries),
        groups=tuple(groups),
        keys=keys,
    )


def key(name: str, change: str, **kw) -> KeyChange:  # type: ignore[no-untyped-def]
    fields = {"before": "env:A", "after": "env:A", "content": "environment", **kw}
    return KeyChange(repo="acme/app", group="default", key=name, change=change, **fields)  # type: ignore[arg-type]


SELECTOR = EntryChange(
    repo="acme/svc-*",
    change="changed",
    org="acme",
    before=(("svc-*",), ()),
    after=(("svc-*",), ("svc-old",)),
    selects="every repository of acme whose name matches svc-*, except svc-old",
)
PRUNE_ON = GroupChange(
    repo="acme/app", group="default", change="unchanged", prune_before=False, prune_after=True
)


@pytest.mark.parametrize("status", ["ok", "missing", "invalid"])
def test_structural_json_matches_the_schema(status):
    report = build_structural_report(
        plan(
            key("A", "added", before=None, content=None),
            key("R", "removed", after=None, content=None, deletes=True),
            key("S", "source", before="file:a", after="file:b", content="unchanged"),
            key("C", "content", before="file:a", after="file:a", content="changed"),
            key("O", "unchanged", before="file:/x", after="file:/x", content="outside"),
            status=status,
            groups=[PRUNE_ON],
            entries=[SELECTOR],
        )
    )
    validator = Draft202012Validator(SCHEMA)
    validator.validate(report)
    assert report["summary"] == {
        "added": 1,
        "removed": 1,
        "source_changed": 1,
        "content_changed": 1,
        "unchanged": 1,
        "deletions": 1,
        "prune_switched": 1,
        "entries_changed": 1,
        "sets_changed": 0,
    }
    # The schema tells the kinds apart: a structural report is not an exact one, nor back.
    broken = {**report, "base": None}
    with pytest.raises(ValidationError):
        validator.validate(broken)
    exact = build_report(
        "plan", plan_of(change("A", Action.CREATE, value="v"), targets=(target(),))
    )
    validator.validate(exact)
    with pytest.raises(ValidationError):
        validator.validate({**exact, "kind": "structural-plan"})


def test_markdown_survives_hostile_paths():
    hostile = "file:a|b`</code><script>x</script>[l](http://e)"
    md = render_structural_markdown(plan(key("K", "source", before="env:A", after=hostile)))
    row = next(line for line in md.splitlines() if "`K`" in line)
    cells = re.split(r"(?<!\\)\|", row)
    assert len(cells) == 9  # seven cells: the pipe in the path did not split one
    cell = cells[6].strip()
    assert cell.startswith("``") and cell.endswith("``")  # the backtick did not close it
    assert "<script>" not in md.replace(cell, "")


def test_deletions_and_prune_switches_are_called_out():
    p = plan(key("OLD", "removed", after=None, content=None, deletes=True), groups=[PRUNE_ON])
    text = render_structural_text(p)
    assert "Deletions (prune: on), if the key is stored:" in text
    assert "warning: 1 secret(s) will be deleted because prune is on." in text
    assert "prune switched on in acme/app · default: apply will delete every stored key" in text
    md = render_structural_markdown(p)
    assert "> [!WARNING]\n> 1 secret(s) will be deleted (prune):" in md
    assert "**delete** (prune)" in md
    assert "; 1 to delete (prune)" in summary_line(p)


def test_missing_and_invalid_base_are_said():
    assert "no manifest at origin/main: every entry is new" in render_structural_text(
        plan(status="missing")
    )
    text = render_structural_text(plan(status="invalid"))
    assert "warning: origin/main:secretsync.yaml:3:1: bad" in text
    assert "is not valid: every entry is shown as new" in text


def test_a_removed_key_without_prune_stays_stored():
    same = GroupChange(
        repo="acme/app", group="default", change="unchanged", prune_before=False, prune_after=False
    )
    gone = key("GONE", "removed", after=None, content=None)
    text = render_structural_text(plan(gone, groups=[same]))
    assert "- GONE" in text and "no longer managed" in text and "Deletions" not in text


def test_record_reprs_hold_no_content():
    from secretsync.models import Secret
    from secretsync.review.sides import Value

    value = Value(label="file:k", content=Secret(b"hunter2-value"), where="repository")
    assert "hunter2" not in repr(value) and "hunter2" not in str(value)


def test_sets_are_listed_with_their_users():
    from dataclasses import replace

    from secretsync.review.records import SetChange

    changed = SetChange(
        name="observability",
        change="changed",
        used_by=("acme/app · default", "acme/web · default"),
        uses_changed=False,
    )
    p = replace(plan(), sets=(changed,))
    assert p.has_changes
    assert (
        "set observability: declaration changed, used by acme/app · default, acme/web · default"
        in render_structural_text(p)
    )
    assert "- set `observability`: declaration changed" in render_structural_markdown(p)
    report = build_structural_report(p)
    Draft202012Validator(SCHEMA).validate(report)
    assert report["sets"][0]["used_by"] == ["acme/app · default", "acme/web · default"]
    assert report["summary"]["sets_changed"] == 1


def test_markdown_collapses_sections_when_many_repositories_change():
    from dataclasses import replace

    many = [
        replace(key("K", "added", before=None, content=None), repo=f"acme/r{i}") for i in range(11)
    ]
    assert "<details open>" not in render_structural_markdown(plan(*many))
    assert render_structural_markdown(plan(*many[:3])).count("<details open>") == 3
