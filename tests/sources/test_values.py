"""resolve_sources: exact bytes, record order and labels, and precedence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secretsync.manifest.loader import load_manifest
from secretsync.sources.resolve import resolve_sources
from tests.sources.helpers import M, group_of, manifest, one, values, write


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
