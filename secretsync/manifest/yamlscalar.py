"""Scalars as ruamel's round-trip loader types them, and the tags YAML's core schema defines.

Plain scalars are typed by ruamel's own YAML 1.2 resolver and built by its constructor, so
`prune: yes` stays a string and `2001-02-30` cannot be read. A core tag means what YAML says
(`!!str 3` is the string "3", `!!int "3"` the integer 3, `!!float 1` is 1.0); a value the tag
cannot mean (`!!bool yes`, `!!null x`, which ruamel would still build) is refused, as is every
other tag (`!!binary`, `!!timestamp`, `!custom`...), by name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode

from secretsync.manifest.yamldoc import yaml_error_message
from secretsync.names import quote

log = logging.getLogger(__name__)

CORE = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (CORE + n for n in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE = CORE + "map", CORE + "seq", CORE + "merge"
VALUE = CORE + "value"  # a plain `=`: ruamel reads it as a string when a key
NON_SPECIFIC = "!"  # `! 12`: not resolved, so a string (or the collection as written)
SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, NON_SPECIFIC})
CORE_NAMES = "!!str, !!int, !!float, !!bool, !!null, !!map, !!seq"
UNREADABLE = "this value cannot be read; quote it"
MAX_INT_BITS = 4096


class ScalarError(Exception):
    """The scalar cannot be built; `message` says why, without its value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def tag_name(tag: str) -> str:
    """`tag:yaml.org,2002:binary` as written in YAML (`!!binary`), short enough for a message."""
    name = "!!" + tag.removeprefix(CORE) if tag.startswith(CORE) else tag
    return quote(name if len(name) <= 40 else name[:37] + "...")


def unsupported_tag(tag: str) -> str:
    return f"tag {tag_name(tag)} is not supported (only the core tags {CORE_NAMES})"


def collection_tag_problem(tag: str | None, is_map: bool) -> str | None:
    """Why a mapping or list cannot carry `tag`, or None if it can."""
    if tag is None or tag == NON_SPECIFIC or tag == (MAP if is_map else SEQ):
        return None
    if tag in (MAP, SEQ) or tag in SCALAR_TAGS:
        return f"tag {tag_name(tag)} cannot mark a {'mapping' if is_map else 'list'}"
    return unsupported_tag(tag)


def _resolver_table() -> tuple[frozenset[str] | None, Callable[[str], str]]:
    resolver = YAML(typ="rt", pure=True).resolver
    table = resolver.versioned_resolver  # first character -> [(tag, regexp)], for YAML 1.2
    first = None if None in table else frozenset(table)  # None: some resolver takes any start

    def resolve(value: str) -> str:
        return str(resolver.resolve(ScalarNode, value, (True, False)))

    return first, resolve


class _Everything(frozenset[str]):
    def __contains__(self, item: object) -> bool:
        return True


_first, resolve = _resolver_table()
# Plain scalars that start with any other character are strings: no resolver to ask.
TYPED_FIRST: frozenset[str] = _Everything() if _first is None else _first


class Scalars:
    """Builds scalars for one document (ruamel's constructor remembers every node it built)."""

    def __init__(self) -> None:
        self._construct: Callable[..., object] | None = None

    def build(self, value: str, tag: str) -> object:
        """`value` built as `tag` by ruamel's constructor, as a plain type; else ScalarError."""
        if self._construct is None:
            self._construct = YAML(typ="rt", pure=True).constructor.construct_object
        try:
            built = self._construct(ScalarNode(tag, value), deep=True)
        except (ValueError, OverflowError, TypeError, IndexError, KeyError) as err:
            # 2001-02-30, a 5000-digit int, `0x_` (which ruamel itself trips over).
            log.debug("YAML value construction failed: %s", type(err).__name__)
            raise ScalarError(UNREADABLE) from err
        except YAMLError as err:
            raise ScalarError(yaml_error_message(err)) from err
        if isinstance(built, int) and built.bit_length() > MAX_INT_BITS:
            # `0x` and 5,000 digits: int() reads hex of any length, but no message can show it
            # (str() of an int over 4,300 digits raises), and no manifest field wants one.
            raise ScalarError(UNREADABLE)
        return _plain(built)

    def tagged(self, value: str, tag: str) -> object:
        """A scalar written with a tag: what the core schema says it is, else ScalarError."""
        if tag == STR:
            return value
        if tag == NON_SPECIFIC:
            # YAML says `! 12` is the string "12"; ruamel's loader says 12: only a value both
            # read as a string is taken.
            if resolve(value) != STR:
                raise ScalarError("the tag '!' makes this value ambiguous; quote it instead")
            return value
        if tag not in SCALAR_TAGS:
            raise ScalarError(unsupported_tag(tag))
        resolved = resolve(value)
        if resolved != tag and not (tag == FLOAT and resolved == INT):
            raise ScalarError(f"this value is not a valid {tag_name(tag)}")
        return self.build(value, tag)


def _plain(built: object) -> object:
    # ruamel keeps formatting in subclasses (ScalarFloat, ScalarInt...); plain types only.
    for plain_type in (bool, str, int, float):
        if isinstance(built, plain_type):
            return plain_type(built)
    return built
