"""load_manifest: every broken or hostile input, each a positioned problem, all at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretsync.errors import ManifestError
from secretsync.manifest.loader import load_manifest
from tests.manifest.helpers import BAD, HEAD, M, one_problem, problems

pytestmark = pytest.mark.usefixtures("in_tmp")


@pytest.mark.parametrize(("text", "line", "col", "key_path", "fragment"), BAD)
def test_bad_input_gives_one_positioned_problem(text, line, col, key_path, fragment):
    problem = one_problem(text)
    assert (problem.line, problem.col) == (line, col), str(problem)
    if key_path.endswith("["):
        assert problem.key_path.startswith(key_path), str(problem)
    else:
        assert problem.key_path == key_path, str(problem)
    assert fragment in problem.message


def test_a_trailing_newline_does_not_sneak_a_name_or_path_past_the_rules():
    # Python's `$` matches before a final "\n"; the rules must not.
    found = problems(
        """\
        version: 1
        repos:
          - org: "acme\\n"
            match: "svc-*\\n"
            groups:
              "default\\n":
                secrets:
                  "KEY\\n": {env: "VAR\\n"}
                  OK: {file: "a\\tb"}
        """
    )
    assert [(p.line, p.key_path) for p in found] == [
        (3, "repos[0].org"),
        (4, "repos[0].match"),
        (6, 'repos[0].groups["default\\n"]'),
        (8, 'repos[0].groups["default\\n"].secrets["KEY\\n"]'),
        (8, 'repos[0].groups["default\\n"].secrets["KEY\\n"].env'),
        (9, 'repos[0].groups["default\\n"].secrets.OK.file'),
    ]


def test_problems_are_capped_at_one_hundred():
    found = problems("version: 1\na: &a x\n" + "".join(f"b{i}: *a\n" for i in range(150)))
    assert len(found) == 101
    assert str(found[-1]) == "secretsync.yaml: too many problems; showing the first 100"
    schema_errors = "".join(
        f"  - {{repo: a/b{i}, groups: {{d: {{prunee: 1}}}}}}\n" for i in range(300)
    )
    found = problems("version: 1\nrepos:\n" + schema_errors)
    assert len(found) == 101
    assert [p.line for p in found[:3]] == [3, 4, 5]


def test_alias_bomb_is_refused_before_it_expands():
    bomb = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    found = problems("\n".join(bomb) + "\n")
    assert [str(p) for p in found] == [  # a6 is ~9**7 nodes: the budget stops the reading there
        "secretsync.yaml:8:10: a6[0]: aliases expand the document past 1,000,000 nodes"
        " (an alias bomb?)"
    ]


def test_every_duplicate_key_is_reported_not_only_the_first():
    found = problems(
        "version: 1\nrepos:\n  - repo: a/b\n    repo: a/c\n    groups:\n      d: {}\n      d: {}\n"
    )
    assert [(p.line, p.col, p.key_path, p.message) for p in found] == [
        (4, 5, "repos[0].repo", "duplicate key (first on line 3)"),
        (7, 7, "repos[0].groups.d", "duplicate key (first on line 6)"),
    ]


def test_all_schema_and_rule_problems_at_once_sorted_by_position():
    found = problems(
        """\
        version: 1
        sets: {s: {secrets: {A: {env: A}}}}
        repos:
          - repo: acme/app
            prunee: true
            groups:
              default:
                use: [s, t]
                secrets:
                  bad-key: {env: X}
                  OK: {env: 1}
          - repo: acme/app
            groups: {d: {}}
        """
    )
    assert [str(p) for p in found] == [
        "secretsync.yaml:5:5: repos[0].prunee: unknown field 'prunee' (did you mean 'prune'?)",
        "secretsync.yaml:8:18: repos[0].groups.default.use[1]: unknown set 't'",
        "secretsync.yaml:10:11: repos[0].groups.default.secrets.bad-key: invalid secret key"
        " name: must start with a letter or '_' and contain only letters, digits and '_'",
        "secretsync.yaml:11:21: repos[0].groups.default.secrets.OK.env: expected a string,"
        " got an integer",
        "secretsync.yaml:12:11: repos[1].repo: repository 'acme/app' is already listed at repos[0]",
    ]
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(M))
    assert str(info.value) == "5 problems in the manifest"


def test_messages_do_not_repeat_instance_content():
    # A value pasted where a name belongs must not be echoed back into CI logs.
    pasted = "sk-live-DISTINCTIVE-4f7a"
    found = problems(
        HEAD
        + f"""\
      default:
        secrets:
          A: {{env: "{pasted}"}}
          B: {{file: [{{x: "{pasted}"}}]}}
          C: "{pasted}"
"""
    )
    assert len(found) == 3
    for problem in found:
        assert "DISTINCTIVE" not in str(problem)


def test_too_large_missing_and_folder_manifests(tmp_path):
    Path(M).write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(ManifestError) as info:
        load_manifest(Path(M))
    assert str(info.value) == "secretsync.yaml: the manifest is larger than the 1 MiB limit"

    with pytest.raises(ManifestError) as info:
        load_manifest(Path("missing.yaml"))
    assert str(info.value) == "missing.yaml: the manifest does not exist"

    os.mkdir("folder.yaml")
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("folder.yaml"))
    assert str(info.value) == "folder.yaml: the manifest is a folder, not a file"


def test_nul_in_the_manifest_path():
    with pytest.raises(ManifestError) as info:
        load_manifest(Path("a\0b.yaml"))
    assert info.value.problems[0].message == "not a valid file name"


def test_manifest_exactly_at_the_size_limit_is_read():
    head = HEAD + "      default: {}\n"
    Path(M).write_text(head + "#" * (1024 * 1024 - len(head) - 1) + "\n")
    assert os.path.getsize(M) == 1024 * 1024
    assert load_manifest(Path(M)).repos[0].slug == "acme/app"


def test_utf8_bom_is_accepted():
    Path(M).write_bytes(b"\xef\xbb\xbf" + (HEAD + "      default: {}\n").encode())
    assert load_manifest(Path(M)).repos[0].slug == "acme/app"


def test_manifest_through_a_symlink_resolves_paths_from_the_link_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "m.yaml").write_text(HEAD + "      default: {}\n")
    os.symlink(tmp_path / "real" / "m.yaml", M)
    manifest = load_manifest(Path(M))
    assert manifest.root == Path(os.path.realpath(tmp_path))
