"""The manifest cannot choose which variable is the credential: only the pipeline can
(`--token-env` / SECRETSYNC_TOKEN_ENV), as only the pipeline can move the API URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.errors import ConfigError
from secretsync.models import Location
from secretsync.pipeline import JobSettings, prepare_job
from secretsync.sourcecraft.endpoint import choose_token_env

ENV = {"SOURCECRAFT_TOKEN": "the-token", "CI_OTHER_SECRET": "other-secret-value"}


def manifest(tmp_path: Path, api: str) -> Path:
    path = tmp_path / "secretsync.yaml"
    path.write_text(f"version: 1\n{api}repos: [{{repo: a/b, groups: {{default: {{}}}}}}]\n")
    return path


def test_a_manifest_naming_another_variable_is_refused_with_its_place(tmp_path):
    path = manifest(tmp_path, "api:\n  token_env: CI_OTHER_SECRET\n")
    with pytest.raises(ConfigError) as info:
        prepare_job(JobSettings(manifest_path=path), ENV)
    assert info.value.message.startswith(f"{path}:3:14: api.token_env: the manifest names ")
    assert "'CI_OTHER_SECRET'" in info.value.message
    assert info.value.hint == (
        "pin it in the pipeline: --token-env CI_OTHER_SECRET "
        "(or set SECRETSYNC_TOKEN_ENV=CI_OTHER_SECRET)"
    )
    assert "other-secret-value" not in "\n".join(info.value.lines())


def test_the_pipeline_pin_chooses_the_variable_and_wins_over_the_manifest(tmp_path):
    path = manifest(tmp_path, "api: {token_env: CI_OTHER_SECRET}\n")
    env = {**ENV, "PINNED": "pinned-token"}
    job = prepare_job(JobSettings(manifest_path=path, pipeline_token_env="PINNED"), env)
    assert (job.token_env, job.token.reveal()) == ("PINNED", b"pinned-token")
    job = prepare_job(JobSettings(manifest_path=path, pipeline_token_env="CI_OTHER_SECRET"), env)
    assert job.token.reveal() == b"other-secret-value"


@pytest.mark.parametrize("api", ["", "api: {token_env: SOURCECRAFT_TOKEN}\n"])
def test_the_default_variable_needs_no_pin(tmp_path, api):
    job = prepare_job(JobSettings(manifest_path=manifest(tmp_path, api)), ENV)
    assert (job.token_env, job.token.reveal()) == ("SOURCECRAFT_TOKEN", b"the-token")


def test_a_pinned_name_must_be_a_variable_name():
    with pytest.raises(ConfigError, match="is not a variable name"):
        choose_token_env(manifest_env="SOURCECRAFT_TOKEN", written_at=None, pipeline_env="A-B")
    at = Location(file="m.yaml", line=2, col=3)
    assert choose_token_env(manifest_env="X", written_at=at, pipeline_env="Y") == "Y"
