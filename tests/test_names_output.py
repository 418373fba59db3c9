"""Names on one line: no terminal escapes, C0, DEL, C1 or Unicode line breaks ever printed
raw (mutants of names.py that scripts/mutation.py found unwatched)."""

import pytest

from secretsync.names import has_control, key_path, one_line, quote, shown_path


@pytest.mark.parametrize(
    "char", ["\x00", "\n", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f", "\u2028", "\u2029"]
)
def test_control_characters_are_found_and_escaped(char):
    name = f"a{char}b"
    assert has_control(name)
    shown = one_line(name)
    assert char not in shown
    assert shown == f"a\\x{ord(char):02x}b"


@pytest.mark.parametrize("char", [" ", "~", "\xa0", "é", "\u2027", "\u2030"])
def test_printable_characters_are_left_alone(char):
    assert not has_control(f"a{char}b")
    assert one_line(f"a{char}b") == f"a{char}b"


def test_quote_is_short_and_single_line():
    assert quote("prod") == "'prod'"
    assert quote("a" * 64) == "'" + "a" * 64 + "'"
    long = quote("a" * 65)
    assert long == '"' + "a" * 40 + '..."'
    assert quote("a" * 40) == "'" + "a" * 40 + "'"
    assert quote("x\x1b[31m") == '"x\\u001b[31m"'
    assert quote("a\u2028b") == '"a\\u2028b"'


def test_shown_path_escapes_only_what_could_break_a_line():
    assert shown_path("env/app.env") == "env/app.env"
    assert shown_path("a" * 200) == "a" * 200
    assert shown_path("a" * 201).startswith('"') and len(shown_path("a" * 201)) < 60
    assert shown_path("a\nb") == '"a\\nb"'


def test_key_path_brackets_odd_names():
    assert key_path(("repos", 0, "groups", "default", "secrets", "K")) == (
        "repos[0].groups.default.secrets.K"
    )
    assert key_path(("groups", "a.b")) == "groups['a.b']"
    assert key_path(("groups", "x\x1b")) == 'groups["x\\u001b"]'
    assert key_path(("a" * 64,)) == "a" * 64
    assert key_path(("a" * 65,)) == "[" + quote("a" * 65) + "]"
