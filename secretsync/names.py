"""Name rules shared by the manifest schema, the loader and the .env reader, and how
user-written names, paths and YAML types are shown in one-line problems.

The patterns are repeated in schemas/manifest.schema.json (a test keeps the two equal); the
explanations are what a user reads instead of a regular expression.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from typing import Final

from secretsync.errors import Problem

KEY: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_VAR: Final = KEY
GROUP: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SET: Final = GROUP
SLUG: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
ORG: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
UUID: Final = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"

# An id the API hands out (repositories: UUIDs; operations: not documented). Ids travel in
# paths (`/repos/id:{id}`), so only plain ones are used: no '/', '%', '?', '#', no dot segment.
API_ID: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"

# Python's `$` also matches before a final newline ("A\n"); in code always use fullmatch,
# and schema.py gives the schema's `pattern` the ECMA-262 meaning of `$`.
KEY_RE: Final = re.compile(KEY)
ORG_RE: Final = re.compile(ORG)
API_ID_RE: Final = re.compile(API_ID)

_KEY_HELP = "start with a letter or '_' and contain only letters, digits and '_'"
_NAME_HELP = "start with a letter or digit and contain only letters, digits, '_', '.' and '-'"

# pattern -> (what the name is, the rule in words)
HELP: Final[dict[str, tuple[str, str]]] = {
    KEY: ("name", _KEY_HELP),
    GROUP: ("name", _NAME_HELP + " (at most 64 characters)"),
    SLUG: (
        "repository",
        "be 'org_slug/repo_slug', each part starting with a letter or digit and containing"
        " only letters, digits, '_', '.' and '-'",
    ),
    ORG: ("organization slug", _NAME_HELP),
    UUID: ("repository id", "be a UUID like 123e4567-e89b-12d3-a456-426614174000"),
}

_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")
_SHOWABLE = re.compile(r"^[\w.\-/:*?\[\]@+ ]{1,64}$")


# C0, DEL, C1 (`\x9b` starts a terminal escape), Unicode line breaks, and lone surrogates
# (YAML's "\ud800" and JSON's decode to one: no file name can hold it, no UTF-8 stream can
# print it).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def has_control(text: str) -> bool:
    """Newlines, NUL, escape sequences, lone surrogates...: never allowed in a path or glob
    we may print."""
    return bool(_CONTROL.search(text))


def one_line(name: str) -> str:
    """A name on one line with no terminal escapes: control characters as \\xNN."""
    if not _CONTROL.search(name):
        return name
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)


def each_line(text: str) -> str:
    """one_line applied to each line of `text`: its line breaks stay, nothing else does."""
    if not _CONTROL.search(text):
        return text
    return "\n".join(one_line(line) for line in text.split("\n"))


def shown_path(path: str) -> str:
    """A path as written, or escaped and quoted if it could break a one-line message."""
    return quote(path) if has_control(path) or len(path) > 200 else path


def quote(name: str) -> str:
    """A user-written name, safe to print: short, one line, control characters escaped."""
    if _SHOWABLE.fullmatch(name):
        return f"'{name}'"
    shown = json.dumps(name[:40], ensure_ascii=True)
    if len(name) > 40:
        shown = shown[:-1] + '..."'
    return shown


NodePath = tuple[str | int, ...]


def key_path(path: NodePath) -> str:
    """`repos[0].groups.default.secrets.TLS_KEY`; odd names go in brackets: `groups["a.b"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += _segment(part)
        else:
            out = _segment(part).removeprefix(".")
    return out


@functools.lru_cache(maxsize=4096)
def _segment(name: str) -> str:
    # A manifest repeats a few names thousands of times (groups, secrets, dotenv).
    return f".{name}" if _PLAIN_SEGMENT.fullmatch(name) else f"[{quote(name)}]"


MAX_PROBLEMS: Final = 100


def capped(problems: list[Problem], file: str) -> list[Problem]:
    """At most MAX_PROBLEMS, then one line saying more were left out (hostile input can
    produce hundreds of thousands)."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    note = Problem(file=file, message=f"too many problems; showing the first {MAX_PROBLEMS}")
    return [*problems[:MAX_PROBLEMS], note]


def type_name(value: object) -> str:
    """What a user calls the type of a YAML value: 'a string', 'a list', 'null'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    return f"a {quote(type(value).__name__)} value"
