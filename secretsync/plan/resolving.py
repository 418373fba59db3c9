"""Repository slugs to ids with the fewest requests.

A single lookup (`GET /repos/{org}/{repo}`) costs one request per repository; one page of the
org's listing (`GET /orgs/{org}/repos`, ORG_PAGE_SIZE a page) can resolve a hundred. When the
manifest names at least LIST_THRESHOLD repositories of one org, that org's listing is paged
until every named repository is found, and paging stops early when the pages stop paying for
themselves (fewer than MIN_YIELD named repositories found per page on average, as in a large
org of which the manifest names a few). Whatever the listing did not find is looked up singly,
so the outcome is exactly that of single lookups: a repository missing from the listing (a
token that may not list the org, a renamed repository, a slug spelled in another case) is
still found, or still fails with the single lookup's own error.

Ids are handed over as they arrive, page by page, so reading the first repositories' secrets
starts while later pages are in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing

from secretsync.errors import ApiError
from secretsync.models import RepoInfo
from secretsync.sourcecraft.client import ORG_PAGE_SIZE, SourceCraftClient
from secretsync.tasks import gather_all

logger = logging.getLogger(__name__)

# Fewest names of one org worth a listing. Measured with benchmarks/resolve_threshold.py (20 ms
# latency, 16 in flight, 2026-11-29): when the named repositories are on the first page, the
# listing resolves N of them in one round trip (21-24 ms for N = 1..16) and one request, where
# single lookups take 21-44 ms and N requests; when none are (a large org), it costs one
# request and one round trip (22-32 ms) more, once per org. From 4 names a hit saves at least
# three times the requests a miss costs.
LIST_THRESHOLD = 4
# A page must find this many named repositories on average for paging to go on: it bounds the
# requests at those of single lookups + 1, and the serial chain of pages at N / 10 + 1.
MIN_YIELD = 10

Found = Callable[[int, RepoInfo | str], None]  # (position, its id, or the slug to look up)


async def locate(
    client: SourceCraftClient,
    slugs: Sequence[str],
    found: Found,
    *,
    listed: Mapping[str, Sequence[RepoInfo]] | None = None,
) -> None:
    """Hand every slug's position to `found` once: with its RepoInfo when a listing has it,
    else with the slug itself (look it up singly). `listed`: orgs already listed whole."""
    by_org: dict[str, list[int]] = {}
    for position, slug in enumerate(slugs):
        by_org.setdefault(slug.partition("/")[0], []).append(position)
    pagers = []
    for org, positions in by_org.items():
        if listed is not None and org in listed:
            _hand_over(slugs, positions, listed[org], found)
        elif len(positions) >= LIST_THRESHOLD and "/" in slugs[positions[0]]:
            pagers.append(_page_org(client, org, slugs, positions, found))
        else:
            for position in positions:
                found(position, slugs[position])
    await gather_all(pagers)


def _hand_over(
    slugs: Sequence[str], positions: Sequence[int], repos: Sequence[RepoInfo], found: Found
) -> None:
    index = {info.slug: info for info in repos}
    for position in positions:
        info = index.get(slugs[position])
        found(position, info if info is not None else slugs[position])


async def _page_org(
    client: SourceCraftClient, org: str, slugs: Sequence[str], positions: list[int], found: Found
) -> None:
    waiting: dict[str, list[int]] = {}  # one slug may be named twice (refused later, by id)
    for position in positions:
        waiting.setdefault(slugs[position], []).append(position)
    named, pages = len(positions), 0
    try:
        async with aclosing(client.org_repo_pages(org, page_size=ORG_PAGE_SIZE)) as listing:
            async for page in listing:
                pages += 1
                for info in page:
                    for position in waiting.pop(info.slug or "", ()):
                        found(position, info)
                resolved = named - sum(len(p) for p in waiting.values())
                if not waiting or resolved < MIN_YIELD * pages:
                    break
    except ApiError as err:
        # A token limited to selected repositories may not list the org: single lookups
        # still work for it (and fail with their own error when they should).
        logger.debug("listing org %s failed (%s); looking its repositories up one by one", org, err)
    if waiting:
        logger.debug(
            "%d of %d named repositories of %s looked up one by one", len(waiting), named, org
        )
    for slug, rest in waiting.items():
        for position in rest:
            found(position, slug)
