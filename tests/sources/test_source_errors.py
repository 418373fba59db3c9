"""resolve_sources: every source error, positioned, all at once."""

from __future__ import annotations

import os

import pytest

from secretsync.errors import SourceError
from secretsync.sources.resolve import resolve_sources
from tests.sources.helpers import MIB, M, group_of, manifest, one, source_problems, values, write


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
