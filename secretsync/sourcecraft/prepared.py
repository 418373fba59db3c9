"""Requests built from headers prepared once per origin (the prepared headers). A fenced fast
path:

- Replaces `httpx.AsyncClient.build_request` for the client's own requests. httpx merges the
  client's default headers with the request's (a case-insensitive merge, building `Headers`
  three times), merges cookies and query parameters, copies the URL twice and adds `Host`
  for every request, although for one origin and one client all of that comes out the same
  every time. `RequestMaker` lets httpx build the first request to an origin, keeps its
  headers, and builds the next ones with `httpx.Request(..., stream=...)`, which copies the
  kept headers and adds nothing; a JSON body is encoded as httpx encodes it and gets the two
  framing headers httpx would append. Whenever httpx's merge could come out
  differently (the client has cookies or query parameters, its headers changed, a relative
  URL, a body-carrying method without a body) httpx's `build_request` runs.
- Gains 55-72 us of CPU per request, a tenth of what the client spends on one without it
  (2-core shared machine, two runs of 1,000 listings, medians of 7: 647 -> 592 us, then
  594 -> 521 us with the other changes of that day; timeit alone: build_request 30 us, this
  3.6 us). Reproduce: `.venv/bin/python benchmarks/fast_paths.py --only http`, the row
  "prepared headers off".
- Pinned to httpx's behaviour by tests/sourcecraft/test_prepared.py: method, URL, headers in
  order, body and extensions equal `build_request`'s for GET, DELETE and JSON bodies, on every
  request and not only the first; cookies, client params, changed client headers and relative
  URLs take httpx's path. The maker also checks itself on the first request to each origin,
  with a body and without (both ways, compared): if they ever differ (httpx changed), that
  kind of request takes httpx's path only.
- Delete it when `build_request` costs within a few microseconds of `httpx.Request` (re-measure
  after an httpx upgrade), or when the client needs per-request headers or cookies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

__all__ = ["RequestMaker"]

# httpx adds `Content-Length: 0` to these when they carry no body (Request._prepare).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_EMPTY = httpx.ByteStream(b"")  # what httpx gives a request without a body; never written to


class RequestMaker:
    """Builds the requests of one sender: `headers` on top of the client's, one timeout."""

    def __init__(
        self, http: httpx.AsyncClient, *, headers: Mapping[bytes, bytes], timeout_s: float
    ) -> None:
        self._http = http
        self._headers = headers
        self._timeout_s = timeout_s
        # Request copies this dict; the timeouts inside are only ever read.
        self._extensions = {"timeout": httpx.Timeout(timeout_s).as_dict()}
        self._client_headers: list[tuple[bytes, bytes]] = []
        # (netloc, with a body) -> the headers of a body-less request there (Host first), each
        # kind checked on its first request; None: httpx's path
        self._prepared: dict[tuple[bytes, bool], httpx.Headers | None] = {}

    def __repr__(self) -> str:
        return "RequestMaker()"  # the headers hold the token

    def __call__(self, method: str, url: httpx.URL, body: object | None = None) -> httpx.Request:
        http = self._http
        if (
            http.cookies  # a Cookie header depends on the URL
            or http.params
            or not url.is_absolute_url
            or (body is None and method in _BODY_METHODS)
        ):
            return self._library(method, url, body)
        client_headers = http.headers.raw
        if client_headers != self._client_headers:
            self._prepared.clear()  # made from the client's old headers
            self._client_headers = client_headers
        kind = (url.netloc, body is not None)
        if kind not in self._prepared:
            return self._learn(method, url, body, kind)
        prepared = self._prepared[kind]
        if prepared is None:
            return self._library(method, url, body)
        return self._fast(method, url, body, prepared)

    def _library(self, method: str, url: httpx.URL, body: object | None) -> httpx.Request:
        return self._http.build_request(
            method, url, json=body, headers=self._headers, timeout=self._timeout_s
        )

    def _fast(
        self, method: str, url: httpx.URL, body: object | None, prepared: httpx.Headers
    ) -> httpx.Request:
        if body is None:
            request = httpx.Request(
                method, url, headers=prepared, stream=_EMPTY, extensions=self._extensions
            )
        else:
            # httpx's JSON encoding (httpx/_content.py encode_json), and the framing headers it
            # appends after the merged ones in build_request; Host is already first.
            content = json.dumps(
                body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            request = httpx.Request(
                method,
                url,
                headers=prepared,
                stream=httpx.ByteStream(content),
                extensions=self._extensions,
            )
            request.headers.setdefault("Content-Length", str(len(content)))
            request.headers.setdefault("Content-Type", "application/json")
        request.read()  # `content` is set, as build_request leaves it
        return request

    def _learn(
        self, method: str, url: httpx.URL, body: object | None, kind: tuple[bytes, bool]
    ) -> httpx.Request:
        """httpx's request, and the prepared headers for this origin and kind of request when
        building it our way gives the very same request (else None: httpx's path from now
        on)."""
        request = self._library(method, url, body)
        prepared: httpx.Headers | None = None
        try:
            candidate = self._library("GET", url, None).headers
            if _same(self._fast(method, url, body, candidate), request):
                prepared = candidate
        except Exception:  # httpx's internals changed shape: its own path only
            prepared = None
        self._prepared[kind] = prepared
        return request


def _same(a: httpx.Request, b: httpx.Request) -> bool:
    return (a.method, str(a.url), a.headers.raw, a.content, a.extensions) == (
        b.method,
        str(b.url),
        b.headers.raw,
        b.content,
        b.extensions,
    )
