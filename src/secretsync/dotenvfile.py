"""Parse a .env file's bytes into keys, values and line numbers, with no interpolation.

python-dotenv's `dotenv_values` would expand `${VAR}` from the process environment: a value
the reviewer of the manifest cannot see. `parse_stream` gives raw bindings with lines, so
`A=${HOME}` stays the six characters `${HOME}`. A repeated key: the later line wins, as in a
shell. Problems never quote the file: a line without `=` is quite likely a pasted value.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from dotenv.parser import Binding, parse_stream

from secretsync.names import KEY_RE

_NEWLINE = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True, slots=True)
class EnvEntry:
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class EnvFile:
    entries: dict[str, EnvEntry] = field(default_factory=dict)
    # Lines whose key is not a valid secret name: a problem only where the file is used whole.
    bad_key_lines: tuple[int, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()  # (line, message): the file is unusable


def parse_env(data: bytes) -> EnvFile:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return EnvFile(problems=((line, "this line is not valid UTF-8"),))
    entries: dict[str, EnvEntry] = {}
    bad_keys: list[int] = []
    problems: list[tuple[int, str]] = []
    for binding in parse_stream(io.StringIO(text)):
        line = _line(binding)
        if binding.error:
            problems.append((line, "this line cannot be parsed (check its quotes)"))
        elif binding.key is None:
            continue  # blank line or comment
        elif binding.value is None:
            problems.append((line, "this line has no '=' (every line must be KEY=value)"))
        elif not KEY_RE.fullmatch(binding.key):
            bad_keys.append(line)
        else:
            entries[binding.key] = EnvEntry(value=binding.value, line=line)
    return EnvFile(entries=entries, bad_key_lines=tuple(bad_keys), problems=tuple(problems))


def _line(binding: Binding) -> int:
    # The parser's line is where it started reading, before any blank lines that it skipped.
    original = binding.original
    skipped = original.string[: len(original.string) - len(original.string.lstrip())]
    return int(original.line) + len(_NEWLINE.findall(skipped))
