"""plan --base, core: each kind of change between the manifest at a git revision and the one in
the working tree, per (repository entry, group, key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.errors import ManifestError, SourceError
from secretsync.review.compare import structural_plan
from secretsync.review.records import KeyChange, StructuralPlan
from tests.review.gitrepo import Repo, git_env

BASE = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        dotenv: env/app.env
        secrets:
          DB_URL: {env: APP_DB}
          TLS_KEY: {file: certs/tls.key}
          API: {dotenv: env/shared.env, key: API_BASE}
      production:
        prune: true
        secrets:
          OLD_TOKEN: {env: OLD_TOKEN}
          KEEP: {env: KEEP}
  - org: acme
    match: "svc-*"
    groups:
      default:
        secrets:
          SENTRY: {env: SENTRY}
"""


def setup_repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.write("secretsync.yaml", BASE)
    repo.write("env/app.env", "A=alpha-base\nB=bravo-base\n")
    repo.write("env/shared.env", "API_BASE=https://api.base\nOTHER=o\n")
    repo.write("certs/tls.key", b"tls-base\x00bytes\n")
    repo.commit("base")
    return repo


def plan_of(repo: Repo, ref: str = "main") -> StructuralPlan:
    return structural_plan(repo.path / "secretsync.yaml", ref, git_env(repo.path.parent))


def key(plan: StructuralPlan, name: str, group: str = "default") -> KeyChange:
    [found] = [k for k in plan.keys if k.key == name and k.group == group]
    return found


def test_nothing_changed_is_no_change(tmp_path):
    plan = plan_of(setup_repo(tmp_path))
    assert not plan.has_changes
    assert plan.base.status == "ok" and plan.base.manifest == "secretsync.yaml"
    assert {k.change for k in plan.keys} == {"unchanged"}
    assert key(plan, "TLS_KEY").content == "unchanged"
    assert key(plan, "A").content == "unchanged"
    assert key(plan, "DB_URL").content == "environment"


def test_added_removed_and_deleted_under_prune(tmp_path):
    repo = setup_repo(tmp_path)
    text = BASE.replace("          OLD_TOKEN: {env: OLD_TOKEN}\n", "")
    text = text.replace("KEEP: {env: KEEP}", "KEEP: {env: KEEP}\n          NEW: {env: NEW}")
    repo.write("secretsync.yaml", text)
    plan = plan_of(repo)
    assert plan.has_changes
    old = key(plan, "OLD_TOKEN", "production")
    assert (old.change, old.before, old.after, old.deletes) == (
        "removed",
        "env:OLD_TOKEN",
        None,
        True,
    )
    new = key(plan, "NEW", "production")
    assert (new.change, new.after, new.deletes) == ("added", "env:NEW", False)


def test_removed_without_prune_is_not_a_deletion(tmp_path):
    repo = setup_repo(tmp_path)
    repo.write("secretsync.yaml", BASE.replace("          DB_URL: {env: APP_DB}\n", ""))
    removed = key(plan_of(repo), "DB_URL")
    assert removed.change == "removed" and not removed.deletes


@pytest.mark.parametrize(
    ("old", "new", "name", "before", "after", "content"),
    [
        (
            "{env: APP_DB}",
            "{env: APP_DB_V2}",
            "DB_URL",
            "env:APP_DB",
            "env:APP_DB_V2",
            "environment",
        ),
        (
            "{file: certs/tls.key}",
            "{file: certs/copy.key}",
            "TLS_KEY",
            "file:certs/tls.key",
            "file:certs/copy.key",
            "unchanged",  # a rename: same bytes
        ),
        (
            "key: API_BASE}",
            "key: OTHER}",
            "API",
            "dotenv:env/shared.env#API_BASE",
            "dotenv:env/shared.env#OTHER",
            "changed",
        ),
    ],
    ids=["env", "file-path", "dotenv-key"],
)
def test_source_changed(tmp_path, old, new, name, before, after, content):
    repo = setup_repo(tmp_path)
    repo.write("certs/copy.key", b"tls-base\x00bytes\n")
    repo.write("secretsync.yaml", BASE.replace(old, new))
    found = key(plan_of(repo), name)
    assert (found.change, found.before, found.after, found.content) == (
        "source",
        before,
        after,
        content,
    )


def test_content_changed_in_repository_files(tmp_path):
    repo = setup_repo(tmp_path)
    repo.write("certs/tls.key", b"tls-head\n")
    repo.write("env/app.env", "A=alpha-base\nB=bravo-head\nC=charlie\n")
    repo.write("env/shared.env", "API_BASE=https://api.head\nOTHER=o\n")
    plan = plan_of(repo)
    assert (key(plan, "TLS_KEY").change, key(plan, "TLS_KEY").content) == ("content", "changed")
    assert (key(plan, "B").change, key(plan, "B").content) == ("content", "changed")
    assert (key(plan, "A").change, key(plan, "A").content) == ("unchanged", "unchanged")
    assert key(plan, "C").change == "added" and key(plan, "C").after == "dotenv:env/app.env#C"
    assert key(plan, "API").change == "content"


def test_prune_switched_on_and_off(tmp_path):
    repo = setup_repo(tmp_path)
    text = BASE.replace("        prune: true\n", "").replace(
        "      default:\n        dotenv", "      default:\n        prune: true\n        dotenv"
    )
    repo.write("secretsync.yaml", text)
    switched = {
        (g.group, g.prune_before, g.prune_after) for g in plan_of(repo).groups if g.prune_switched
    }
    assert switched == {("default", False, True), ("production", True, False)}
    assert plan_of(repo).has_changes


def test_org_selector_changed_says_what_it_now_selects(tmp_path):
    repo = setup_repo(tmp_path)
    text = BASE.replace('match: "svc-*"', 'match: ["svc-*", "app"]\n    exclude: [svc-old]')
    repo.write("secretsync.yaml", text)
    plan = plan_of(repo)
    [entry] = [e for e in plan.entries if e.org]
    assert entry.change == "changed"
    assert entry.before == (("svc-*",), ())
    assert entry.after == (("svc-*", "app"), ("svc-old",))
    assert "svc-* or app" in entry.selects and "except svc-old" in entry.selects
    # The manifest also lists acme/app on its own: the selector would pick it too.
    assert "acme/app" in entry.selects
    assert plan.has_changes


def test_entries_and_groups_added_and_removed(tmp_path):
    repo = setup_repo(tmp_path)
    text = BASE.replace("repo: acme/app", "repo: acme/web").replace("production:", "staging:")
    repo.write("secretsync.yaml", text)
    plan = plan_of(repo)
    changes = {(e.repo, e.change) for e in plan.entries}
    assert ("acme/web", "added") in changes and ("acme/app", "removed") in changes
    # Keys of an entry that left the manifest stay as stored: never a deletion.
    gone = [k for k in plan.keys if k.repo == "acme/app"]
    assert gone and all(k.change == "removed" and not k.deletes for k in gone)


def test_new_manifest_everything_added(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("README", "x")
    repo.commit()
    repo.write("secretsync.yaml", BASE)
    repo.write("env/app.env", "A=1\n")
    repo.write("env/shared.env", "API_BASE=u\n")
    repo.write("certs/tls.key", "k")
    plan = plan_of(repo)
    assert plan.base.status == "missing"
    assert plan.keys and {k.change for k in plan.keys} == {"added"}


def test_invalid_base_is_said_and_head_still_shown(tmp_path):
    repo = setup_repo(tmp_path)
    repo.write("secretsync.yaml", "version: 1\nrepos: [oops\n")
    repo.commit("broken")
    repo.write("secretsync.yaml", BASE)
    plan = plan_of(repo)
    assert plan.base.status == "invalid"
    assert plan.base.problems and plan.base.problems[0].startswith("main:secretsync.yaml:")
    assert {k.change for k in plan.keys} == {"added"}


def test_invalid_head_is_an_error(tmp_path):
    repo = setup_repo(tmp_path)
    repo.write("secretsync.yaml", BASE.replace("groups:", "groupz:", 1))
    with pytest.raises(ManifestError):
        plan_of(repo)


def test_missing_file_at_head_is_an_error_naming_the_entry(tmp_path):
    repo = setup_repo(tmp_path)
    repo.remove("certs/tls.key")
    with pytest.raises(SourceError) as err:
        plan_of(repo)
    assert "certs/tls.key does not exist" in str(err.value)
    assert "secretsync.yaml:9" in str(err.value)


def test_sources_outside_the_repository_are_not_compared(tmp_path):
    outside = tmp_path / "runner-temp"
    outside.mkdir()
    (outside / "key").write_text("outside-value")
    (outside / "o.env").write_text("X=outside\n")
    repo = setup_repo(tmp_path)
    text = BASE.replace("{file: certs/tls.key}", "{file: ../runner-temp/key}")
    text = text.replace("dotenv: env/app.env", "dotenv: ../runner-temp/o.env")
    repo.write("secretsync.yaml", text)
    plan = structural_plan(
        repo.path / "secretsync.yaml", "main", git_env(tmp_path), extra_roots=[outside]
    )
    tls = key(plan, "TLS_KEY")
    assert (tls.change, tls.content) == ("source", "outside")
    assert any("../runner-temp/o.env" in w and "not compared" in w for w in plan.warnings)


SETS = """\
version: 1
sets:
  observability:
    secrets:
      SENTRY_DSN: {env: SENTRY_DSN}
  payments:
    secrets:
      STRIPE: {env: STRIPE}
repos:
  - repo: acme/app
    groups:
      default:
        use: [observability]
  - repo: acme/web
    groups:
      default:
        use: [observability, payments]
"""


def test_sets_changed_say_which_groups_use_them(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("secretsync.yaml", SETS)
    repo.commit()
    assert not plan_of(repo).has_changes and plan_of(repo).sets
    text = SETS.replace("SENTRY_DSN: {env: SENTRY_DSN}", "SENTRY_DSN: {env: SENTRY_DSN_V2}")
    text = text.replace("use: [observability, payments]", "use: [observability]")
    text = text.replace(
        "        use: [observability]\n  - repo: acme/web",
        "        use: [observability, payments]\n  - repo: acme/web",
    )
    repo.write("secretsync.yaml", text)
    plan = plan_of(repo)
    sets = {s.name: s for s in plan.sets}
    assert sets["observability"].change == "changed"
    assert set(sets["observability"].used_by) == {"acme/app · default", "acme/web · default"}
    assert not sets["observability"].uses_changed
    assert sets["payments"].change == "unchanged" and sets["payments"].uses_changed
    assert sets["payments"].used_by == ("acme/app · default",)
    # The keys a set brings are rows too.
    assert {k.change for k in plan.keys if k.key == "SENTRY_DSN"} == {"source"}
    assert {(k.repo, k.key, k.change) for k in plan.keys if k.key == "STRIPE"} == {
        ("acme/app", "STRIPE", "added"),
        ("acme/web", "STRIPE", "removed"),
    }


def test_head_dotenv_problems_are_errors_and_base_ones_are_warnings(tmp_path):
    repo = setup_repo(tmp_path)
    repo.write("env/shared.env", "OTHER=o\n")  # API_BASE gone at the head
    with pytest.raises(SourceError, match=r"key API_BASE not found in env/shared\.env"):
        plan_of(repo)
    repo.write("env/shared.env", "API_BASE=https://api.head\n")
    repo.commit("head")
    repo.write("env/app.env", "no equals sign on this line\n")
    with pytest.raises(SourceError) as err:
        plan_of(repo)
    assert "no equals sign" not in str(err.value)  # a problem never quotes the line
    repo.git("commit", "-qam", "broken env at the base")
    repo.write("env/app.env", "A=alpha-base\n")
    plan = plan_of(repo)
    assert plan.base.status == "ok" and any("env/app.env:1" in p for p in plan.base.problems)
    assert key(plan, "A").change == "added"  # the base file's keys could not be read
