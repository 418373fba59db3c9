"""resolving.locate against pytest-httpx: what it asks for, and how it falls back when an org
listing fails or holds a repository under another spelling."""

import asyncio

import httpx

from secretsync.models import RepoInfo, Secret
from secretsync.plan.resolving import locate
from secretsync.sourcecraft.client import ORG_PAGE_SIZE, SourceCraftClient

BASE = "https://api.example.test"
LISTING = f"{BASE}/orgs/acme/repos?page_size={ORG_PAGE_SIZE}"


def repo(slug: str) -> dict:
    return {"id": f"id-{slug}", "slug": slug, "organization": {"id": "org-1", "slug": "acme"}}


def run_locate(slugs: list[str], **options) -> dict[int, RepoInfo | str]:
    handed: dict[int, RepoInfo | str] = {}

    async def main() -> None:
        async with httpx.AsyncClient() as http:
            client = SourceCraftClient(http, base_url=BASE, token=Secret(b"tok-abc"))
            await locate(client, slugs, lambda i, a: handed.setdefault(i, a), **options)

    asyncio.run(main())
    return handed


def test_a_refused_listing_leaves_every_name_to_single_lookups(httpx_mock):
    # A token limited to selected repositories may not list the org: not an error of the run.
    httpx_mock.add_response(url=LISTING, status_code=403, json={"error_code": "Forbidden"})
    slugs = [f"acme/r{i}" for i in range(6)]
    assert run_locate(slugs) == dict(enumerate(slugs))
    assert len(httpx_mock.get_requests()) == 1


def test_names_the_listing_spells_otherwise_are_looked_up(httpx_mock):
    httpx_mock.add_response(
        url=LISTING, json={"repositories": [repo(f"r{i}") for i in range(5)] + [repo("other")]}
    )
    slugs = [f"acme/r{i}" for i in range(5)] + ["acme/R0-renamed"]
    handed = run_locate(slugs)
    assert [handed[i] for i in range(5)] == [
        RepoInfo(repo_id=f"id-r{i}", slug=f"acme/r{i}") for i in range(5)
    ]
    assert handed[5] == "acme/R0-renamed"


def test_pages_follow_the_token_until_every_name_is_found(httpx_mock):
    httpx_mock.add_response(
        url=LISTING,
        json={"repositories": [repo(f"r{i}") for i in range(20)], "next_page_token": "p2"},
    )
    httpx_mock.add_response(
        url=f"{LISTING}&page_token=p2",
        json={"repositories": [repo(f"r{i}") for i in range(20, 40)], "next_page_token": "p3"},
    )
    slugs = [f"acme/r{i}" for i in range(0, 40, 2)]
    handed = run_locate(slugs)
    assert all(isinstance(a, RepoInfo) for a in handed.values())
    assert len(httpx_mock.get_requests()) == 2  # page p3 is never asked for


def test_an_org_already_listed_costs_nothing(httpx_mock):
    listed = {"acme": [RepoInfo(repo_id="id-a", slug="acme/a")]}
    handed = run_locate(["acme/a", "acme/b"], listed=listed)
    assert handed == {0: RepoInfo(repo_id="id-a", slug="acme/a"), 1: "acme/b"}
    assert httpx_mock.get_requests() == []
