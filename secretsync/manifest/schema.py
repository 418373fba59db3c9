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
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

from secretsync.errors import Problem
from secretsync.manifest.schemacheck import Check, UnsupportedSchema, compile_check
from secretsync.manifest.yamlread import Document
from secretsync.names import HELP, MAX_PROBLEMS, NodePath, key_path, quote, type_name

log = logging.getLogger(__name__)

# The top-level schemas/ folder, installed as this package (pyproject.toml maps it).
SCHEMA_PACKAGE = "secretsync.schemas"
SCHEMA_RESOURCE = "manifest.schema.json"

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
    text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _ecma_pattern(
    validator: Any, pattern: str, instance: object, schema: object
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not ecma_regex(pattern).search(instance):
        yield ValidationError("does not match the pattern")


@functools.cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    # In the schema (ECMA-262) a final `$` matches only at the very end; Python's `$` also
    # matches before a final newline, which would let the key "A\n" through.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


@functools.cache
def _validator() -> Any:
    # jsonschema (~50 ms to import) is needed only to explain a manifest the quick check
    # rejected, so a valid manifest never loads it.
    from jsonschema import Draft202012Validator, validators

    extended = validators.extend(  # type: ignore[no-untyped-call]  # untyped in jsonschema
        Draft202012Validator, {"pattern": _ecma_pattern}
    )
    return extended(manifest_schema())


@functools.cache
def _quick_check() -> Check | None:
    # A check compiled from the schema answers "valid" ~10x faster than jsonschema, which
    # then runs only to explain a failure (schemacheck.py).
    try:
        return compile_check(manifest_schema(), ecma_regex)
    except UnsupportedSchema as err:
        log.debug("schema keyword %s has no quick check; jsonschema checks everything", err)
        return None


def quick_valid(instance: object) -> bool:
    """True only if `instance` is valid against the manifest schema; False if unsure."""
    check = _quick_check()
    return check is not None and check(instance)


def schema_problems(doc: Document, file: str) -> list[Problem]:
    if quick_valid(doc.data):
        return []
    seen: set[Problem] = set()
    found: list[tuple[tuple[int, int], Problem]] = []
    for error in _validator().iter_errors(doc.data):
        for pos, path, message in _explain(error, doc):
            problem = Problem(
                file=file,
                line=pos[0],
                col=pos[1],
                key_path=key_path(path),
                message=message + doc.via(path),
            )
            if problem not in seen:
                seen.add(problem)
                found.append((pos, problem))
        if len(found) > MAX_PROBLEMS:
            break  # enough to act on; walking 40 000 more errors takes seconds
    found.sort(key=lambda item: (item[0], item[1].key_path, item[1].message))
    return [problem for _, problem in found]


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
