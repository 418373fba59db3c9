"""The one warning line per group that lists keys with invalid names: its exact wording for
one key, for as many as it names, and past that (a count of the rest)."""

from __future__ import annotations

import pytest

from secretsync.models import Secret, Target
from secretsync.plan.planner import plan_group
from tests.factories import desired

TARGET = Target(repo="acme/app", repo_id="0" * 8, group="default", prune=True)


def warning_for(keys: list[str]) -> str:
    part = plan_group(TARGET, desired(prune=True), dict.fromkeys(keys, Secret(b"x")))
    (warning,) = part.warnings
    return warning


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            ["a/b"],
            "acme/app group default: the API lists 1 key that is not a valid secret name "
            "('a/b'); it is left alone, never written or deleted",
        ),
        (
            ["a/1", "a/2"],
            "acme/app group default: the API lists 2 keys that are not valid secret names "
            "('a/1', 'a/2'); they are left alone, never written or deleted",
        ),
        (
            [f"a/{n}" for n in range(5)],
            "acme/app group default: the API lists 5 keys that are not valid secret names "
            "('a/0', 'a/1', 'a/2', 'a/3', 'a/4'); they are left alone, never written or deleted",
        ),
        (
            [f"a/{n}" for n in range(7)],
            "acme/app group default: the API lists 7 keys that are not valid secret names "
            "('a/0', 'a/1', 'a/2', 'a/3', 'a/4' and 2 more); they are left alone, never "
            "written or deleted",
        ),
    ],
)
def test_the_warning_says_how_many_and_names_the_first_five(keys, expected):
    assert warning_for(keys) == expected
