"""The rule checks say each problem once and survive schema-invalid data (mutants of
manifest/rules.py that scripts/mutation.py found unwatched)."""

from tests.manifest.helpers import HEAD, one_problem


def test_a_file_root_with_control_characters_is_one_problem_not_two(in_tmp):
    # It is refused for its control characters; whether it is outside the repository is not
    # asked (the answer would name a folder that cannot be shown, and says nothing more).
    text = HEAD.replace("version: 1\n", 'version: 1\nfile_roots: ["../a\\nb"]\n')
    problem = one_problem(text + "      default: {secrets: {A: {env: A}}}\n")
    assert problem.key_path == "file_roots[0]"
    assert "must not contain control characters" in problem.message


def test_rules_skip_a_repository_or_group_of_the_wrong_type(in_tmp):
    # The rules run on schema-invalid data too: a list item or group that is not a mapping is
    # the schema's problem to report, never an internal error in the rules.
    for text in (
        "version: 1\nrepos:\n  - 5\n",
        HEAD + "      default: 5\n",
    ):
        problem = one_problem(text)
        assert "internal" not in problem.message
        assert problem.key_path in ("repos[0]", "repos[0].groups.default")
