"""Finding our pull request comment pages with the same bounds as the org listing: a hostile
or broken server cannot keep the run paging, nor grow it without end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from secretsync.errors import ApiError
from secretsync.sourcecraft.client import MAX_IDLE_PAGES, MAX_PAGE_TOKEN_CHARS
from secretsync.sourcecraft.comments import (
    MAX_PAGES,
    PAGE_SIZE,
    PullRequestRef,
    find_own_comment,
)

REF = PullRequestRef(org="acme", repo="infra", pull="42")
MARKER = "<!-- secretsync -->"


def comment(n: int, *, ours: bool = False) -> dict[str, Any]:
    body = f"{MARKER}\nplan" if ours else f"comment {n}"
    return {"id": str(n), "body": body, "author": {"id": "me" if ours else "someone"}}


class Pages:
    """A client whose listing answers with `page(number)` for each page asked."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.asked = 0

    async def request_json(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict]:
        self.asked += 1
        return 200, self.page(self.asked)


def find(client: Pages) -> str | None:
    return asyncio.run(find_own_comment(client, REF, marker=MARKER, user_id="me"))  # type: ignore[arg-type]


def test_pages_that_list_only_known_comments_stop_after_a_few():
    # Fresh tokens every time, but always the same comments: no progress.
    client = Pages(lambda n: {"pull_request_comments": [comment(1)], "next_page_token": f"t{n}"})
    with pytest.raises(ApiError, match="listed no new comment"):
        find(client)
    assert client.asked == MAX_IDLE_PAGES + 1


def test_empty_pages_with_fresh_tokens_stop_too():
    client = Pages(lambda n: {"pull_request_comments": [], "next_page_token": f"t{n}"})
    with pytest.raises(ApiError, match="listed no new comment"):
        find(client)
    assert client.asked == MAX_IDLE_PAGES


def test_a_page_larger_than_asked_is_malformed():
    client = Pages(lambda n: {"pull_request_comments": [comment(i) for i in range(PAGE_SIZE + 1)]})
    with pytest.raises(ApiError, match="holds 101 comments"):
        find(client)


def test_a_huge_page_token_is_malformed():
    client = Pages(
        lambda n: {
            "pull_request_comments": [comment(n)],
            "next_page_token": "x" * (MAX_PAGE_TOKEN_CHARS + 1),
        }
    )
    with pytest.raises(ApiError, match="implausibly long"):
        find(client)
    assert client.asked == 1


def test_progress_keeps_paging_and_finds_ours_on_a_late_page():
    def page(n: int) -> dict[str, Any]:
        if n == 40:
            return {"pull_request_comments": [comment(4000, ours=True)]}
        return {
            "pull_request_comments": [comment(n * 100 + i) for i in range(PAGE_SIZE)],
            "next_page_token": f"t{n}",
        }

    client = Pages(page)
    assert find(client) == "4000"
    assert client.asked == 40


def test_a_few_idle_pages_between_real_ones_are_tolerated():
    def page(n: int) -> dict[str, Any]:
        if n == 2 * MAX_IDLE_PAGES:
            return {"pull_request_comments": [comment(999, ours=True)]}
        fresh = [] if n % MAX_IDLE_PAGES else [comment(n)]
        return {"pull_request_comments": fresh, "next_page_token": f"t{n}"}

    assert find(Pages(page)) == "999"


def test_the_page_bound_still_holds():
    client = Pages(lambda n: {"pull_request_comments": [comment(n)], "next_page_token": f"t{n}"})
    with pytest.raises(ApiError, match=f"more than {MAX_PAGES} pages"):
        find(client)
    assert client.asked == MAX_PAGES
