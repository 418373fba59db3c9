"""`httpx.URL`s for API paths without re-parsing the whole URL each time.

Every `httpx.URL` is born from a full parse and validation of every component, host included
(an IP address is parsed by `ipaddress` again each time): ~20 us, an eighth of the client's
CPU per request at hundreds of requests a second. The paths secretsync sends are built from
percent-encoded segments and a urlencoded query on one fixed origin, so for them the parse
can only return what went in. `UrlMaker` keeps the parsed origin and swaps in path and query.

That swap uses httpx's parsed form (`URL._uri_reference`, a NamedTuple), which is not public
API. So it is used only where it provably agrees with the public way: the maker checks itself
against `copy_with` on a sample when built, and any target outside the plain character set,
or with a dot segment that parsing would collapse, takes the public way.
"""

from __future__ import annotations

import re

import httpx

__all__ = ["UrlMaker"]

# Unreserved characters, percent escapes, and the separators our paths and queries use.
_PLAIN_TARGET = re.compile(r"/[A-Za-z0-9._~%:/-]*(?:\?[A-Za-z0-9._~%=&-]*)?")
_SAMPLE = "/repos/id:0f.e_~-%2F/secrets/A%20B?secret_group=p%2Fq&keys=K_1"


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
        """The base URL with `target` ("/path?query", already percent-encoded) as its path."""
        if self._fast and _PLAIN_TARGET.fullmatch(target) and not _has_dot_segment(target):
            return self._swapped(target)
        return self._base.copy_with(raw_path=target.encode("ascii"))

    def _swapped(self, target: str) -> httpx.URL:
        path, mark, query = target.partition("?")
        url = httpx.URL(self._base)  # a copy that shares the parsed origin: no parse
        url._uri_reference = self._base._uri_reference._replace(
            path=path, query=query if mark else None, fragment=None
        )
        return url


def _has_dot_segment(target: str) -> bool:
    path = target.partition("?")[0]
    return "/." in path and any(seg in (".", "..") for seg in path.split("/"))


def _same(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.raw_path, a.query, str(a), a.host, a.port, a.scheme) == (
        b.raw_path,
        b.query,
        str(b),
        b.host,
        b.port,
        b.scheme,
    )
