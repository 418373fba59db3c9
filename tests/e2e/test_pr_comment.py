"""`plan --comment-on`: the CLI and the emulator as real processes; one comment per pull
request, created then edited, carrying the failure of a failed run, and never a value."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.e2e.conftest import TOKEN, RunningEmulator, Workspace

pytestmark = pytest.mark.e2e

CANARY = "comment-canary-value-7c1e"
STALE = "stale-comment-canary-0b9d"
SEED = {
    "users": [{"username": "mallory", "token": "mallory-token"}],
    "orgs": [
        {
            "slug": "acme",
            "repos": [
                {
                    "slug": "app",
                    "secrets": {"default": {"API_KEY": STALE}},
                    "pull_requests": ["42"],
                }
            ],
        }
    ],
}
MANIFEST = """\
version: 1
repos:
  - repo: acme/app
    groups:
      default:
        secrets:
          API_KEY: {env: API_KEY_SRC}
          NEW_KEY: {env: API_KEY_SRC}
"""
PATH = "/repos/acme/app/pulls/42/comments"


def comments(emu: RunningEmulator) -> list[dict[str, object]]:
    answer = httpx.get(f"{emu.url}{PATH}", headers={"Authorization": f"Bearer {TOKEN}"})
    answer.raise_for_status()
    return list(answer.json()["pull_request_comments"])


def plan(ws: Workspace, emu: RunningEmulator, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return ws.run(
        "plan", "--api-url", emu.url, "--report", "plan.md", *args, API_KEY_SRC=CANARY, **env
    )


def test_first_run_creates_the_comment_and_the_next_edits_it(launch, workspace):
    emu = launch(SEED)
    workspace.write("secretsync.yaml", MANIFEST)
    first = plan(workspace, emu, "--comment-on", "acme/app/42", "--detailed-exitcode")
    assert first.code == 2, first.stderr  # the plan's own meaning: changes pending
    assert "comment posted on pull request acme/app/42" in first.stderr
    [comment] = comments(emu)
    body = str(comment["body"])
    assert body.startswith("<!-- secretsync plan: secretsync.yaml -->\n")
    assert body.rstrip("\n").endswith((workspace.root / "plan.md").read_text().rstrip("\n"))
    assert "`NEW_KEY`" in body and "`API_KEY`" in body

    workspace.write(
        "secretsync.yaml", MANIFEST.replace("          NEW_KEY: {env: API_KEY_SRC}\n", "")
    )
    second = plan(workspace, emu, SECRETSYNC_COMMENT_ON="acme/app/42")
    assert second.code == 0, second.stderr
    assert "comment updated on pull request acme/app/42" in second.stderr
    [edited] = comments(emu)
    assert edited["id"] == comment["id"]
    assert "`NEW_KEY`" not in str(edited["body"])
    writes = [r for r in emu.control("log")["requests"] if r["method"] in ("POST", "PATCH")]
    assert [(r["method"], r["path"]) for r in writes] == [
        ("POST", PATH),
        ("PATCH", f"/pull_comments/id:{comment['id']}"),
    ]


def test_a_failed_run_puts_its_failure_in_the_same_comment(launch, workspace):
    emu = launch(SEED)
    workspace.write("secretsync.yaml", MANIFEST)
    assert plan(workspace, emu, "--comment-on", "acme/app/42").code == 0
    workspace.write("secretsync.yaml", MANIFEST + "    bogus: true\n")
    failed = plan(workspace, emu, "--comment-on", "acme/app/42")
    assert failed.code == 1
    [comment] = comments(emu)
    assert "[!CAUTION]" in str(comment["body"]) and "bogus" in str(comment["body"])


def test_no_value_reaches_the_comment(launch, workspace):
    emu = launch(SEED)
    workspace.write("secretsync.yaml", MANIFEST)
    assert plan(workspace, emu, "--comment-on", "acme/app/42", "-v").code == 0
    ok_body = json.dumps([c["body"] for c in comments(emu)])
    # A failed run's comment quotes the error: still no value in it.
    workspace.write("secretsync.yaml", MANIFEST.replace("acme/app", "acme/gone"))
    assert plan(workspace, emu, "--comment-on", "acme/app/42").code == 1
    bodies = json.dumps([c["body"] for c in comments(emu)])
    assert "[!CAUTION]" in bodies and "acme/gone" in bodies
    bodies += ok_body
    for value in (CANARY, STALE, TOKEN):
        for spelling in (value, base64.b64encode(value.encode()).decode()):
            assert spelling not in bodies


def test_a_comment_failure_is_a_warning_unless_required(launch, workspace):
    emu = launch(SEED)
    workspace.write("secretsync.yaml", MANIFEST)
    missing = plan(workspace, emu, "--comment-on", "acme/app/404", "--detailed-exitcode")
    assert missing.code == 2  # still the plan's answer
    assert "warning: the comment on pull request acme/app/404 was not posted" in missing.stderr
    required = plan(workspace, emu, "--comment-on", "acme/app/404", "--comment-required")
    assert required.code == 3
    assert "error: the comment on pull request acme/app/404 was not posted" in required.stderr
    assert TOKEN not in missing.stderr + required.stderr


def test_someone_elses_marker_comment_is_left_alone(launch, workspace):
    emu = launch(SEED)
    spoof = "<!-- secretsync plan: secretsync.yaml -->\nNo changes, merge away."
    httpx.post(
        f"{emu.url}{PATH}",
        json={"body": spoof, "publish": True},
        headers={"Authorization": "Bearer mallory-token"},
    ).raise_for_status()
    workspace.write("secretsync.yaml", MANIFEST)
    assert plan(workspace, emu, "--comment-on", "acme/app/42").code == 0
    found = [(c["author"]["slug"], c["body"]) for c in comments(emu)]  # type: ignore[index]
    assert found[0] == ("mallory", spoof)
    assert found[1][0] == "emulator-user" and "`NEW_KEY`" in str(found[1][1])


@pytest.mark.parametrize("value", ["acme/app", "acme/app/42/extra", "not a ref"])
def test_a_malformed_pull_request_is_a_usage_error(workspace, value):
    workspace.write("secretsync.yaml", MANIFEST)
    result = workspace.run("plan", "--comment-on", value)
    assert result.code == 64
    assert "ORG/REPO/PR" in result.stderr and "Traceback" not in result.stderr


def test_a_plan_too_long_for_a_comment_is_cut_and_names_the_artifact(launch, workspace):
    emu = launch(SEED)
    workspace.write("big.env", "".join(f"KEY_{n:04d}=value-{n}\n" for n in range(1500)))
    workspace.write(
        "secretsync.yaml",
        "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n      default:\n"
        "        dotenv: big.env\n",
    )
    result = plan(workspace, emu, "--comment-on", "acme/app/42")
    assert result.code == 0, result.stderr
    [comment] = comments(emu)
    body = str(comment["body"])
    assert len(body) <= 60_000 < len((workspace.root / "plan.md").read_text())
    assert "This plan is too long for one comment" in body
    assert "The whole plan is in the artifact `plan.md`." in body
