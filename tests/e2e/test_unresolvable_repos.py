"""Every repository the API does not know is reported at once, each with its manifest line."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

SEED = {"orgs": [{"slug": "acme", "repos": [{"slug": "app"}]}]}
MANIFEST = """\
version: 1
repos:
  - repo: acme/app
    groups: {default: {secrets: {A: {env: V}}}}
  - repo: acme/typo-one
    groups: {default: {secrets: {A: {env: V}}}}
  - repo: acme/typo-two
    groups: {default: {secrets: {A: {env: V}}}}
  - repo_id: 00000000-0000-4000-8000-00000000dead
    groups: {default: {secrets: {A: {env: V}}}}
"""


def test_all_unknown_repositories_at_once_with_lines(launch, workspace):
    emu = launch(SEED)
    workspace.write("secretsync.yaml", MANIFEST)
    result = workspace.run("plan", "--api-url", emu.url, "--report", "plan.json", V="value-1")
    assert result.code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, result.stderr
    assert "secretsync.yaml:5:" in errors[0] and "acme/typo-one was not found" in errors[0]
    assert "secretsync.yaml:7:" in errors[1] and "acme/typo-two was not found" in errors[1]
    assert "secretsync.yaml:9:" in errors[2]
    assert "no repository has the id 00000000-0000-4000-8000-00000000dead" in errors[2]
    assert "hint:" in result.stderr and "id:UUID" in result.stderr
    assert "Traceback" not in result.stderr
    report_lines = workspace.report("plan.json")["error"]["lines"]
    assert [line for line in report_lines if line.startswith("error:")] == errors
