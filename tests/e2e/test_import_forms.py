"""import --repo takes the forms plan prints; malformed flag values are usage errors (64);
a group with no secrets is warned about."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

REPO_ID = "3b0c2a7e-5d1f-4c8e-9a6b-2f4d8e1c7a90"
SEED = {
    "orgs": [
        {
            "slug": "acme",
            "repos": [{"slug": "billing", "id": REPO_ID, "secrets": {"default": {"K": "v"}}}],
        }
    ]
}


@pytest.mark.parametrize("form", [f"id:{REPO_ID}", REPO_ID, "acme/billing"])
def test_import_accepts_slug_uuid_and_id_uuid(launch, workspace, form):
    emu = launch(SEED)
    result = workspace.run("import", "--repo", form, "--api-url", emu.url)
    assert result.code == 0, result.stderr
    manifest = (workspace.root / "secretsync.yaml").read_text()
    expected = '- repo: "acme/billing"' if "/" in form else f'- repo_id: "{REPO_ID}"'
    assert expected in manifest and "K: {env: BILLING_K}" in manifest


def test_a_group_with_no_secrets_is_warned_about(launch, workspace):
    emu = launch(SEED)
    result = workspace.run(
        "import", "--repo", "acme/billing", "--group", "default", "--group", "prodution",
        "--api-url", emu.url,
    )  # fmt: skip
    assert result.code == 0
    assert "warning: group 'prodution' of acme/billing has no secrets" in result.stderr
    assert "'default'" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["import", "--repo", "justname"],
        ["import", "--repo", "id:not-a-uuid"],
        ["import", "--repo", "acme/billing", "--group", "bad group"],
        ["import", "--repo", "acme/billing", "--api-url", "notaurl"],
        ["plan", "--api-url", "notaurl"],
        ["apply", "--api-url", "ftp://example.com"],
        ["validate", "--api-url", "notaurl"],
    ],
)
def test_malformed_flag_values_are_usage_errors(workspace, args):
    result = workspace.run(*args)
    assert result.code == 64, result.stderr
    assert "Traceback" not in result.stderr
    assert not (workspace.root / "secretsync.yaml").exists()


def test_a_malformed_api_url_from_the_environment_is_a_usage_error_too(workspace):
    result = workspace.run("import", "--repo", "acme/x", SOURCECRAFT_API_URL="notaurl")
    assert result.code == 64 and "notaurl" in result.stderr
