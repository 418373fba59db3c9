"""Name rules shared by the manifest schema, the loader and the .env reader, and the one way
user-supplied names are shown in messages.

The patterns are repeated in schemas/manifest.schema.json (a test keeps the two equal); the
explanations are what a user reads instead of a regular expression.
"""

from __future__ import annotations

import json
import re
from typing import Final

KEY: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_VAR: Final = KEY
GROUP: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SET: Final = GROUP
SLUG: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
ORG: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
UUID: Final = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"

KEY_RE: Final = re.compile(KEY)

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


def quote(name: str) -> str:
    """A user-written name, safe to print: short, one line, control characters escaped."""
    if _SHOWABLE.match(name):
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
        elif _PLAIN_SEGMENT.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{quote(part)}]"
    return out
