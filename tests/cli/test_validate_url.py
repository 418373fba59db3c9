"""validate and a self-hosted api.url: a note offline, never an error; a malformed one is."""

from __future__ import annotations

from tests.cli.test_cli import GOOD, run

SELF_HOSTED = GOOD.replace("version: 1\n", "version: 1\napi:\n  url: https://git.corp.example\n")


def test_self_hosted_url_is_a_note_for_validate_and_an_error_for_plan(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(SELF_HOSTED)
    validate = run(tmp_path, "validate", "--no-env")
    assert validate.returncode == 0
    assert "note: the manifest's api.url names git.corp.example" in validate.stderr
    assert "valid" in validate.stdout
    assert run(tmp_path, "validate", "--no-env", "-q").stderr == ""
    pinned = run(tmp_path, "validate", "--no-env", SOURCECRAFT_API_URL="https://git.corp.example")
    assert (pinned.returncode, pinned.stderr) == (0, "")
    plan = run(tmp_path, "plan", APP_API_KEY="v-1", SOURCECRAFT_TOKEN="tok-12345678")
    assert plan.returncode == 1 and "error:" in plan.stderr


def test_a_malformed_api_url_is_still_an_error_for_validate(tmp_path):
    (tmp_path / "secretsync.yaml").write_text(SELF_HOSTED.replace("https://", "ftp://"))
    result = run(tmp_path, "validate", "--no-env")
    assert result.returncode == 1
    assert "not an http(s) URL" in result.stderr
