"""The run's one `httpx.AsyncClient` (sized, safe defaults, a short path to our transport),
and `exchange`: one request and its whole answer, bounded in time and size.

The rest of secretsync sees a plain `httpx.AsyncClient`, so tests inject any client (with
pytest-httpx, or a mock transport) and nothing else changes: the bounds live in `exchange`,
which works the same over any client and either transport.
"""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import httpx

from secretsync import __version__
from secretsync.http.connection import within
from secretsync.http.limits import MAX_ANSWER_BYTES, AnswerRefused, AnswerTimeout
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
    to the transport when httpx's own path would not change it.

    httpx's `send` runs every request through its auth flow, redirect loop and event hooks,
    and wraps the answer's stream for timing: ~37 us of CPU per request, a tenth of all the
    client spends on one at hundreds of requests a second. This client is built with no auth,
    no hooks and no redirects to follow, so for a plain send that path does nothing. Whenever
    it might (auth, hooks, redirects, credentials in the URL, a closed client), httpx's own
    `send` runs.
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
            auth is not httpx.USE_CLIENT_DEFAULT
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
        if stream:  # the body is in memory already; the caller reads it
            return response
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


async def exchange(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    timeout_s: float,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> httpx.Response:
    """Send `request` and read its whole answer, all within `timeout_s` (connect, send, wait
    and read together: a server dripping one byte at a time is cut off), keeping at most
    `max_bytes` of body (counted as it arrives: never more in memory, whatever the server
    sends). Only unencoded answers are read: `Accept-Encoding: identity` is asked for, and an
    answer in any other encoding is refused before its body is read, so no decoder ever runs
    on what a server sends (a small gzip answer can inflate a thousandfold).

    Raises AnswerTimeout (a TimeoutException) past the deadline, AnswerRefused for a refused
    answer, and whatever `send` raises.
    """
    request.headers["Accept-Encoding"] = "identity"
    try:
        return await within(_exchange(http, request, max_bytes), timeout_s)
    except TimeoutError:
        raise AnswerTimeout(f"no complete answer within {timeout_s:g} s", request=request) from None


_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,32}")


async def _exchange(
    http: httpx.AsyncClient, request: httpx.Request, max_bytes: int
) -> httpx.Response:
    response = await http.send(request, stream=True)
    try:
        encoding = response.headers.get("content-encoding", "").strip()
        if encoding and encoding.lower() != "identity":
            shown = encoding if _PLAIN_TOKEN.fullmatch(encoding) else "an encoding"
            raise AnswerRefused(
                f"the answer is compressed ({shown}), which was not asked for", request=request
            )
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
            raise AnswerRefused(f"the answer is larger than {max_bytes} bytes", request=request)
        body = await _read_capped(response, request, max_bytes)
    finally:
        await response.aclose()
    loaded = httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        request=request,
        extensions=response.extensions,
    )
    await loaded.aread()  # one chunk, no decoder: hands `body` over without a copy
    return loaded


async def _read_capped(response: httpx.Response, request: httpx.Request, max_bytes: int) -> bytes:
    first: bytes | None = None
    buffer: io.BytesIO | None = None  # getvalue() hands its buffer over without a copy
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise AnswerRefused(f"the answer is larger than {max_bytes} bytes", request=request)
        if first is None:  # the lean transport's whole body: kept as it is
            first = chunk
            continue
        if buffer is None:
            buffer = io.BytesIO()
            buffer.write(first)
        buffer.write(chunk)
    if buffer is not None:
        return buffer.getvalue()
    return first or b""
