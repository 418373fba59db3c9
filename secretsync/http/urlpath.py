"""Request URLs sent exactly as written: a strict target check, and `httpx.URL`s for API
paths without re-parsing the whole URL each time.

A target ("/path?query") is accepted only when httpx would send it unchanged: every path
segment plain (unreserved characters and ':'; no '%', no empty segment) and never `.` or `..`,
which httpx's URL parser collapses (RFC 3986 dot-segment removal), so that a name could
become another path. Anything else raises `UnsafeTarget`; nothing is ever normalised.

Every `httpx.URL` is born from a full parse and validation of every component, host included
(an IP address is parsed by `ipaddress` again each time): ~20 us, an eighth of the client's
CPU per request at hundreds of requests a second. For a checked target on one fixed origin the
parse can only return what went in, so `UrlMaker` keeps the parsed origin and swaps in path
and query. That swap uses httpx's parsed form (`URL._uri_reference`, a NamedTuple), which is
not public API: the maker checks itself against `copy_with` on a sample when built, and uses
the public way if they ever disagree.
"""

from __future__ import annotations

import re

import httpx

__all__ = ["UnsafeTarget", "UrlMaker"]

# A path of plain, non-dot segments, then an optional already-encoded query.
_STRICT_TARGET = re.compile(r"(?:/(?!\.\.?(?:[/?]|$))[A-Za-z0-9._~:-]+)+(?:\?[A-Za-z0-9._~%=&-]*)?")
_SAMPLE = "/repos/id:0f.e_~-9/secrets/A_B?secret_group=p%2Fq&keys=K_1"


class UnsafeTarget(ValueError):
    """A request target that would not reach the server exactly as written."""


class UrlMaker:
    def __init__(self, base: httpx.URL) -> None:
        self._base = base
        self._fast = False
        try:
            self._fast = _same(self._swapped(_SAMPLE), base.copy_with(raw_path=_SAMPLE.encode()))
        except Exception:  # httpx's internals changed shape: use the public way only
            self._fast = False

    @property
    def fast(self) -> bool:
        return self._fast

    def __call__(self, target: str) -> httpx.URL:
        """The base URL with `target` ("/path?query", already percent-encoded) as its path;
        UnsafeTarget unless the target is strict (see the module docstring)."""
        if not _STRICT_TARGET.fullmatch(target):
            raise UnsafeTarget("the request target is not a plain path")
        if self._fast:
            return self._swapped(target)
        url = self._base.copy_with(raw_path=target.encode("ascii"))
        if url.raw_path != target.encode("ascii"):  # pragma: no cover - the check above
            raise UnsafeTarget("the request target would not be sent as written")
        return url

    def _swapped(self, target: str) -> httpx.URL:
        path, mark, query = target.partition("?")
        url = httpx.URL(self._base)  # a copy that shares the parsed origin: no parse
        url._uri_reference = self._base._uri_reference._replace(
            path=path, query=query if mark else None, fragment=None
        )
        return url


def _same(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.raw_path, a.query, str(a), a.host, a.port, a.scheme) == (
        b.raw_path,
        b.query,
        str(b),
        b.host,
        b.port,
        b.scheme,
    )
