"""Which environment variables a manifest may read: the pipeline's allowlist.

A pull request writes the manifest, and `plan` compares every `env:` value with what is
stored: with no list, a pull request can name any CI variable (another team's secret, the
runner's own credentials) and learn from the plan whether it equals a stored value. The
pipeline names the variables meant for secretsync (`--allow-env` / SECRETSYNC_ALLOW_ENV,
globs, comma-separated); an `env:` source outside the list is a located problem, and its
variable is never read. No list keeps the old behaviour (any variable), for compatibility.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

ALLOW_ENV_ENV: Final = "SECRETSYNC_ALLOW_ENV"
# Names are letters, digits and '_'; a glob adds fnmatch's * ? [ ] ! and '-' in ranges.
_GLOB = re.compile(r"^[A-Za-z0-9_*?\[\]!-]{1,128}$")


class AllowlistError(ValueError):
    """A pattern that is not a variable-name glob (the command line makes it a usage error)."""


@dataclass(frozen=True, slots=True)
class EnvAllowlist:
    patterns: tuple[str, ...]

    def allows(self, name: str) -> bool:
        # Case-sensitive, as variable names are on POSIX.
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)

    def __str__(self) -> str:
        shown = ",".join(self.patterns[:5])
        return shown + (f",... ({len(self.patterns)} patterns)" if len(self.patterns) > 5 else "")


def parse_allowlist(values: Iterable[str]) -> EnvAllowlist | None:
    """Patterns from repeated flags, each comma-separated; None when none is given."""
    patterns: list[str] = []
    for value in values:
        for part in value.split(","):
            pattern = part.strip()
            if not pattern:
                continue
            if not _GLOB.fullmatch(pattern):
                shown = pattern.encode("ascii", "backslashreplace").decode()[:40]
                raise AllowlistError(
                    f"{shown!r} is not a variable-name glob "
                    "(letters, digits, '_' and the wildcards * ? [...])"
                )
            if pattern not in patterns:
                patterns.append(pattern)
    return EnvAllowlist(tuple(patterns)) if patterns else None
