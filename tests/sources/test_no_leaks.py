"""resolve_sources: no value in any error or record; confinement to the allowed folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secretsync.errors import SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.sources.resolve import resolve_sources
from tests.sources.helpers import M, group_of, manifest, one, source_problems, values, write

LEAK = "DISTINCTIVE-7c1e"


def test_no_value_appears_in_any_error_or_record():
    write("a.env", f"GOOD={LEAK}-dotenv\n{LEAK}-no-equals-line\nEMPTY=\n")
    write("b.env", f"X='{LEAK}-unclosed\n")
    write("c.env", f"A=1\n{LEAK}=value\n".encode() + b"\xff\n")
    write("f.bin", f"{LEAK}-file")
    write("big.bin", (LEAK * 70000).encode())
    m = manifest(
        """\
        default:
          dotenv: [a.env, b.env, c.env]
          secrets:
            FROM_ENV: {env: SECRET_VAR}
            BAD_UTF8: {env: BAD_VAR}
            FROM_FILE: {file: f.bin}
            BIG: {file: big.bin}
            EMPTY: {env: EMPTY_VAR}
        """
    )
    environ = {"SECRET_VAR": f"{LEAK}-env", "BAD_VAR": f"{LEAK}\udcff", "EMPTY_VAR": ""}
    with pytest.raises(SourceError) as info:
        resolve_sources(m, environ)
    err = info.value
    assert len(err.problems) >= 5
    texts = [str(err), repr(err), *err.lines(), *(str(p) for p in err.problems)]
    texts += [repr(p) for p in err.problems]
    for text in texts:
        assert LEAK not in text

    ok = manifest("default: {dotenv: a.env, secrets: {F: {file: f.bin}}}\n")
    write("a.env", f"GOOD={LEAK}-dotenv\n")
    repos = resolve_sources(ok, environ)
    assert LEAK not in repr(repos) and LEAK not in str(repos)
    assert values(group_of(repos)) == {
        "F": f"{LEAK}-file".encode(),
        "GOOD": f"{LEAK}-dotenv".encode(),
    }


def test_permission_error_is_a_problem_even_as_root(monkeypatch):
    import errno

    from secretsync import safefile

    write("locked.key", "x")
    real_open = safefile.os.open

    def refusing(path, flags, *args):
        if str(path).endswith("locked.key"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(safefile.os, "open", refusing)
    m = manifest("default: {secrets: {K: {file: locked.key}}}\n")
    assert "file locked.key cannot be read (permission denied)" in one(m)


def test_symlink_loop_is_a_problem():
    os.symlink("loop-b.key", "loop-a.key")
    os.symlink("loop-a.key", "loop-b.key")
    m = manifest("default: {secrets: {K: {file: loop-a.key}}}\n")
    assert "file loop-a.key is a symbolic link loop" in one(m)


def test_hand_built_manifest_with_nul_in_a_path_is_a_problem():
    import dataclasses

    m = manifest("default: {secrets: {K: {file: k.bin}}}\n")
    spec = m.repos[0].groups[0].layers[0]
    bad = dataclasses.replace(spec, source=dataclasses.replace(spec.source, ref="k\0.bin"))
    group = dataclasses.replace(m.repos[0].groups[0], layers=(bad,))
    m = dataclasses.replace(m, repos=(dataclasses.replace(m.repos[0], groups=(group,)),))
    assert "must not contain a NUL character" in one(m)


def test_source_problems_are_capped():
    write("a.env", "NOEQUALS\n" * 500)
    m = manifest("default: {dotenv: a.env}\n")
    found = source_problems(m)
    assert len(found) == 101
    assert str(found[-1]) == "secretsync.yaml: too many problems; showing the first 100"


def test_file_roots_do_not_open_everything(tmp_path):
    (tmp_path / ".git").mkdir()
    write("shared/ok.env", "A=1\n")
    write("other/no.key", "x")
    m = manifest(
        "default: {dotenv: ../shared/ok.env, secrets: {K: {file: ../other/no.key}}}\n",
        top="file_roots: [../shared]\n",
        path=f"proj/{M}",
    )
    assert one(m) == (
        "proj/secretsync.yaml:6:56: repos[0].groups.default.secrets.K: file ../other/no.key is"
        " outside the manifest's folder and every file_roots folder (secret K in acme/app,"
        " group default)"
    )


def test_git_s_own_files_are_never_read_even_through_a_symlink(tmp_path):
    # actions/checkout leaves the CI token in .git/config.
    write(".git/config", "[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n")
    os.symlink(tmp_path / ".git" / "config", tmp_path / "tls.key")
    m = manifest("default: {secrets: {A: {file: .git/config}, B: {file: tls.key}}}\n")
    found = [p.message for p in source_problems(m)]
    assert found == [
        f"file {ref} is inside a .git folder; secretsync never reads git's own files"
        f" (secret {key} in acme/app, group default)"
        for key, ref in (("A", ".git/config"), ("B", "tls.key"))
    ]


def test_the_pipeline_may_allow_a_folder_outside_the_repository(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write("runner-temp/tls.key", "from the pipeline")
    write(f"repo/{M}", "")
    text = (
        f"version: 1\nrepos:\n  - repo: acme/app\n    groups:\n      default:\n"
        f"        secrets: {{K: {{file: {tmp_path}/runner-temp/tls.key}}}}\n"
    )
    Path("repo", M).write_text(text)
    with pytest.raises(SourceError):
        resolve_sources(load_manifest(Path("repo", M)), {})
    m = load_manifest(Path("repo", M), extra_roots=[tmp_path / "runner-temp"])
    assert values(group_of(resolve_sources(m, {}))) == {"K": b"from the pipeline"}
