"""resolve_sources / check_sources: exact bytes, precedence, every source error, no leaks."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from secretsync.errors import Problem, SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.models import DesiredGroup, DesiredRepo, Manifest
from secretsync.sources import resolve as sources
from secretsync.sources.resolve import check_sources, resolve_sources

M = "secretsync.yaml"
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def write(name: str, content: str | bytes) -> None:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)


def manifest(groups: str, *, top: str = "", path: str = M) -> Manifest:
    text = "version: 1\n" + textwrap.dedent(top) + "repos:\n  - repo: acme/app\n    groups:\n"
    text += textwrap.indent(textwrap.dedent(groups), "      ")
    write(path, text)
    return load_manifest(Path(path))


def group_of(repos: tuple[DesiredRepo, ...], index: int = 0) -> DesiredGroup:
    return repos[0].groups[index]


def values(group: DesiredGroup) -> dict[str, bytes]:
    return {s.key: s.value.reveal() for s in group.secrets}


def source_problems(m: Manifest, environ: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(SourceError) as info:
        resolve_sources(m, environ or {})
    for problem in info.value.problems:
        assert "\n" not in str(problem)
    return list(info.value.problems)


def one(m: Manifest, environ: dict[str, str] | None = None) -> str:
    found = source_problems(m, environ)
    assert len(found) == 1, [str(p) for p in found]
    return str(found[0])


# ---------------------------------------------------------------------------- bytes


def test_bytes_are_exact_for_files_env_and_dotenv():
    binary = bytes(range(256)) + b"\r\n"
    write("certs/blob.bin", binary)
    write("certs/tls.key", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n")
    write("env/a.env", 'QUOTED="line1\\nline2"\nUNICODE=пароль✓\nSPACED=  padded  \n')
    m = manifest(
        """\
        default:
          dotenv: env/a.env
          secrets:
            BLOB: {file: certs/blob.bin}
            TLS: {file: certs/tls.key}
            FROM_ENV: {env: APP_PASSWORD}
        """
    )
    got = values(group_of(resolve_sources(m, {"APP_PASSWORD": "päss wörd\n"})))
    assert got == {
        "BLOB": binary,
        "TLS": b"-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
        "FROM_ENV": "päss wörd\n".encode(),
        "QUOTED": b"line1\nline2",
        "UNICODE": "пароль✓".encode(),
        "SPACED": b"padded",
    }


def test_records_order_and_labels():
    write("a.env", "ZED=1\nALPHA=2\n")
    write(
        M,
        textwrap.dedent(
            """\
            version: 1
            repos:
              - repo: acme/b
                groups:
                  zeta: {secrets: {K: {env: V}}}
                  alpha:
                    dotenv: a.env
                    secrets:
                      MID: {dotenv: a.env, key: ALPHA}
              - repo_id: 123e4567-e89b-12d3-a456-426614174000
                groups: {default: {prune: true, secrets: {K: {env: V}}}}
            """
        ),
    )
    m = load_manifest(Path(M))
    repos = resolve_sources(m, {"V": "v"})
    assert [r.spec for r in repos] == list(m.repos)
    assert [[g.name for g in r.groups] for r in repos] == [["zeta", "alpha"], ["default"]]
    assert [(s.key, s.source) for s in repos[0].groups[1].secrets] == [
        ("ALPHA", "dotenv:a.env#ALPHA"),
        ("MID", "dotenv:a.env#ALPHA"),
        ("ZED", "dotenv:a.env#ZED"),
    ]
    assert repos[1].groups[0].prune is True
    assert [(s.key, s.source) for s in repos[1].groups[0].secrets] == [("K", "env:V")]


# ---------------------------------------------------------------------------- precedence


def test_precedence_dotenv_then_sets_then_own_secrets():
    write("g1.env", "A=g1\nB=g1\nC=g1\nD=g1\nE=g1\n")
    write("g2.env", "B=g2\nC=g2\nD=g2\nE=g2\n")
    write("s1.env", "C=s1\nD=s1\nE=s1\n")
    write("s2.env", "E=s2\n")
    m = manifest(
        """\
        default:
          dotenv: [g1.env, g2.env]
          use: [one, two]
          secrets:
            F: {env: OWN}
        """,
        top="""\
        sets:
          one:
            dotenv: s1.env
            secrets:
              D: {env: SET_ONE}
              F: {env: SET_ONE}
          two:
            dotenv: s2.env
        """,
    )
    got = values(group_of(resolve_sources(m, {"OWN": "own", "SET_ONE": "set1"})))
    assert got == {
        "A": b"g1",  # only in the first group file
        "B": b"g2",  # later group file wins
        "C": b"s1",  # a used set's file wins over the group's files
        "D": b"set1",  # a set's secrets win over its own files
        "E": b"s2",  # later set wins
        "F": b"own",  # the group's own secrets win over everything
    }


def test_explicit_secret_wins_over_the_same_key_from_group_dotenv():
    write("a.env", "TOKEN=from-file\n")
    m = manifest("default: {dotenv: a.env, secrets: {TOKEN: {env: T}}}\n")
    group = group_of(resolve_sources(m, {"T": "from-env"}))
    assert [(s.key, s.value.reveal(), s.source) for s in group.secrets] == [
        ("TOKEN", b"from-env", "env:T")
    ]


@pytest.mark.parametrize(
    "content", ["A=first\nB=b\nA=second\n", 'A=first\nB="two\nlines"\nA=second\n']
)
def test_a_key_repeated_in_one_env_file_is_refused(content):
    # The later line would win while a reviewer reads the first (both parsers say so).
    write("a.env", content)
    m = manifest("default: {dotenv: a.env}\n")
    line = content.count("\n")
    assert one(m) == (
        f"a.env:{line}: repos[0].groups.default.dotenv: key A is repeated (first on line 1);"
        " list each key once"
    )


def test_no_interpolation_in_env_files():
    write("a.env", 'A=${HOME}\nB="${HOME}/x"\nC=$HOME\nexport D=${UNSET:-default}\n')
    m = manifest("default: {dotenv: a.env}\n")
    got = values(group_of(resolve_sources(m, {"HOME": "/root", "UNSET": "x"})))
    assert got == {"A": b"${HOME}", "B": b"${HOME}/x", "C": b"$HOME", "D": b"${UNSET:-default}"}


def test_empty_values_allowed_only_when_asked():
    write("empty.bin", b"")
    write("a.env", "E=\n")
    m = manifest(
        """\
        default:
          allow_empty: true
          dotenv: a.env
          secrets:
            ENV: {env: EMPTY, allow_empty: true}
            FILE: {file: empty.bin, allow_empty: true}
            KEY: {dotenv: a.env, key: E, allow_empty: true}
        """
    )
    assert values(group_of(resolve_sources(m, {"EMPTY": ""}))) == {
        "E": b"",
        "ENV": b"",
        "FILE": b"",
        "KEY": b"",
    }


def test_empty_dotenv_entry_overridden_by_an_explicit_secret_is_fine():
    write("a.env", "E=\n")
    m = manifest("default: {dotenv: a.env, secrets: {E: {env: E}}}\n")
    assert values(group_of(resolve_sources(m, {"E": "set"}))) == {"E": b"set"}


# ---------------------------------------------------------------------------- errors


def test_unset_env_variable_names_file_line_key_repo_group_and_source():
    m = manifest("default:\n  secrets:\n    DATABASE_URL: {env: BACKEND_DATABASE_URL}\n")
    assert one(m) == (
        "secretsync.yaml:7:25: repos[0].groups.default.secrets.DATABASE_URL: env variable"
        " BACKEND_DATABASE_URL is not set (secret DATABASE_URL in acme/app, group default)"
    )


@pytest.mark.parametrize(
    ("setup", "entry", "message"),
    [
        ({}, "{file: nope.key}", "file nope.key does not exist"),
        ({"dir/x": "1"}, "{file: dir}", "file dir is a folder, not a file"),
        ({"big.bin": b"x" * (MIB + 1)}, "{file: big.bin}", "file big.bin is larger than the 1 MiB"),
        ({"e.bin": b""}, "{file: e.bin}", "file e.bin is empty; add allow_empty: true"),
        ({}, "{dotenv: nope.env}", "dotenv file nope.env does not exist"),
        ({"a.env": "B=1\n"}, "{dotenv: a.env}", "key K not found in a.env"),
        ({"a.env": "B=1\n"}, "{dotenv: a.env, key: C}", "key C not found in a.env"),
        ({"a.env": "K=\n"}, "{dotenv: a.env}", "key K in a.env is empty; add allow_empty: true"),
        ({}, "{env: EMPTY}", "env variable EMPTY is empty; add allow_empty: true"),
        ({}, "{env: BAD}", "env variable BAD is not valid UTF-8"),
        (
            {"../up.key": "1"},
            "{file: ../up.key}",
            "file ../up.key is outside the manifest's folder",
        ),
    ],
)
def test_source_error_at_the_entry(setup, entry, message):
    for name, content in setup.items():
        write(name, content)
    m = manifest(f"default:\n  secrets:\n    K: {entry}\n")
    text = one(m, {"EMPTY": "", "BAD": "\udcff"})
    assert text.startswith("secretsync.yaml:7:14: repos[0].groups.default.secrets.K: ")
    assert message in text
    assert text.endswith("(secret K in acme/app, group default)")


def test_exactly_one_mib_file_is_read():
    write("limit.bin", b"x" * MIB)
    m = manifest("default: {secrets: {K: {file: limit.bin}}}\n")
    assert len(values(group_of(resolve_sources(m, {})))["K"]) == MIB


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    write("locked.key", "x")
    os.chmod("locked.key", 0)
    m = manifest("default: {secrets: {K: {file: locked.key}}}\n")
    assert "file locked.key cannot be read (permission denied)" in one(m)


def test_fifo_is_refused_without_blocking():
    os.mkfifo("pipe")
    m = manifest("default: {secrets: {K: {file: pipe}}}\n")
    assert "file pipe is not a regular file" in one(m)


def test_symlink_out_of_the_manifest_folder_is_refused(tmp_path):
    (tmp_path / "outside").mkdir()
    write("outside/secret.key", "x")
    (tmp_path / "proj").mkdir()
    os.symlink(tmp_path / "outside" / "secret.key", tmp_path / "proj" / "link.key")
    os.symlink(tmp_path / "outside", tmp_path / "proj" / "linkdir")
    m = manifest(
        "default: {secrets: {A: {file: link.key}, B: {file: linkdir/secret.key}, "
        f"C: {{file: {tmp_path}/outside/secret.key}}}}}}\n",
        path=f"proj/{M}",
    )
    found = [str(p) for p in source_problems(m)]
    assert len(found) == 3
    for text, ref in zip(
        found, ["link.key", "linkdir/secret.key", f"{tmp_path}/outside/secret.key"], strict=True
    ):
        assert (
            f"file {ref} is outside the manifest's folder; list its folder under file_roots:"
            in text
        )
        assert text.startswith("proj/secretsync.yaml:5:")


def test_symlink_inside_the_manifest_folder_is_fine(tmp_path):
    write("real/secret.key", "inside")
    os.symlink(tmp_path / "real" / "secret.key", tmp_path / "link.key")
    absolute = tmp_path / "real" / "secret.key"
    m = manifest(f"default: {{secrets: {{A: {{file: link.key}}, B: {{file: {absolute}}}}}}}\n")
    assert values(group_of(resolve_sources(m, {}))) == {"A": b"inside", "B": b"inside"}


def test_file_roots_allow_reading_elsewhere(tmp_path):
    (tmp_path / ".git").mkdir()  # the repository: file_roots may not leave it
    write("shared/common.env", "COMMON=yes\n")
    write("abs/tls.key", "k")
    os.symlink(tmp_path / "abs" / "tls.key", tmp_path / "proj-link.key")
    (tmp_path / "proj").mkdir()
    os.symlink(tmp_path / "proj-link.key", tmp_path / "proj" / "tls.key")
    m = manifest(
        "default: {dotenv: ../shared/common.env, secrets: {TLS: {file: tls.key}}}\n",
        top=f"file_roots: [../shared, {tmp_path}/abs]\n",
        path=f"proj/{M}",
    )
    assert values(group_of(resolve_sources(m, {}))) == {"COMMON": b"yes", "TLS": b"k"}


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"A=1\nB=caf\xe9\n", 2, "this line is not valid UTF-8"),
        (b"A=1\n\n# comment\nJUSTAKEY\n", 4, "this line has no '=' (every line must be KEY=value)"),
        (b"A=1\nB='unclosed\n", 2, "this line cannot be parsed (check its quotes)"),
    ],
)
def test_broken_env_file_points_at_its_line(content, line, message):
    write("env/a.env", content)
    m = manifest("default: {dotenv: env/a.env, secrets: {X: {dotenv: env/a.env, key: A}}}\n")
    found = source_problems(m)
    assert len(found) == 1, [str(p) for p in found]
    assert (found[0].file, found[0].line, found[0].key_path) == (
        "env/a.env",
        line,
        "repos[0].groups.default.dotenv",
    )
    assert message in found[0].message


def test_env_file_utf8_bom_is_stripped():
    write("a.env", b"\xef\xbb\xbfA=1\n")
    m = manifest("default: {dotenv: a.env}\n")
    assert values(group_of(resolve_sources(m, {}))) == {"A": b"1"}


def test_invalid_key_in_a_whole_env_file_is_refused_but_fine_for_lookups():
    write("a.env", "GOOD=1\nbad-key=2\n")
    lookup = manifest("default: {secrets: {G: {dotenv: a.env, key: GOOD}}}\n")
    assert values(group_of(resolve_sources(lookup, {}))) == {"G": b"1"}
    whole = manifest("default: {dotenv: a.env}\n")
    assert one(whole) == (
        "a.env:2: repos[0].groups.default.dotenv: this key is not a valid secret name:"
        " must start with a letter or '_' and contain only letters, digits and '_'"
    )


def test_empty_key_in_whole_env_file_points_at_its_line():
    write("a.env", "A=1\nEMPTY=\n")
    m = manifest("default: {dotenv: a.env}\n")
    assert one(m) == (
        "a.env:2: repos[0].groups.default.dotenv: key EMPTY is empty; add allow_empty: true"
        " to the group to allow it (in acme/app, group default)"
    )


def test_problem_in_a_shared_set_is_reported_once_with_every_use():
    m = manifest(
        "default: {use: common}\nstaging: {use: common}\nprod: {use: common}\n",
        top="sets: {common: {secrets: {DSN: {env: SENTRY_DSN}}}}\n",
    )
    assert one(m) == (
        "secretsync.yaml:2:32: sets.common.secrets.DSN: env variable SENTRY_DSN is not set"
        " (secret DSN in acme/app, group default; and 2 more)"
    )


def test_all_problems_at_once():
    write("a.env", "NOEQUALS\n")
    m = manifest(
        """\
        default:
          secrets:
            A: {env: UNSET}
            B: {file: missing.bin}
            C: {dotenv: a.env}
        """
    )
    found = source_problems(m)
    assert [(p.file, p.line, p.key_path) for p in found] == [
        (M, 7, "repos[0].groups.default.secrets.A"),
        (M, 8, "repos[0].groups.default.secrets.B"),
        ("a.env", 1, "repos[0].groups.default.secrets.C"),
    ]
    with pytest.raises(SourceError) as info:
        resolve_sources(m, {})
    assert str(info.value) == "3 problems in the value sources"


# ---------------------------------------------------------------------------- check_sources


def test_check_sources_without_env_checks_files_only():
    write("a.env", "A=1\n")
    m = manifest("default: {secrets: {E: {env: UNSET}, A: {dotenv: a.env}}}\n")
    check_sources(m, None)
    with pytest.raises(SourceError) as info:
        check_sources(m, {})
    assert "env variable UNSET is not set" in str(info.value)
    missing = manifest("default: {secrets: {E: {env: UNSET}, F: {file: gone.bin}}}\n")
    with pytest.raises(SourceError) as info:
        check_sources(missing, None)
    assert [p.key_path for p in info.value.problems] == ["repos[0].groups.default.secrets.F"]


# ---------------------------------------------------------------------------- read once


def test_each_file_is_read_once_per_call(monkeypatch):
    write("a.env", "A=1\nB=2\n")
    write("k.bin", "k")
    reads: list[str] = []
    real_read = sources.read_small_file

    def counting(path, limit):
        reads.append(os.path.basename(path))
        return real_read(path, limit)

    monkeypatch.setattr(sources, "read_small_file", counting)
    m = manifest(
        """\
        default:
          dotenv: [a.env, ./a.env]
          secrets:
            X: {dotenv: a.env, key: A}
            Y: {file: k.bin}
            Z: {file: ./k.bin}
        staging:
          dotenv: a.env
          secrets:
            Y: {file: k.bin}
            M: {file: missing.bin}
            N: {file: missing.bin}
        """
    )
    with pytest.raises(SourceError):
        resolve_sources(m, {})
    assert sorted(reads) == ["a.env", "k.bin", "missing.bin"]
    reads.clear()
    check_sources(manifest("default: {dotenv: a.env, secrets: {A: {file: a.env}}}\n"), None)
    assert reads == ["a.env"]


# ---------------------------------------------------------------------------- no leaks

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
