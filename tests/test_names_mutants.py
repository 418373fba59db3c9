"""Name rules at their boundaries: where a quoted name is cut, and where a problem list is
capped (mutants of names.py that scripts/mutation.py found unwatched)."""

from secretsync.errors import Problem
from secretsync.names import MAX_PROBLEMS, capped, quote


def test_an_escaped_name_is_cut_after_forty_characters_and_says_so():
    whole = "\x1b" + "a" * 39  # 40 characters: shown whole
    assert quote(whole) == '"\\u001b' + "a" * 39 + '"'
    cut = "\x1b" + "a" * 40  # 41: the first 40, then an ellipsis
    assert quote(cut) == '"\\u001b' + "a" * 39 + '..."'


def test_escaped_names_are_ascii_only():
    # Non-ASCII may hide a line break (U+0085, U+2028) or a look-alike; \\u escapes show it.
    assert quote("\x1bé\u0085") == '"\\u001b\\u00e9\\u0085"'


def _problems(n: int) -> list[Problem]:
    return [Problem(file="m.yaml", message=f"problem {i}") for i in range(n)]


def test_problems_up_to_the_cap_are_all_shown():
    problems = _problems(MAX_PROBLEMS)
    assert capped(problems, "m.yaml") == problems


def test_problems_past_the_cap_end_with_one_note():
    shown = capped(_problems(MAX_PROBLEMS + 1), "m.yaml")
    assert shown[:-1] == _problems(MAX_PROBLEMS)
    assert str(shown[-1]) == f"m.yaml: too many problems; showing the first {MAX_PROBLEMS}"
