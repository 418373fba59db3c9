"""Parse a .env file's bytes into keys, values and line numbers, with no interpolation.

python-dotenv's `dotenv_values` would expand `${VAR}` from the process environment: a value
the reviewer of the manifest cannot see. `parse_stream` gives raw bindings with lines, so
`A=${HOME}` stays the six characters `${HOME}`. A repeated key is a problem: the later line
would win, as in a shell, while a reviewer reads the first. Problems never quote the file: a
line without `=` is quite likely a pasted value. A file outside the repository (the pipeline's,
read per named key) is parsed with `name_keys=False`: its problems do not name its keys
either, since any text in it may be a value.

The fast path (`_parse_simple`), fenced:
- Replaces python-dotenv's `parse_stream` for files made only of simple lines (`KEY=value`,
  `export KEY='v'`, comments, blank lines): they are read here line by line with
  python-dotenv's own character classes and rules. A file with any other line (escapes,
  multi-line quotes, a bad key, no `=`) goes to parse_stream whole.
- Gains, measured by `benchmarks/fast_paths.py` (medians of CPU time, one run, 2026-11-29, a
  shared 2-core machine): bench.py's 1,000 files of 10 lines parse in 13 ms instead of 289 ms
  (resolve_sources whole: 80 ms instead of 377 ms), and `import dotenv.parser` (24 ms) is
  skipped when every file is simple. `secretsync validate` of that workspace, as a whole
  process: 320 ms with the fast path, 553 ms without it.
- Pinned to python-dotenv (the version installed: it follows 1.2.4's rules, under which
  `KEY= #comment` is empty) by tests in tests/manifest/test_manifest_speed.py, with
  hypothesis: test_simple_env_reader_equals_python_dotenv (generated files of simple and
  other lines, every newline) and test_env_reader_equals_python_dotenv_on_odd_bits
  (generated fragments); test_plain_env_file_is_read_without_python_dotenv checks that the
  fast path is taken.
- Delete `_parse_simple` when parse_stream reads a 10-line file in well under 100 us, or when
  python-dotenv's rules change in a way the tests show this reader cannot follow simply.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from secretsync.names import KEY_RE

if TYPE_CHECKING:
    from dotenv.parser import Binding

_NEWLINE = re.compile(r"\r\n|\n|\r")
# python-dotenv's classes: `[^\S\r\n]` is whitespace within a line. `?+` does not give back
# `export ` once taken, as python-dotenv never does.
_WS = r"[^\S\r\n]"
_SIMPLE_LINE = re.compile(
    rf"{_WS}*(?:(?:export{_WS}+)?+([A-Za-z_][A-Za-z0-9_]*){_WS}*=({_WS}*)(.*))?", re.DOTALL
)
_QUOTED = re.compile(rf"(?:'([^'\\]*)'|\"([^\"\\]*)\"){_WS}*(?:#.*)?", re.DOTALL)
_WS_RUN = re.compile(rf"{_WS}+")
# python-dotenv strips an inline comment with re.sub(r"\s+#.*"), which takes time quadratic in
# a run of spaces: a 100 KB line of them took 15 s. Files with such a run never reach it.
MAX_WS_RUN = 256
# The commonest file: `KEY=value` lines, values without whitespace or a leading quote or `#`,
# so each value is the text after `=` as it stands.
_PLAIN_FILE = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*=(?:[^\s'\"#]\S*)?\n)*")


@dataclass(frozen=True, slots=True)
class EnvFile:
    """A parsed .env file: values and the line each key is on."""

    # Two dicts of strings and ints rather than one of records: the garbage collector does
    # not track them, and a 1,000-file job holds 10,000 entries.
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    # Lines whose key is not a valid secret name: a problem only where the file is used whole.
    bad_key_lines: tuple[int, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()  # (line, message): the file is unusable


def parse_env(data: bytes, *, name_keys: bool = True) -> EnvFile:
    env = _parse_env(data)
    if name_keys or not env.problems:
        return env
    # Every problem but a repeated key's is said without the file's text; that one is
    # said again without the key's name.
    problems = tuple(
        (line, _REPEATED_UNNAMED if message.startswith("key ") else message)
        for line, message in env.problems
    )
    return EnvFile(problems=problems)


_REPEATED_UNNAMED = "the key on this line is repeated; list each key once"


def _parse_env(data: bytes) -> EnvFile:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return EnvFile(problems=((line, "this line is not valid UTF-8"),))
    simple = _parse_simple(text)
    if simple is not None:
        return simple
    for run in _WS_RUN.finditer(text):
        if run.end() - run.start() > MAX_WS_RUN:
            line = text.count("\n", 0, run.start()) + 1
            message = f"this line has over {MAX_WS_RUN} spaces or tabs in a row"
            return EnvFile(problems=((line, message),))
    # Imported here: most runs never need it, and importing it costs ~5 ms of start-up.
    from dotenv.parser import parse_stream

    values: dict[str, str] = {}
    lines: dict[str, int] = {}
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
            if binding.key in lines:
                problems.append((line, _repeated(binding.key, lines[binding.key])))
            values[binding.key], lines[binding.key] = binding.value, line
    return EnvFile(
        values=values, lines=lines, bad_key_lines=tuple(bad_keys), problems=tuple(problems)
    )


def _repeated(key: str, first: int) -> str:
    # A second line for a key shadows the first: in review, the first is the one people read.
    return f"key {key} is repeated (first on line {first}); list each key once"


def _line(binding: Binding) -> int:
    # The parser's line is where it started reading, before any blank lines that it skipped.
    original = binding.original
    skipped = original.string[: len(original.string) - len(original.string.lstrip())]
    return int(original.line) + len(_NEWLINE.findall(skipped))


def _parse_simple(text: str) -> EnvFile | None:
    """A file of simple lines, exactly as parse_stream reads it; None if any line is not simple."""
    if text.startswith("\ufeff"):
        return None  # parse_stream drops one more BOM; let it
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    repeats: list[tuple[int, str]] = []
    if _PLAIN_FILE.fullmatch(text):
        for number, line in enumerate(text.split("\n")[:-1], start=1):
            key, _, value = line.partition("=")
            if key in lines:
                repeats.append((number, _repeated(key, lines[key])))
            values[key], lines[key] = value, number
        return EnvFile(values=values, lines=lines, problems=tuple(repeats))
    split = text.split("\n") if "\r" not in text else _NEWLINE.split(text)
    for number, line in enumerate(split, start=1):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            if line.lstrip().startswith("#"):
                continue
            return None
        key, space, rest = match.groups()
        if key is None:
            continue  # a blank line
        if rest[:1] in ("'", '"'):
            quoted = _QUOTED.fullmatch(rest)
            if quoted is None:
                return None  # escapes, a quote running on to the next line...
            value = quoted.group(1) if rest[0] == "'" else quoted.group(2)
        elif space and rest[:1] == "#":
            value = ""  # `KEY= # comment`
        else:
            value = _without_comment(rest).rstrip()
        if key in lines:
            repeats.append((number, _repeated(key, lines[key])))
        values[key], lines[key] = value, number
    return EnvFile(values=values, lines=lines, problems=tuple(repeats))


def _without_comment(value: str) -> str:
    """`value` up to an inline comment: a `#` after whitespace (python-dotenv's rule, found in
    one pass instead of its regex's quadratic one)."""
    at = value.find("#")
    while at != -1:
        if at and value[at - 1].isspace():
            return value[:at]
        at = value.find("#", at + 1)
    return value
