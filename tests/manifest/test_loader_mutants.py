"""The loader's rule checks say each problem once (mutants of manifest/loader.py that
scripts/mutation.py found unwatched)."""

from tests.manifest.helpers import HEAD, one_problem


def test_a_file_root_with_control_characters_is_one_problem_not_two(in_tmp):
    # It is refused for its control characters; whether it is outside the repository is not
    # asked (the answer would name a folder that cannot be shown, and says nothing more).
    text = HEAD.replace("version: 1\n", 'version: 1\nfile_roots: ["../a\\nb"]\n')
    problem = one_problem(text + "      default: {secrets: {A: {env: A}}}\n")
    assert problem.key_path == "file_roots[0]"
    assert "must not contain control characters" in problem.message
