"""UrlMaker gives exactly the URL httpx's public `copy_with` gives, only cheaper."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretsync.http.urlpath import UnsafeTarget, UrlMaker

BASES = ["http://127.0.0.1:8080", "https://api.sourcecraft.tech", "http://[::1]:9000"]


def same(a: httpx.URL, b: httpx.URL) -> bool:
    return (str(a), a.raw_path, a.query, a.host, a.port, a.scheme, a.fragment) == (
        str(b),
        b.raw_path,
        b.query,
        b.host,
        b.port,
        b.scheme,
        b.fragment,
    )


@pytest.mark.parametrize("base", BASES)
def test_the_maker_uses_its_fast_way_for_plain_targets(base):
    maker = UrlMaker(httpx.URL(base))
    assert maker.fast
    target = "/repos/id:8c1e/secrets/DB_PASSWORD?secret_group=prod"
    assert same(maker(target), httpx.URL(base).copy_with(raw_path=target.encode()))


PLAIN = st.text(alphabet="abcXYZ019._~:-", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)


@settings(max_examples=300, deadline=None)
@given(
    segments=st.lists(PLAIN, min_size=1, max_size=4),
    query=st.dictionaries(st.text(max_size=6), st.text(max_size=8), max_size=3),
    base=st.sampled_from(BASES),
)
def test_any_path_of_plain_segments_matches_copy_with(segments, query, base):
    target = "/" + "/".join(segments)
    if query:
        target += "?" + urlencode(query, quote_via=quote)
    expected = httpx.URL(base).copy_with(raw_path=target.encode("ascii"))
    assert same(UrlMaker(httpx.URL(base))(target), expected)


@settings(max_examples=500, deadline=None)
@given(target=st.text(alphabet="/.?%#&=:@ab-_~ ", max_size=20))
def test_any_target_is_sent_exactly_as_written_or_refused(target):
    target = "/" + target
    try:
        url = UrlMaker(httpx.URL(BASES[0]))(target)
    except UnsafeTarget:
        return
    raw = url.raw_path.decode()
    assert raw == target
    assert not ({".", "..", ""} & set(raw.partition("?")[0].split("/")[1:]))


@pytest.mark.parametrize(
    "target",
    ["/a/../b", "/a/./b", "/..", "/a/b/..", "/a/..?x=1", "/a//b", "/a/", "/a%2Fb", "/a/%2e%2e"],
)
def test_dot_segments_empty_segments_and_escapes_in_the_path_are_refused(target):
    # httpx would collapse the dot segments: a name must never become another path.
    with pytest.raises(UnsafeTarget):
        UrlMaker(httpx.URL(BASES[0]))(target)


def test_names_that_only_start_with_a_dot_are_plain():
    assert str(UrlMaker(httpx.URL(BASES[0]))("/.github/x")) == "http://127.0.0.1:8080/.github/x"


@pytest.mark.parametrize(
    "swap",
    [
        pytest.param(lambda self, target: self._base._gone, id="attribute-gone"),
        pytest.param(lambda self, target: httpx.URL("http://other.test/x"), id="disagrees"),
    ],
)
def test_the_public_way_is_used_when_httpx_internals_change(monkeypatch, swap):
    monkeypatch.setattr(UrlMaker, "_swapped", swap)
    maker = UrlMaker(httpx.URL("http://127.0.0.1:8080"))
    assert not maker.fast
    assert str(maker("/user?a=1")) == "http://127.0.0.1:8080/user?a=1"
