"""secretsync import: what the API lists becomes YAML and a .env template, so only valid names."""

from __future__ import annotations

import asyncio

from secretsync.importer import fetch_existing, render_env_template, render_manifest
from secretsync.manifest.yamlread import read_yaml
from secretsync.models import RepoInfo, Secret


class ListingClient:
    async def get_repo(self, slug: str) -> RepoInfo:
        return RepoInfo(repo_id="r1", slug=slug)

    async def list_secrets(self, repo_id: str, group: str) -> dict[str, Secret | None]:
        odd = ["A: {file: loot.txt}  #", "B`\n<img src=x>", "C\x1b[2J", "1ST"]
        return {"API_KEY": None, "DB_URL": None, **dict.fromkeys(odd)}


def test_listed_names_that_are_not_secret_names_are_left_out_and_counted():
    imported = asyncio.run(fetch_existing(ListingClient(), "acme/app", ["default"]))
    assert imported.groups == (("default", ("API_KEY", "DB_URL")),)
    assert imported.skipped == 4
    manifest = render_manifest(imported)
    doc, problems = read_yaml(manifest, "imported.yaml")
    assert problems == []
    assert doc is not None
    secrets = doc.data["repos"][0]["groups"]["default"]["secrets"]
    assert secrets == {"API_KEY": {"env": "APP_API_KEY"}, "DB_URL": {"env": "APP_DB_URL"}}
    assert render_env_template(imported).splitlines()[1:] == ["APP_API_KEY=", "APP_DB_URL="]
