"""A validity check compiled from a JSON Schema: the fast "is it valid?" before jsonschema.

A fenced fast path:
- Replaces jsonschema's validation (`schema._validator().is_valid`) of a manifest that is
  valid. jsonschema still explains every manifest the check rejects, so every problem a user
  reads comes from jsonschema, and a valid manifest never imports it.
- Gains, measured by `benchmarks/fast_paths.py` (medians of CPU time, one run, 2026-11-29, a
  shared 2-core machine): validating bench.py's 1,000-group plan manifest takes 7 ms instead
  of 104 ms, load_manifest whole 59 ms instead of 210 ms (1 MiB: 0.97 s instead of 2.9 s),
  and `import jsonschema` (100 ms) is skipped. `secretsync validate` of that workspace, as a
  whole process: 320 ms with the check, 439 ms without it. Since then (plain loops instead of
  all()/any() over generators, and the memo of a valid mapping covering its whole schema
  place, not only its properties), `benchmarks/validate_split.py`'s schema step, old and new
  run alternately (medians of CPU time, 2026-11-29): 4.5 ms instead of 14.3 on that plan
  manifest, 78 ms instead of 241 on the 26,000-line `validate` manifest.
- Pinned to jsonschema by tests in tests/manifest/test_manifest_speed.py, with hypothesis:
    test_quick_check_and_jsonschema_agree_on_any_data        (generated JSON values)
    test_quick_check_and_jsonschema_agree_on_edited_manifests (mutated valid manifests)
  and test_quick_check_accepts_the_valid_manifests_jsonschema_accepts and
  test_quick_check_refuses_keywords_it_does_not_know; its memo of mappings shared through
  aliases (a group reused 2,000 times is checked once per place in the schema) by
  tests/manifest/test_schema_memo.py and
  tests/manifest/test_anchors.py::test_a_shared_mapping_valid_in_one_place_is_still_checked_in_another.
- Delete it (make `schema.quick_valid` return False, then remove this module) when
  jsonschema validates and imports in a few ms, or when the schema needs a keyword this
  compiler lacks: rather than grow it into a second jsonschema.

The compiler knows the keywords the manifest schema uses (type, const, properties,
additionalProperties, required, dependentRequired, propertyNames, pattern, minLength,
minItems, minProperties, items, oneOf, local $ref) and refuses any other (UnsupportedSchema:
jsonschema then does everything). A "valid" from the check must never be wrong; every keyword
is exact, so oneOf counts its branches right. An "invalid" costs only the slow path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Check = Callable[[object], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"}
)
_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
}


class UnsupportedSchema(Exception):
    """The schema uses a keyword the compiler does not know."""


def compile_check(schema: dict[str, Any], regex: Callable[[str], re.Pattern[str]]) -> Check:
    """A check of `schema`; `regex` compiles its patterns. UnsupportedSchema if it uses a
    keyword not known here."""
    compiler = _Compiler(schema, regex)
    check = compiler.compile(schema)

    def run(instance: object) -> bool:
        try:
            return check(instance)
        finally:
            for valid in compiler.valid:
                valid.clear()

    return run


class _Compiler:
    def __init__(self, root: dict[str, Any], regex: Callable[[str], re.Pattern[str]]) -> None:
        self.regex = regex
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.done: dict[str, Check] = {}
        # Per mapping check, the ids of the mappings it found valid during one run: an alias
        # makes many paths share one mapping (a group reused 2,000 times is checked once).
        self.valid: list[set[int]] = []

    def compile(self, schema: Any) -> Check:
        if not isinstance(schema, dict):
            raise UnsupportedSchema(repr(schema)[:40])
        checks: list[Check] = []
        for key, value in schema.items():
            check = None if key in _ANNOTATIONS else self.keyword(key, value, schema)
            if check is not None:
                checks.append(check)
        whole = _every(checks)
        if "properties" not in schema and "additionalProperties" not in schema:
            return whole
        # A mapping schema: its verdict on a mapping found valid is remembered for the run,
        # by id, whole (type, required, oneOf, propertyNames... as well as the properties),
        # so a mapping shared through aliases is checked once per schema place.
        valid: set[int] = set()
        self.valid.append(valid)

        def remembered(x: object) -> bool:
            if not isinstance(x, dict):
                return whole(x)
            if id(x) in valid:
                return True
            if whole(x):
                valid.add(id(x))
                return True
            return False

        return remembered

    def ref(self, ref: Any) -> Check:
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else ""
        if name not in self.defs or "/" in name:
            raise UnsupportedSchema(f"$ref {ref!r}")
        if name not in self.done:
            self.done[name] = lambda x: self.done[name](x)  # a cycle resolves on use
            self.done[name] = self.compile(self.defs[name])
        return self.done[name]

    def keyword(self, key: str, value: Any, schema: dict[str, Any]) -> Check | None:
        if key == "type":
            names = [value] if isinstance(value, str) else value
            if any(name not in _TYPES for name in names):
                raise UnsupportedSchema(f"type {names!r}")
            tests = [_TYPES[name] for name in names]
            return tests[0] if len(tests) == 1 else _any(tests)
        if key == "const" and (value is None or isinstance(value, bool)):
            return lambda x: x is value
        if key == "const" and isinstance(value, str):
            return lambda x: x == value
        if key == "const" and isinstance(value, (int, float)):
            # jsonschema's equality: 1.0 is 1, True is not.
            return lambda x: not isinstance(x, (str, bool)) and x == value
        if key == "properties" or (key == "additionalProperties" and "properties" not in schema):
            return self.properties(schema)
        if key == "additionalProperties":
            return None  # with "properties"
        if key == "required":
            needed = list(value)

            def required(x: object) -> bool:
                if isinstance(x, dict):
                    for name in needed:
                        if name not in x:
                            return False
                return True

            return required
        if key == "dependentRequired":
            pairs = list(value.items())
            return lambda x: (
                not isinstance(x, dict)
                or all(all(n in x for n in needs) for name, needs in pairs if name in x)
            )
        if key == "propertyNames":
            names = self.compile(value)
            return lambda x: not isinstance(x, dict) or _each(names, x)
        if key == "pattern":
            search = self.regex(value).search
            return lambda x: not isinstance(x, str) or search(x) is not None
        if key == "minLength":
            return lambda x: not isinstance(x, str) or len(x) >= value
        if key == "minItems":
            return lambda x: not isinstance(x, list) or len(x) >= value
        if key == "minProperties":
            return lambda x: not isinstance(x, dict) or len(x) >= value
        if key == "items":
            item = self.compile(value)
            return lambda x: not isinstance(x, list) or _each(item, x)
        if key == "oneOf":
            branches = [self.compile(b) for b in value]

            def one_of(x: object) -> bool:
                passed = 0
                for branch in branches:
                    if branch(x):
                        passed += 1
                        if passed > 1:
                            return False
                return passed == 1

            return one_of
        if key == "$ref":
            return self.ref(value)
        raise UnsupportedSchema(key)

    def properties(self, schema: dict[str, Any]) -> Check:
        known = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        extra_schema = schema.get("additionalProperties", True)
        extra = None if extra_schema in (True, False) else self.compile(extra_schema)
        closed = extra_schema is False

        def check(x: object) -> bool:
            if not isinstance(x, dict):
                return True
            for name, value in x.items():
                test = known.get(name, extra)
                if test is None:
                    if closed:
                        return False
                elif not test(value):
                    return False
            return True

        return check


# The checks run once per node and schema place (~60,000 calls for bench.py's plan manifest):
# plain loops, not all()/any() over a generator, which costs a generator object per call.


def _every(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def every(x: object) -> bool:
        for check in checks:  # noqa: SIM110 - on purpose, see above
            if not check(x):
                return False
        return True

    return every


def _any(tests: list[Check]) -> Check:
    def any_of(x: object) -> bool:
        for test in tests:  # noqa: SIM110 - on purpose, see above
            if test(x):
                return True
        return False

    return any_of


def _each(check: Check, values: Iterable[object]) -> bool:
    for value in values:  # noqa: SIM110 - on purpose, see above
        if not check(value):
            return False
    return True
