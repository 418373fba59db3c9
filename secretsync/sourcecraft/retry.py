"""When to try a request again, how long to wait, and how a final failure reads.

Every SourceCraft call secretsync makes (GET, PUT of a whole value, DELETE) is idempotent,
so every method is retried on 429, 5xx gateway/overload answers and dropped connections:
bounded attempts, exponential backoff with full jitter, an overall deadline per request.

Each attempt is one `exchange` (http/client.py): connect, send, wait and read under one total
deadline, the smaller of `request_timeout_s` and what is left of `deadline_s`, so the overall
deadline holds while a request is in flight, not only between attempts. Some failures are
never retried: a certificate that cannot be verified (asking again cannot fix it), and an
answer refused for its size or encoding (asking again would cost the same).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from secretsync.errors import ApiError, AuthError, TransportError
from secretsync.http.client import exchange
from secretsync.http.limits import AnswerRefused, AnswerTimeout
from secretsync.http.tls import trust_source
from secretsync.names import one_line
from secretsync.sourcecraft.prepared import RequestMaker
from secretsync.sourcecraft.throttle import AdaptiveLimiter

logger = logging.getLogger("secretsync.sourcecraft.client")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and for how long one request is retried."""

    max_attempts: int = 6  # per request
    base_delay_s: float = 0.25  # exponential backoff with full jitter, capped
    max_delay_s: float = 10.0
    deadline_s: float = 120.0  # overall per-request deadline across attempts, waits included
    request_timeout_s: float = 30.0  # total for one attempt: connect, send, wait, read


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_MESSAGE_CHARS = 500  # a server message is shown verbatim, but never a whole page of it


def retryable(exc: httpx.HTTPError) -> bool:
    """Failures where the request may not have reached the server, or its answer was lost."""
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


def backoff_s(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**(attempt-1)))."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
    return float(rng.random() * ceiling)


def retry_after_s(response: httpx.Response, *, wall_clock: float) -> float | None:
    """Seconds asked for by `Retry-After`: delta-seconds or an HTTP-date, None when absent.

    An HTTP-date is measured against the response's own `Date` header when present, so a
    skewed local clock does not stretch or cancel the wait.
    """
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():  # str.isdigit() is True for '²' too: float() refuses it
        return float(raw)
    try:
        when = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    now = wall_clock
    date = response.headers.get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            now = parsedate_to_datetime(date).timestamp()
    return max(0.0, when - now)


def _short(text: object) -> str:
    value = str(text)
    if len(value) > MAX_MESSAGE_CHARS:
        return value[: MAX_MESSAGE_CHARS - 3] + "..."
    return value


def api_error(
    method: str,
    path: str,
    response: httpx.Response,
    *,
    token_env: str,
    hint: str | None = None,
) -> ApiError:
    """The error for a final non-2xx answer, from the documented error body when readable."""
    error_code = ""
    message = response.reason_phrase or "error"
    request_id = response.headers.get("x-request-id", "")
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:  # includes UnicodeDecodeError
        body = None
    if isinstance(body, dict):
        error_code = _short(body.get("error_code") or "")
        message = _short(body.get("message") or message)
        request_id = _short(body.get("request_id") or request_id)
        details = body.get("details")
        if isinstance(details, dict) and details:
            pairs = "; ".join(f"{k}: {v}" for k, v in details.items())
            message = _short(f"{message} ({pairs})")
    status = response.status_code
    error_class = ApiError
    if status in (401, 403):
        error_class = AuthError
        hint = f"check that ${token_env} holds a valid token with access to this repository"
    return error_class(
        method=method,
        path=path,
        status=status,
        error_code=error_code,
        message=message,
        request_id=request_id,
        hint=hint,
    )


def transport_error(method: str, path: str, exc: httpx.HTTPError, attempts: int) -> TransportError:
    if isinstance(exc, AnswerRefused):
        return TransportError(
            f"{method} {path}: SourceCraft's answer was refused: {exc}", reached=True
        )
    # Only the class name, or our own words: httpx messages can quote the request, and the
    # request is not ours to print.
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    why = str(exc) if isinstance(exc, AnswerTimeout) else type(exc).__name__
    return TransportError(
        f"{method} {path}: no answer from SourceCraft after {tries} ({why})",
        hint="check the API URL, the network and any proxy settings",
    )


def certificate_error(method: str, url: httpx.URL, exc: BaseException) -> TransportError | None:
    """The one-line error for a TLS certificate that could not be verified, None for any other
    failure. Not retried: asking again cannot change the certificate."""
    cause = _certificate_cause(exc)
    if cause is None:
        return None
    reason = one_line(str(cause.verify_message or cause.reason or "not trusted")).rstrip(".")
    host = url.netloc.decode("ascii", errors="replace")
    return TransportError(
        f"{method} {url.path}: certificate problem: the TLS certificate of {host} cannot be "
        f"verified ({reason}); trusted now: {trust_source()}; to trust a private CA, set "
        "SSL_CERT_FILE to a PEM file holding its certificate",
        reached=True,
    )


def _certificate_cause(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure `exc` was raised from, if any (httpx wraps httpcore's error,
    which wraps the ssl module's; the lean transport wraps the ssl module's directly)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def malformed(method: str, path: str, status: int, what: str) -> ApiError:
    """A 2xx answer we cannot read; `what` describes the shape, never the content."""
    return ApiError(
        method=method,
        path=path,
        status=status,
        error_code="MalformedResponse",
        message=what,
        hint="the API answered in an unexpected format; check the API URL points at SourceCraft",
    )


class RetryingSender:
    """Sends one logical request: throttled by the shared limiter, retried, mapped to errors.

    Holds the request headers (the bearer token among them) and never shows them.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        headers: Mapping[bytes, bytes],
        token_env: str,
        policy: RetryPolicy,
        limiter: AdaptiveLimiter,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
    ) -> None:
        self._http = http
        self._make = RequestMaker(http, headers=headers, timeout_s=policy.request_timeout_s)
        self._token_env = token_env
        self._policy = policy
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self.requests = 0
        self.retries = 0
        self.throttled = 0

    def __repr__(self) -> str:
        return f"RetryingSender(token_env={self._token_env!r})"

    async def send(
        self,
        method: str,
        url: httpx.URL,
        *,
        body: Mapping[str, object] | None = None,
        accept_404: bool = False,
        hint_404: str | None = None,
    ) -> httpx.Response:
        """Return the 2xx answer (or a 404 when `accept_404`); raise ApiError/TransportError."""
        policy = self._policy
        path = url.raw_path.decode("ascii").partition("?")[0]
        # Built before taking a slot, and once for all attempts: time spent holding a slot
        # without a request on the wire is time the server's in-flight allowance sits idle.
        request = self._make(method, url, body)
        deadline: float | None = None
        started: float | None = None
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            failure: httpx.HTTPError | None = None
            wait: float | None = None
            epoch = await self._limiter.take()
            try:
                sent_at = self._clock()
                if started is None:
                    started = sent_at  # queueing for the first slot is not the request's fault
                    deadline = started + policy.deadline_s
                assert deadline is not None
                budget = max(0.0, min(policy.request_timeout_s, deadline - sent_at))
                self.requests += 1
                try:
                    response = await exchange(self._http, request, timeout_s=budget)
                except httpx.HTTPError as exc:
                    certificate = certificate_error(method, url, exc)
                    if certificate is not None:
                        raise certificate from exc
                    if not retryable(exc):
                        raise transport_error(method, path, exc, attempt) from exc
                    failure = exc
                status = response.status_code if response is not None else type(failure).__name__
                elapsed_ms = (self._clock() - sent_at) * 1000
                logger.debug(
                    "%s %s -> %s (attempt %d, %.0f ms)", method, path, status, attempt, elapsed_ms
                )
                if response is not None and response.status_code == 429:
                    self.throttled += 1
                    wait = retry_after_s(response, wall_clock=time.time())
                    # A wait past this request's deadline fails it at once (below); the
                    # shared pause is capped so one absurd answer cannot stall the run.
                    pause = None if wait is None else min(wait, policy.deadline_s)
                    self._limiter.throttled(epoch, pause)
                elif response is not None and response.status_code < 500:
                    self._limiter.succeeded()
            finally:
                self._limiter.give_back()
            if response is not None:
                code = response.status_code
                if 200 <= code < 300 or (code == 404 and accept_404):
                    return response
                if code not in RETRY_STATUSES:
                    hint = hint_404 if code == 404 else None
                    raise api_error(method, path, response, token_env=self._token_env, hint=hint)
            if wait is None:
                wait = backoff_s(policy, attempt, self._rng)
            out_of_time = self._clock() + wait >= deadline
            if attempt >= policy.max_attempts or out_of_time:
                if response is not None:
                    raise api_error(
                        method,
                        path,
                        response,
                        token_env=self._token_env,
                        hint=f"still failing after {attempt} attempts over "
                        f"{self._clock() - started:.0f} s",
                    )
                assert failure is not None
                raise transport_error(method, path, failure, attempt) from failure
            self.retries += 1
            logger.info(
                "%s %s -> %s; retrying in %.1f s (attempt %d of %d)",
                method,
                path,
                response.status_code if response is not None else type(failure).__name__,
                wait,
                attempt + 1,
                policy.max_attempts,
            )
            await self._sleep(wait)
