"""The manifest's JSON Schema, and its errors turned into one-line human problems.

jsonschema's own messages repeat the offending instance (`{...} is not of type 'string'`),
which may be long or hold a pasted value; every message here is rebuilt from the keyword that
failed and short names only.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import re
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from secretsync.errors import Problem
from secretsync.names import HELP, MAX_PROBLEMS, NodePath, key_path, quote, type_name
from secretsync.yamlread import Document

log = logging.getLogger(__name__)

SCHEMA_RESOURCE = "schemas/manifest.schema.json"

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


@functools.cache
def manifest_schema() -> dict[str, Any]:
    text = resources.files("secretsync").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _ecma_pattern(
    validator: Any, pattern: str, instance: object, schema: object
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError("does not match the pattern")


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # In the schema (ECMA-262) a final `$` matches only at the very end; Python's `$` also
    # matches before a final newline, which would let the key "A\n" through.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_Validator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in jsonschema
    Draft202012Validator, {"pattern": _ecma_pattern}
)


@functools.cache
def _validator() -> Any:
    return _Validator(manifest_schema())


def schema_problems(doc: Document, file: str) -> list[Problem]:
    if quick_valid(doc.data):
        return []
    seen: set[Problem] = set()
    found: list[tuple[tuple[int, int], Problem]] = []
    for error in _validator().iter_errors(doc.data):
        for pos, path, message in _explain(error, doc):
            problem = Problem(
                file=file, line=pos[0], col=pos[1], key_path=key_path(path), message=message
            )
            if problem not in seen:
                seen.add(problem)
                found.append((pos, problem))
        if len(found) > MAX_PROBLEMS:
            break  # enough to act on; walking 40 000 more errors takes seconds
    found.sort(key=lambda item: (item[0], item[1].key_path, item[1].message))
    return [problem for _, problem in found]


# ---------------------------------------------------------------------------- quick check
#
# jsonschema walks a 1,000-group manifest in ~60 ms. Most manifests are valid, so a check
# compiled from the same schema answers "valid" first (~10x faster) and jsonschema runs only
# to explain a failure. The check knows the few keywords the schema uses; with any other the
# compiler gives up and jsonschema does everything. Its "valid" must never be wrong (a test
# compares it with jsonschema); an unneeded "invalid" only costs the slow path.

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


class _Unsupported(Exception):
    """Internal: the schema uses a keyword the quick check does not know."""


def quick_valid(instance: object) -> bool:
    """True only if `instance` is valid against the manifest schema; False if unsure."""
    check = _quick_check()
    return check is not None and check(instance)


@functools.cache
def _quick_check() -> Check | None:
    schema = manifest_schema()
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported as err:
        log.debug("schema keyword %s has no quick check; jsonschema checks everything", err)
        return None


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.done: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema)[:40])
        checks: list[Check] = []
        for key, value in schema.items():
            check = None if key in _ANNOTATIONS else self.keyword(key, value, schema)
            if check is not None:
                checks.append(check)
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(check(x) for check in checks)

    def ref(self, ref: Any) -> Check:
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else ""
        if name not in self.defs or "/" in name:
            raise _Unsupported(f"$ref {ref!r}")
        if name not in self.done:
            self.done[name] = lambda x: self.done[name](x)  # a cycle resolves on use
            self.done[name] = self.compile(self.defs[name])
        return self.done[name]

    def keyword(self, key: str, value: Any, schema: dict[str, Any]) -> Check | None:
        if key == "type":
            names = [value] if isinstance(value, str) else value
            if any(name not in _TYPES for name in names):
                raise _Unsupported(f"type {names!r}")
            tests = [_TYPES[name] for name in names]
            return lambda x: any(test(x) for test in tests)
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
            return lambda x: not isinstance(x, dict) or all(name in x for name in value)
        if key == "dependentRequired":
            pairs = list(value.items())
            return lambda x: (
                not isinstance(x, dict)
                or all(all(n in x for n in needs) for name, needs in pairs if name in x)
            )
        if key == "propertyNames":
            names = self.compile(value)
            return lambda x: not isinstance(x, dict) or all(names(k) for k in x)
        if key == "pattern":
            search = _compiled(value).search
            return lambda x: not isinstance(x, str) or search(x) is not None
        if key == "minLength":
            return lambda x: not isinstance(x, str) or len(x) >= value
        if key == "minItems":
            return lambda x: not isinstance(x, list) or len(x) >= value
        if key == "minProperties":
            return lambda x: not isinstance(x, dict) or len(x) >= value
        if key == "items":
            item = self.compile(value)
            return lambda x: not isinstance(x, list) or all(item(i) for i in x)
        if key == "oneOf":
            branches = [self.compile(b) for b in value]
            return lambda x: sum(1 for b in branches if b(x)) == 1
        if key == "$ref":
            return self.ref(value)
        raise _Unsupported(key)

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


Explained = Iterator[tuple[tuple[int, int], NodePath, str]]


def _explain(error: ValidationError, doc: Document) -> Explained:
    path: NodePath = tuple(error.absolute_path)
    instance = error.instance
    value: Any = error.validator_value
    schema: Any = error.schema
    keyword = error.validator
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        for extra in instance:
            if extra not in known:
                hint = difflib.get_close_matches(extra, known, n=1)
                message = f"unknown field {quote(extra)}"
                if hint:
                    message += f" (did you mean {quote(hint[0])}?)"
                yield doc.key_at((*path, extra)), (*path, extra), message
    elif keyword == "pattern" and not _is_value(error):
        # A key of a name->thing mapping failed its pattern: point at that key.
        name = instance if isinstance(instance, str) else ""
        what, rule = HELP.get(_pattern(error), ("name", "is not valid"))
        yield doc.key_at((*path, name)), (*path, name), f"invalid {_kind(path)} {what}: must {rule}"
    elif keyword == "type":
        types = [value] if isinstance(value, str) else list(value)
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in types)
        if types == ["string", "array"]:
            words = "a string or a list of strings"
        yield doc.pos(path), path, f"expected {words}, got {type_name(instance)}"
    elif keyword == "pattern":
        what, rule = HELP.get(str(value), ("value", "match " + str(value)))
        yield doc.pos(path), path, f"not a valid {_field_word(path, what)}: must {rule}"
    elif keyword == "const":
        yield doc.pos(path), path, f"unsupported value; this secretsync reads version {value}"
    elif keyword == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                yield doc.pos(path), path, f"missing required field {quote(name)}"
    elif keyword == "dependentRequired" and isinstance(instance, dict):
        for name, needs in value.items():
            if name in instance and any(n not in instance for n in needs):
                wanted = " and ".join(quote(n) for n in needs)
                yield (
                    doc.key_at((*path, name)),
                    (*path, name),
                    f"only allowed together with {wanted}",
                )
    elif keyword == "oneOf" and isinstance(instance, dict):
        choices = [branch["required"][0] for branch in value]
        present = [c for c in choices if c in instance]
        listed = ", ".join(quote(c) for c in choices)
        message = f"needs exactly one of {listed}"
        if present:
            message += ", found " + " and ".join(quote(c) for c in present)
        yield doc.pos(path), path, message
    elif keyword in ("minLength", "minItems", "minProperties"):
        yield doc.pos(path), path, "must not be empty"
    elif keyword == "oneOf":
        return  # not a mapping: the `type` error at the same place says it better
    else:
        yield doc.pos(path), path, f"is not valid ({keyword})"


def _is_value(error: ValidationError) -> bool:
    # propertyNames errors descend into the key without extending the instance path.
    return "propertyNames" not in error.relative_schema_path


def _pattern(error: ValidationError) -> str:
    return str(error.validator_value)


def _kind(path: NodePath) -> str:
    parent = path[-1] if path else ""
    return {"groups": "group", "secrets": "secret key", "sets": "set"}.get(str(parent), "")


def _field_word(path: NodePath, what: str) -> str:
    last = path[-1] if path else ""
    if isinstance(last, int):
        last = path[-2] if len(path) > 1 else ""
    words = {
        "env": "environment variable name",
        "token_env": "environment variable name",
        "key": ".env key name",
        "use": "set name",
    }
    return words.get(str(last), what)
