"""schemacheck's memo: a mapping found valid at one place of the schema is not checked again
there during the same run (aliases make one mapping appear at thousands of paths). Only
"valid" is remembered, per place, per run: the verdicts must stay jsonschema's."""

from __future__ import annotations

import copy
import re

import pytest

from secretsync.manifest import schema
from secretsync.manifest.schemacheck import compile_check


def _manifest(groups: object, *, repos: int = 3) -> dict[str, object]:
    return {"version": 1, "repos": [{"repo": f"a/r{i}", "groups": groups} for i in range(repos)]}


def _shared_cases() -> dict[str, object]:
    group = {"dotenv": "env/a.env", "secrets": {"DB": {"env": "DB_URL"}}}
    groups = {"default": group, "other": group}
    entry = {"repo": "a/b", "groups": groups}
    return {
        "valid, shared": _manifest(groups),
        "an empty groups mapping, shared (minProperties)": _manifest({}),
        "a bad group name, shared (propertyNames)": _manifest({"bad name": group}),
        "a group with an unknown field, shared": _manifest({"d": {**group, "nope": 1}}),
        "a shared entry naming repo and repo_id (oneOf)": {
            "version": 1,
            "repos": [{**entry, "repo_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}] * 2,
        },
        "a shared entry without groups (required)": {"version": 1, "repos": [{"repo": "a/b"}] * 2},
        "match without org (dependentRequired)": {
            "version": 1,
            "repos": [{**entry, "match": ["x"]}] * 2,
        },
        "a shared group valid as a group, not as api": {**_manifest(groups), "api": group},
        "a shared set, valid in both places": {
            **_manifest({"d": {"use": ["s"]}}),
            "sets": {"s": {"secrets": group["secrets"]}, "t": {"secrets": group["secrets"]}},
        },
    }


@pytest.mark.parametrize("case", _shared_cases())
def test_the_quick_check_agrees_with_jsonschema_on_shared_mappings(case):
    data = _shared_cases()[case]
    expected = schema._validator().is_valid(data)
    assert schema.quick_valid(data) is expected
    # written out (nothing shared) the verdict is the same
    assert schema.quick_valid(copy.deepcopy(data)) is expected


def test_the_memo_does_not_outlive_a_run():
    group = {"dotenv": "env/a.env"}
    data = _manifest({"default": group})
    assert schema.quick_valid(data) is True
    group["unknown"] = "x"  # the same objects, now invalid: a kept memo would say valid
    assert schema.quick_valid(data) is False
    del group["unknown"]
    assert schema.quick_valid(data) is True


class _Counting:
    """A compiled pattern that counts its searches."""

    def __init__(self, pattern: str, counts: dict[str, int]) -> None:
        self.pattern = re.compile(pattern)
        self.counts = counts
        counts.setdefault(pattern, 0)

    def search(self, text: str) -> re.Match[str] | None:
        self.counts[self.pattern.pattern] += 1
        return self.pattern.search(text)


def test_a_shared_mapping_is_checked_once_per_place_whole():
    counts: dict[str, int] = {}
    check = compile_check(schema.manifest_schema(), lambda p: _Counting(p, counts))  # type: ignore[arg-type,return-value]
    groups = {"default": {"dotenv": "env/a.env"}, "other": {"dotenv": "env/b.env"}}
    assert check(_manifest(groups, repos=50)) is True
    group_names = next(p for p in counts if p.startswith("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"))
    repo_slugs = next(p for p in counts if "/" in p)
    # each repository entry is its own mapping: its slug is checked 50 times; the groups
    # mapping they share has its names (propertyNames) checked once, not 50 times
    assert counts[repo_slugs] == 50
    assert counts[group_names] == 2
