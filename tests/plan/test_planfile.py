"""Saved plans with SECRETSYNC_PLAN_KEY: the digest is keyed, so the file alone tests nothing."""

from __future__ import annotations

import base64
import json

import pytest

from secretsync.errors import ConfigError, PlanMismatchError
from secretsync.models import Secret
from secretsync.plan.planfile import load_plan, plan_key, save_plan, values_digest
from secretsync.plan.planner import Selection
from tests.factories import desired, plan_of, target

KEY = Secret(b"plan-key-7f2c")


def saved(tmp_path, key):
    t = target()
    wanted = [(t, desired(PIN="4721"))]
    path = tmp_path / "p.plan"
    save_plan(path, plan_of(), wanted, api_url="https://api", selection=Selection(), key=key)
    return path, wanted


def test_a_keyed_plan_verifies_with_the_key_only(tmp_path):
    path, wanted = saved(tmp_path, KEY)
    document = json.loads(path.read_text())
    assert document["values"]["kdf"] == "scrypt+hmac-sha256"
    plan = load_plan(path)
    plan.verify(plan_of(), wanted, api_url="https://api", key=KEY)  # no error
    with pytest.raises(PlanMismatchError, match="values behind the plan changed"):
        plan.verify(plan_of(), wanted, api_url="https://api", key=Secret(b"another-key"))
    with pytest.raises(ConfigError, match="saved with SECRETSYNC_PLAN_KEY set"):
        plan.verify(plan_of(), wanted, api_url="https://api", key=None)


def test_without_the_key_the_file_does_not_confirm_a_guess(tmp_path):
    path, wanted = saved(tmp_path, KEY)
    values = json.loads(path.read_text())["values"]
    salt, digest = base64.b64decode(values["salt"]), base64.b64decode(values["digest"])
    assert values_digest(wanted, Selection(), salt) != digest  # the right guess, no key
    assert values_digest(wanted, Selection(), salt, KEY) == digest


def test_an_unkeyed_plan_still_verifies_when_a_key_is_set_later(tmp_path):
    path, wanted = saved(tmp_path, None)
    assert json.loads(path.read_text())["values"]["kdf"] == "scrypt"
    load_plan(path).verify(plan_of(), wanted, api_url="https://api", key=KEY)


def test_plan_key_comes_from_the_environment():
    assert plan_key({}) is None and plan_key({"SECRETSYNC_PLAN_KEY": ""}) is None
    key = plan_key({"SECRETSYNC_PLAN_KEY": "k"})
    assert key is not None and key.reveal() == b"k"
