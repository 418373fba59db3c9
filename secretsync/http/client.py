"""The run's one `httpx.AsyncClient` (sized, safe defaults, a short path to our transport),
and `exchange`: one request and its whole answer within a total deadline.

Both kinds of client `build_http_client` makes bound every answer the same way (limits.py):
they ask for `Accept-Encoding: identity`, refuse an answer in any other encoding or announcing
more than `MAX_ANSWER_BYTES` before reading its body, and stop reading one that grows past
it. The lean transport does this itself while it reads; over httpx's own transport (used
behind a proxy) a response hook does it before httpx reads the body. So no decoder ever runs
on what a server sends, and one answer never holds more than the cap in memory.

The rest of secretsync sees a plain `httpx.AsyncClient`, so tests inject any client (with
pytest-httpx, or a mock transport) and nothing else changes.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx

from secretsync import __version__
from secretsync.http.connection import within
from secretsync.http.limits import MAX_ANSWER_BYTES, AnswerRefused, AnswerTimeout, refuse_head
from secretsync.http.tls import custom_trust, trust_context
from secretsync.http.transport import LeanAsyncTransport, proxy_configured

__all__ = ["LeanAsyncClient", "build_http_client", "exchange"]


class _NoCookies(httpx.Cookies):
    """The API needs no cookies, so none are kept: no server can plant state in the client,
    and every answer skips the cookie jar (which re-parses the request URL twice)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class LeanAsyncClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` over `LeanAsyncTransport` whose `send` hands a request straight
    to the transport when httpx's own path would not change it. A fenced fast path:

    - Replaces `httpx.AsyncClient.send`, which runs every request through its auth flow,
      redirect loop and event hooks, and wraps the answer's stream for timing. This client is
      built with no auth, no hooks and no redirects to follow, so for a plain send that path
      does nothing. Whenever it might (auth, hooks, redirects, credentials in the URL,
      streaming, a closed client), httpx's own `send` runs.
    - Gains 31 us of CPU per request, 5% of the 630 us the client spends on one (2-core
      shared machine, medians of 11 runs of 1,000 listings). Reproduce: `.venv/bin/python
      benchmarks/fast_paths.py --only http`, the row "send override off".
    - Pinned to httpx's behaviour by tests/http/test_lean_client.py: a plain send skips
      httpx's path and gets the client's headers and timeouts as httpx would give them;
      hooks, auth, streaming and a closed client behave as httpx's.
    - Delete it when httpx's `send` costs within a few microseconds of the transport call
      (re-measure after an httpx upgrade), or when secretsync's client needs auth, hooks or
      redirects.
    """

    def __init__(self, *, transport: LeanAsyncTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self._lean = transport

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if (
            stream
            or auth is not httpx.USE_CLIENT_DEFAULT
            or follow_redirects not in (httpx.USE_CLIENT_DEFAULT, False)
            or self.auth is not None
            or self.follow_redirects
            or self.is_closed
            or request.url.userinfo
            or any(self.event_hooks.values())
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        if "timeout" not in request.extensions:  # what httpx's send would fill in
            request.extensions["timeout"] = self.timeout.as_dict()
        response = await self._lean.handle_async_request(request)
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response


def build_http_client(*, parallelism: int, timeout_s: float = 30.0) -> httpx.AsyncClient:
    """HTTP/1.1 keep-alive, TLS always verified (tls.py), at most `parallelism` connections,
    no redirects followed (one would carry the bearer token elsewhere), no cookies kept, no
    compressed answers. TrustStoreError when SSL_CERT_FILE/SSL_CERT_DIR cannot be loaded."""
    timeout = httpx.Timeout(timeout_s)
    headers = {"User-Agent": f"secretsync/{__version__}", "Accept-Encoding": "identity"}
    # A private CA is loaded now, so that a bad SSL_CERT_FILE fails before any request, as
    # httpx's own transport does; certifi's bundle (~20 ms) waits for the first https request.
    context = trust_context() if custom_trust() else None
    client: httpx.AsyncClient
    if proxy_configured():
        # Our transport speaks to origins directly; httpx's own honours HTTP(S)_PROXY,
        # ALL_PROXY and NO_PROXY. It costs ~1.4 ms of CPU per request instead of ~0.2 ms.
        client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism),
            timeout=timeout,
            headers=headers,
            http1=True,
            http2=False,
            verify=context or trust_context(),
            follow_redirects=False,
            event_hooks={"response": [_bounded_answer]},
        )
    else:
        client = LeanAsyncClient(
            transport=LeanAsyncTransport(max_connections=parallelism, ssl_context=context),
            timeout=timeout,
            headers=headers,
            follow_redirects=False,
        )
    client._cookies = _NoCookies()  # httpx offers no switch for this; tests pin the behaviour
    return client


async def _bounded_answer(response: httpx.Response) -> None:
    """httpx's own transport: refuse the answer on its head, else cap its body as httpx reads
    it (a response hook runs before `send` reads the body)."""
    refuse_head(response.headers.raw, MAX_ANSWER_BYTES, response.request)
    response.stream = _CappedBody(response.stream, response.request, MAX_ANSWER_BYTES)


class _CappedBody(httpx.AsyncByteStream):
    """A body read whole into one buffer, refused once past `max_bytes`. One chunk comes out,
    so httpx's `aread` keeps it as it is: the peak is the body, not the body twice."""

    def __init__(self, inner: Any, request: httpx.Request, max_bytes: int) -> None:
        self._inner = inner
        self._request = request
        self._max_bytes = max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        buffer = io.BytesIO()  # getvalue() hands its buffer over without a copy
        async for chunk in self._inner:
            if buffer.tell() + len(chunk) > self._max_bytes:
                raise AnswerRefused(
                    f"the answer is larger than {self._max_bytes} bytes", request=self._request
                )
            buffer.write(chunk)
        yield buffer.getvalue()

    async def aclose(self) -> None:
        await self._inner.aclose()


async def exchange(
    http: httpx.AsyncClient, request: httpx.Request, *, timeout_s: float
) -> httpx.Response:
    """Send `request` and read its whole answer, all within `timeout_s`: connect, send, wait
    and read together, so a server dripping one byte at a time is cut off (httpx's timeouts
    are per phase and per read). AnswerTimeout (a TimeoutException) past the deadline."""
    try:
        return await within(http.send(request), timeout_s)
    except TimeoutError:
        raise AnswerTimeout(f"no complete answer within {timeout_s:g} s", request=request) from None
