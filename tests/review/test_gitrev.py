"""plan --base reads the base revision with git, under the working tree's rules: refs that
look like options are refused before git runs, unknown refs and folders outside a repository
are clear errors, and nothing outside the repository or under .git is ever read."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from secretsync.errors import EXIT_USAGE, BaseRefError, RevisionError, SourceError
from secretsync.review.compare import structural_plan
from secretsync.review.gitrev import OUTSIDE, Revision, repository_top
from tests.review.gitrepo import Repo, git_env

MANIFEST = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        secrets:
          KEY: {file: certs/k}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.write("secretsync.yaml", MANIFEST)
    repo.write("certs/k", "base-key-value")
    repo.commit()
    return repo


@pytest.mark.parametrize("ref", ["-x", "--output=/tmp/owned", "--upload-pack=touch x", ""])
def test_a_ref_that_could_be_an_option_is_refused_before_git_runs(repo, ref, monkeypatch):
    calls: list[list[str]] = []
    real_run = subprocess.run

    def spy(args, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(list(args))
        return real_run(args, *a, **k)

    monkeypatch.setattr(subprocess, "run", spy)
    with pytest.raises(BaseRefError) as err:
        Revision(repo.path, ref, git_env(repo.path))
    assert err.value.exit_code == EXIT_USAGE
    assert calls == []
    assert not Path("/tmp/owned").exists()


def test_the_ref_reaches_git_only_after_end_of_options(repo, monkeypatch):
    calls: list[list[str]] = []
    real_run = subprocess.run

    def spy(args, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(list(args))
        assert k.get("shell") in (None, False)
        return real_run(args, *a, **k)

    monkeypatch.setattr(subprocess, "run", spy)
    Revision(repo.path, "main", git_env(repo.path))
    [call] = calls
    assert call[call.index("--end-of-options") + 1] == "main^{commit}"


def test_unknown_ref_is_a_usage_error_with_a_hint(repo):
    with pytest.raises(BaseRefError) as err:
        Revision(repo.path, "origin/nope", git_env(repo.path))
    assert err.value.exit_code == EXIT_USAGE
    assert "'origin/nope' names no commit" in err.value.message
    assert err.value.hint and "git fetch" in err.value.hint


def test_a_tree_or_blob_is_not_a_commit(repo):
    with pytest.raises(BaseRefError):
        Revision(repo.path, "main:secretsync.yaml", git_env(repo.path))


def test_outside_a_git_repository_is_a_clear_error(tmp_path):
    Repo(tmp_path)  # a repository above, that GIT_CEILING_DIRECTORIES hides: git honours it
    folder = tmp_path / "ceiling" / "plain"
    folder.mkdir(parents=True)
    (folder / "secretsync.yaml").write_text(MANIFEST)
    (folder / "certs").mkdir()
    (folder / "certs" / "k").write_text("x")
    env = {**git_env(tmp_path), "GIT_CEILING_DIRECTORIES": str(tmp_path / "ceiling")}
    with pytest.raises(RevisionError) as err:
        repository_top(folder, env)
    assert "inside a git repository" in err.value.message
    with pytest.raises(RevisionError):
        structural_plan(folder / "secretsync.yaml", "main", env)


def test_git_gets_no_network_and_no_caller_secrets(repo, monkeypatch):
    seen: list[dict[str, str]] = []
    commands: list[list[str]] = []
    real_run = subprocess.run

    def spy(args, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(dict(k["env"]))
        commands.append(list(args))
        return real_run(args, *a, **k)

    monkeypatch.setattr(subprocess, "run", spy)
    environ = {**git_env(repo.path.parent), "SOURCECRAFT_TOKEN": "tok-123", "APP_DB": "v"}
    structural_plan(repo.path / "secretsync.yaml", "main", environ)
    assert seen
    for env, command in zip(seen, commands, strict=True):
        assert env["GIT_NO_LAZY_FETCH"] == "1"  # a partial clone must not fetch
        assert "SOURCECRAFT_TOKEN" not in env and "APP_DB" not in env
        assert "protocol.allow=never" in command


def test_symlinks_at_the_base_are_followed_inside_the_repository_only(tmp_path):
    outside = tmp_path / "outside.key"
    outside.write_text("outside-value")
    repo = Repo(tmp_path / "repo")
    repo.write("real/k", "inside")
    os.symlink("real/k", repo.path / "certs-inside")
    (repo.path / "sub").mkdir()
    os.symlink("../real/k", repo.path / "sub" / "up")
    os.symlink(str(outside), repo.path / "abs-link")
    os.symlink("../outside.key", repo.path / "rel-link")
    os.symlink("loop-b", repo.path / "loop-a")
    os.symlink("loop-a", repo.path / "loop-b")
    repo.commit()
    revision = Revision(repo.path, "main", git_env(tmp_path))
    assert revision.resolve(["certs-inside"]) == ("real", "k")
    assert revision.resolve(["sub", "up"]) == ("real", "k")
    assert revision.resolve(["abs-link"]) is OUTSIDE
    assert revision.resolve(["rel-link"]) is OUTSIDE
    assert revision.resolve(["..", "outside.key"]) is OUTSIDE
    assert revision.resolve(["loop-a"]) == "is a symbolic link loop"
    assert revision.resolve([".git", "config"]) == "does not exist"
    assert revision.read(("real", "k")) == b"inside"


def test_base_files_leaving_the_repository_are_never_read(tmp_path):
    (tmp_path / "outside.env").write_text("KEY=outside-value\n")
    repo = Repo(tmp_path / "repo")
    manifest = MANIFEST.replace("KEY: {file: certs/k}", "KEY: {dotenv: env/link.env}")
    repo.write("secretsync.yaml", manifest)
    (repo.path / "env").mkdir()
    os.symlink("../../outside.env", repo.path / "env" / "link.env")
    repo.commit()
    # The head no longer leaves the repository; the base did.
    (repo.path / "env" / "link.env").unlink()
    repo.write("env/link.env", "KEY=inside\n")
    plan = structural_plan(repo.path / "secretsync.yaml", "main", git_env(tmp_path))
    [key] = plan.keys
    assert key.content == "outside"


def test_base_files_outside_the_manifest_folder_are_refused_like_the_working_tree(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("infra/secretsync.yaml", MANIFEST.replace("certs/k", "../secret.txt"))
    repo.write("secret.txt", "base")
    repo.commit()
    repo.write("infra/secretsync.yaml", MANIFEST)
    repo.write("infra/certs/k", "head")
    plan = structural_plan(repo.path / "infra/secretsync.yaml", "main", git_env(tmp_path))
    assert plan.base.status == "ok"
    assert any("outside the manifest's folder" in p for p in plan.base.problems)
    [key] = plan.keys
    assert key.content == "unreadable"
    # The working tree refuses the same path, as an error.
    repo.write("infra/secretsync.yaml", MANIFEST.replace("certs/k", "../secret.txt"))
    with pytest.raises(SourceError, match="outside the manifest's folder"):
        structural_plan(repo.path / "infra/secretsync.yaml", "main", git_env(tmp_path))


def test_head_never_reads_git_own_files(repo):
    (repo.path / ".git" / "config").write_text(
        "[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0LXRva2Vu\n", encoding="utf-8"
    )
    repo.write("secretsync.yaml", MANIFEST.replace("certs/k", ".git/config"))
    with pytest.raises(SourceError) as err:
        structural_plan(repo.path / "secretsync.yaml", "main", git_env(repo.path.parent))
    assert "inside a .git folder" in str(err.value)
    assert "c2VjcmV0" not in str(err.value)


def test_base_blobs_over_the_size_limit_are_not_read(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("secretsync.yaml", MANIFEST)
    repo.write("certs/k", b"x" * ((1 << 20) + 1))
    repo.commit()
    repo.write("certs/k", "small")
    plan = structural_plan(repo.path / "secretsync.yaml", "main", git_env(tmp_path))
    assert any("larger than the 1 MiB limit" in p for p in plan.base.problems)


def test_a_crafted_git_folder_in_the_base_tree_is_never_read(tmp_path):
    # git refuses to commit `.git/...` paths, but a crafted tree can hold one: the rule of the
    # working tree (never read under .git) holds for the revision too.
    repo = Repo(tmp_path / "repo")
    manifest = MANIFEST.replace("certs/k", ".git/config")
    blob = repo.git_input(["hash-object", "-w", "--stdin"], b"crafted-git-secret\n")
    manifest_blob = repo.git_input(["hash-object", "-w", "--stdin"], manifest.encode())
    inner = repo.git_input(["mktree"], f"100644 blob {blob}\tconfig\n".encode())
    top = repo.git_input(
        ["mktree"],
        f"040000 tree {inner}\t.git\n100644 blob {manifest_blob}\tsecretsync.yaml\n".encode(),
    )
    commit = repo.git("commit-tree", top, "-m", "crafted")
    repo.write("secretsync.yaml", MANIFEST)
    repo.write("certs/k", "head")
    plan = structural_plan(repo.path / "secretsync.yaml", commit, git_env(tmp_path))
    assert any("inside a .git folder" in p for p in plan.base.problems)
    [key] = plan.keys
    assert key.content == "unreadable"
