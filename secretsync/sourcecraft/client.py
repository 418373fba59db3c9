"""The SourceCraft client: request shapes over retries and rate limiting (answers.py reads
the answers).

Policy only; the I/O is the injected `httpx.AsyncClient` (one pool for the whole run). Every
request goes through one `RetryingSender` (retry.py) and so through one `AdaptiveLimiter`
(throttle.py): a 429 slows the whole run down. Values travel in JSON bodies only, never in a
URL, and nothing here logs a body or a header.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlencode, urlsplit

import httpx

from secretsync.defaults import DEFAULT_PARALLELISM
from secretsync.errors import ConfigError
from secretsync.http import client as http_client
from secretsync.http.tls import TrustStoreError
from secretsync.http.urlpath import UnsafeTarget, UrlMaker
from secretsync.models import OperationInfo, RepoInfo, Secret
from secretsync.sourcecraft import paths
from secretsync.sourcecraft.answers import (
    json_body,
    json_object,
    listing,
    operation,
    repository,
    write_answer,
)
from secretsync.sourcecraft.endpoint import DEFAULT_TOKEN_ENV, is_header_safe, origin
from secretsync.sourcecraft.retry import RetryingSender, RetryPolicy, malformed
from secretsync.sourcecraft.throttle import AdaptiveLimiter

__all__ = [
    "MAX_IDLE_PAGES",
    "MAX_PAGE_TOKEN_CHARS",
    "ORG_PAGE_SIZE",
    "ClientStats",
    "RetryPolicy",
    "SourceCraftClient",
    "build_http_client",
]

logger = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy()
HINT_REPO_404 = "check the repository slug/id and that the token can see it"
# The largest page the emulator accepts (it answers 400 beyond). The API's own maximum is not
# documented; a server that caps lower still pages correctly, with more pages.
ORG_PAGE_SIZE = 100
# Paging bounds for an org's repositories. 1,000 pages of 100 is 100,000 repositories, far
# past any org secretsync serves; a few pages in a row with nothing new means no progress.
MAX_PAGES = 1000
MAX_IDLE_PAGES = 3
MAX_PAGE_TOKEN_CHARS = 4096  # tokens are kept to spot a repeat: each must stay small
MAX_KNOWN_ORIGINS = 16  # status_url origins remembered (see _is_api_origin)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientStats:
    """What one client's requests came to: sent, retried, throttled, and concurrency."""

    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    throttled: int = 0  # 429 answers received
    peak_in_flight: int = 0
    limit: int = 0  # the adaptive concurrency limit now


class SourceCraftClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: Secret,
        token_env: str = DEFAULT_TOKEN_ENV,
        parallelism: int = DEFAULT_PARALLELISM,
        retry: RetryPolicy = DEFAULT_RETRY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if parallelism < 1:
            raise ConfigError(f"parallelism must be at least 1, not {parallelism}")
        raw = token.reveal()
        if not is_header_safe(raw):
            raise ConfigError(
                f"the token in ${token_env} is empty or holds characters "
                "an HTTP header cannot carry"
            )
        try:
            self._base = httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise ConfigError(f"API URL {base_url!r} is not a valid URL") from exc
        if self._base.scheme not in ("http", "https") or not self._base.host:
            raise ConfigError(f"API URL {base_url!r} is not an http(s) URL")
        self._prefix = self._base.raw_path.decode("ascii").partition("?")[0].rstrip("/")
        self._make_url = UrlMaker(self._base.copy_with(raw_path=b"/"))
        self._origin = origin(base_url)
        # (scheme, netloc) of a status_url -> whether it is the API's origin: every operation
        # of a run names the same one or two, and origin() parses the whole URL again.
        self._origins: dict[tuple[str, str], bool] = {}
        self._token_env = token_env
        self._limiter = AdaptiveLimiter(parallelism=parallelism, clock=clock, sleep=sleep)
        self._sender = RetryingSender(
            http,
            headers={b"Authorization": b"Bearer " + raw, b"Accept": b"application/json"},
            token_env=token_env,
            policy=retry,
            limiter=self._limiter,
            clock=clock,
            sleep=sleep,
            rng=rng or random.Random(),
        )
        # For requests that are not idempotent (creating a comment): one attempt; the caller
        # looks for what a lost answer may have created before it tries again.
        self._once = RetryingSender(
            http,
            headers={b"Authorization": b"Bearer " + raw, b"Accept": b"application/json"},
            token_env=token_env,
            policy=dataclasses.replace(retry, max_attempts=1),
            limiter=self._limiter,
            clock=clock,
            sleep=sleep,
            rng=rng or random.Random(),
        )

    def __repr__(self) -> str:
        return f"SourceCraftClient(base_url={str(self._base)!r}, token_env={self._token_env!r})"

    @property
    def stats(self) -> ClientStats:
        return ClientStats(
            requests=self._sender.requests,
            retries=self._sender.retries,
            throttled=self._sender.throttled,
            peak_in_flight=self._limiter.peak_in_flight,
            limit=self._limiter.limit,
        )

    # ------------------------------------------------------------------------ endpoints

    async def get_user(self) -> dict[str, object]:
        """The token's own profile (`UserProfile`): who a pull request comment is by."""
        path = "/user"
        response = await self._send("GET", path)
        return json_object(json_body(response, "GET", path), "GET", path, response.status_code)

    async def get_repo(self, slug: str) -> RepoInfo:
        org, sep, repo = slug.partition("/")
        if not (org and sep and repo) or "/" in repo:
            raise ConfigError(f"repository {slug!r} is not written as org/repo")
        path = paths.repo(org, repo)
        response = await self._send("GET", path, hint_404=HINT_REPO_404)
        return repository(json_body(response, "GET", path), "GET", path, response.status_code)

    async def get_repo_by_id(self, repo_id: str) -> RepoInfo:
        path = paths.repo_by_id(repo_id)
        response = await self._send("GET", path, hint_404=HINT_REPO_404)
        return repository(json_body(response, "GET", path), "GET", path, response.status_code)

    async def list_org_repos(self, org: str, *, page_size: int = ORG_PAGE_SIZE) -> list[RepoInfo]:
        return [
            info async for page in self.org_repo_pages(org, page_size=page_size) for info in page
        ]

    async def org_repo_pages(
        self, org: str, *, page_size: int = ORG_PAGE_SIZE
    ) -> AsyncGenerator[list[RepoInfo], None]:
        """The org's repositories one page at a time, so a caller that has found what it looks
        for can stop paging (each page is one request). A repository listed again on a later
        page is left out. A server that never stops paging (the same token again, pages that
        add nothing, more pages than any org needs) is an error, never an endless loop: see
        the bounds above the class."""
        path = paths.org_repos(org)
        known: set[str] = set()  # repository ids already yielded
        seen: set[str] = set()
        token = ""
        idle_pages = 0
        status = 200
        for _page in range(MAX_PAGES):
            params = {"page_size": str(page_size)}
            if token:
                params["page_token"] = token
            response = await self._send("GET", path, params=params)
            status = response.status_code
            body = json_object(json_body(response, "GET", path), "GET", path, status)
            items = body.get("repositories") or []
            if not isinstance(items, list):
                raise malformed("GET", path, status, "`repositories` is not a list")
            if len(items) > page_size:
                raise malformed(
                    "GET",
                    path,
                    status,
                    f"a page holds {len(items)} repositories, asked {page_size}",
                )
            page = []
            for item in items:
                info = repository(item, "GET", path, status)
                if info.repo_id not in known:
                    known.add(info.repo_id)
                    page.append(info)
            token = body.get("next_page_token") or ""
            if not isinstance(token, str):
                raise malformed("GET", path, status, "`next_page_token` is not a string")
            yield page
            if not token:
                return
            if len(token) > MAX_PAGE_TOKEN_CHARS:
                raise malformed("GET", path, status, "`next_page_token` is implausibly long")
            if token in seen:  # a server bug must not become an endless loop
                raise malformed("GET", path, status, "the same page token came back twice")
            seen.add(token)
            idle_pages = 0 if page else idle_pages + 1
            if idle_pages >= MAX_IDLE_PAGES:
                raise malformed(
                    "GET",
                    path,
                    status,
                    f"{idle_pages} pages in a row listed no new repository but offered another "
                    "page; stopped paging",
                )
        raise malformed(
            "GET", path, status, f"the listing did not end within {MAX_PAGES} pages; stopped paging"
        )

    async def list_secrets(self, repo_id: str, group: str) -> dict[str, Secret | None]:
        path = paths.secrets(repo_id)
        response = await self._send("GET", path, params={"secret_group": group})
        return listing(response, "GET", path)

    async def put_secret(self, repo_id: str, group: str, key: str, value: Secret) -> OperationInfo:
        path = paths.secret(repo_id, key)
        body = {"value": base64.b64encode(value.reveal()).decode("ascii")}
        response = await self._send("PUT", path, params={"secret_group": group}, body=body)
        return write_answer(response, "PUT", path)

    async def delete_secret(self, repo_id: str, group: str, key: str) -> OperationInfo | None:
        path = paths.secret(repo_id, key)
        response = await self._send("DELETE", path, params={"secret_group": group}, accept_404=True)
        if response.status_code == 404:
            return None  # already absent: the goal of a delete
        return write_answer(response, "DELETE", path)

    async def get_operation(self, op: OperationInfo) -> OperationInfo:
        url = self._status_url(op)
        path = url.raw_path.decode("ascii").partition("?")[0]
        response = await self._send("GET", path, url=url)
        latest = operation(json_body(response, "GET", path), "GET", path, response.status_code)
        if latest.status_url is None and op.status_url is not None:
            latest = OperationInfo(
                operation_id=latest.operation_id,
                status=latest.status,
                status_url=op.status_url,
                error_code=latest.error_code,
                error_message=latest.error_message,
            )
        return latest

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
        once: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON object) of a 2xx answer, for the calls without a record of their own
        (pull request comments); `path` comes from paths.py."""
        sender = self._once if once else self._sender
        response = await sender.send(method, self._url(path, params), body=body)
        if not response.content:
            return response.status_code, {}
        data = json_body(response, method, path)
        return response.status_code, json_object(data, method, path, response.status_code)

    # ------------------------------------------------------------------------ plumbing

    async def _send(
        self,
        method: str,
        path: str,
        *,
        url: httpx.URL | None = None,
        params: Mapping[str, str] | None = None,
        body: dict[str, str] | None = None,
        accept_404: bool = False,
        hint_404: str | None = None,
    ) -> httpx.Response:
        return await self._sender.send(
            method,
            url or self._url(path, params),
            body=body,
            accept_404=accept_404,
            hint_404=hint_404,
        )

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> httpx.URL:
        # The whole URL, query included, is made once here (see urlpath.py): httpx re-parses a
        # URL for every copy and every params merge, and at hundreds of requests a second
        # that shows. `path` comes from paths.py, so the target is strict and UrlMaker takes it
        # as is; UnsafeTarget here would be a bug, and it refuses rather than normalises.
        query = _query(tuple(params.items())) if params else ""
        return self._make_url(self._prefix + path + query)

    def _status_url(self, op: OperationInfo) -> httpx.URL:
        """Where to poll `op`: its `status_url` when that is a strict target on the API's own
        origin, else the documented path built from its id."""
        if op.status_url:
            target = self._same_origin_target(op.status_url)
            if target is not None:
                try:
                    return self._make_url(target)
                except UnsafeTarget:
                    pass
            # The token goes only where the user pointed us, and only to a plain path.
            logger.debug("status_url is not a plain path on the API's host; using the id")
        return self._url(paths.operation(op.operation_id))

    def _is_api_origin(self, status_url: str, parts: SplitResult) -> bool:
        # origin() reads only the scheme and the netloc, so its answer for one pair holds for
        # every URL with that pair. A server naming ever new hosts gets no bigger cache.
        key = (parts.scheme, parts.netloc)
        same = self._origins.get(key)
        if same is None:
            same = origin(status_url) == self._origin
            if len(self._origins) < MAX_KNOWN_ORIGINS:
                self._origins[key] = same
        return same

    def _same_origin_target(self, status_url: str) -> str | None:
        """Path and query of a same-origin `status_url` (absolute, root-relative, or relative
        to the API URL), parsed cheaply; None for another origin or anything odd."""
        try:
            parts = urlsplit(status_url)  # a bracketed host that is no IPv6 address raises
        except ValueError:
            return None
        if parts.fragment or not parts.path:
            return None
        if (parts.scheme or parts.netloc) and not self._is_api_origin(status_url, parts):
            return None
        path = parts.path if parts.path.startswith("/") else f"{self._prefix}/{parts.path}"
        return path + (f"?{parts.query}" if parts.query else "")


@functools.lru_cache(maxsize=256)
def _query(params: tuple[tuple[str, str], ...]) -> str:
    # A run asks for the same few queries (a group name each) thousands of times: encoded
    # once each (urlencode is ~7 us a call). Page tokens differ, so the cache is bounded.
    return f"?{urlencode(params, quote_via=quote)}"


def build_http_client(*, parallelism: int, timeout_s: float = 30.0) -> httpx.AsyncClient:
    """The run's HTTP client (http/client.py), with a trust-store problem as a ConfigError."""
    try:
        return http_client.build_http_client(parallelism=parallelism, timeout_s=timeout_s)
    except TrustStoreError as exc:
        raise ConfigError(
            str(exc), hint="point SSL_CERT_FILE at a PEM file of CA certificates, or unset it"
        ) from exc
