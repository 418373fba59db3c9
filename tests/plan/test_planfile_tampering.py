"""A saved plan is a contract: any edit to what it says, or a weaker digest, stops apply."""

from __future__ import annotations

import json

import pytest

from secretsync.errors import ConfigError, PlanMismatchError
from secretsync.models import Action
from secretsync.plan.planfile import load_plan, save_plan
from secretsync.plan.planner import Selection
from tests.factories import change, desired, plan_of, target

URL = "https://api.sourcecraft.tech"


def reviewed(tmp_path):
    t = target(prune=True)
    wanted = [(t, desired(prune=True, NEW="n-value", SAME="s-value"))]
    plan = plan_of(
        change("NEW", Action.CREATE, t=t, value="n-value"),
        change("OLD", Action.DELETE, t=t),
        change("SAME", Action.UNCHANGED, t=t),
    )
    path = tmp_path / "reviewed.plan"
    save_plan(path, plan, wanted, api_url=URL, selection=Selection(), key=None)
    return path, plan, wanted


def test_the_untouched_plan_verifies(tmp_path):
    path, plan, wanted = reviewed(tmp_path)
    load_plan(path).verify(plan, wanted, api_url=URL)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d.update(api_url="https://evil.example"), "API URL was"),
        (lambda d: d["targets"].pop(), "set of repositories and groups differs"),
        (lambda d: d["changes"].pop(1), "reviewed absent, now delete"),
        (lambda d: d["changes"][0].__setitem__(3, "update"), "reviewed update"),
    ],
)
def test_an_edited_plan_is_refused(tmp_path, edit, words):
    path, plan, wanted = reviewed(tmp_path)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(PlanMismatchError) as info:
        load_plan(path).verify(plan, wanted, api_url=URL)
    assert words in info.value.message and "nothing was changed" in info.value.message


def test_changed_values_are_refused(tmp_path):
    path, plan, _ = reviewed(tmp_path)
    other = [(target(prune=True), desired(prune=True, NEW="other", SAME="s-value"))]
    with pytest.raises(PlanMismatchError, match="secret values behind the plan changed"):
        load_plan(path).verify(plan, other, api_url=URL)


def test_a_changed_selection_is_part_of_the_digest(tmp_path):
    path, plan, wanted = reviewed(tmp_path)
    document = json.loads(path.read_text())
    document["selection"]["keys"] = ["NEW"]
    path.write_text(json.dumps(document))
    with pytest.raises(PlanMismatchError, match="values behind the plan changed"):
        load_plan(path).verify(plan, wanted, api_url=URL)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["values"].update(kdf="sha256"), "unsupported value digest"),
        (lambda d: d["values"].update(n=2), "unsupported value digest"),  # a cheaper scrypt
        (lambda d: d["values"].update(salt="not base64!"), "malformed plan file"),
        (lambda d: d.update(format_version=2), "format version 1"),
        (lambda d: d.pop("changes"), "malformed plan file"),
    ],
)
def test_a_weakened_or_broken_file_is_refused_on_load(tmp_path, edit, words):
    path, _, _ = reviewed(tmp_path)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError, match=words):
        load_plan(path)
