"""RequestMaker (the prepared headers) makes exactly the request httpx's build_request makes,
and takes httpx's path whenever the merge could come out differently."""

import httpx
import pytest

from secretsync.http.client import build_http_client
from secretsync.sourcecraft import prepared
from secretsync.sourcecraft.prepared import RequestMaker

HEADERS = {b"Authorization": b"Bearer tok-0123456789abcdef", b"Accept": b"application/json"}
ORIGIN = "https://api.example.test"
TARGETS = [
    "/api/v1/repos/id:6f1c/secrets?secret_group=default",
    "/api/v1/repos/id:6f1c/secrets/A_B?secret_group=staging",
    "/api/v1/operations/secrets/id:op-1",
]
REQUESTS = [
    ("GET", TARGETS[0], None),
    ("PUT", TARGETS[1], {"value": "AP8gYmluYXJ5IOKCrA=="}),
    ("DELETE", TARGETS[1], None),
    ("GET", TARGETS[2], None),
    ("PUT", TARGETS[1], {"value": "пароль"}),  # non-ASCII JSON: httpx's own encoding
    ("POST", TARGETS[1], {}),  # an empty object is a body
    ("GET", TARGETS[0], None),
]


def shape(request):
    return (
        request.method,
        str(request.url),
        request.headers.raw,
        request.content,
        request.extensions,
    )


def library(http, method, url, body, timeout_s=30.0):
    return http.build_request(method, url, json=body, headers=HEADERS, timeout=timeout_s)


def counting(http, monkeypatch):
    calls = []
    real = http.build_request

    def spy(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(http, "build_request", spy)
    return calls


@pytest.fixture(params=["httpx", "lean"])
def http(request):
    # Nothing is sent: these clients only build requests.
    return httpx.AsyncClient() if request.param == "httpx" else build_http_client(parallelism=4)


@pytest.mark.parametrize("timeout_s", [30.0, 2.5])
def test_every_request_is_the_one_build_request_makes(http, monkeypatch, timeout_s):
    maker = RequestMaker(http, headers=HEADERS, timeout_s=timeout_s)
    made = [maker(m, httpx.URL(ORIGIN + t), b) for m, t, b in REQUESTS]
    expected = [library(http, m, httpx.URL(ORIGIN + t), b, timeout_s) for m, t, b in REQUESTS]
    assert [shape(r) for r in made] == [shape(r) for r in expected]
    assert made[1].headers["content-type"] == "application/json"
    assert "content-length" not in made[0].headers


def test_after_the_first_request_to_an_origin_httpx_builds_none(http, monkeypatch):
    calls = counting(http, monkeypatch)
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    maker("GET", httpx.URL(ORIGIN + TARGETS[0]))
    maker("PUT", httpx.URL(ORIGIN + TARGETS[1]), {"value": "QQ=="})  # with a body: its own check
    learnt = len(calls)
    assert learnt == 4  # each kind: httpx's request, and the headers tried
    for method, target, body in REQUESTS:
        maker(method, httpx.URL(ORIGIN + target), body)
    assert len(calls) == learnt
    # another origin (another Host) is learnt on its own
    other = maker("GET", httpx.URL("https://other.example.test:8443" + TARGETS[0]))
    assert len(calls) > learnt
    assert other.headers["host"] == "other.example.test:8443"
    assert shape(maker("GET", httpx.URL("https://other.example.test:8443" + TARGETS[2]))) == shape(
        library(http, "GET", httpx.URL("https://other.example.test:8443" + TARGETS[2]), None)
    )


def test_the_requests_do_not_share_headers(http):
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    url = httpx.URL(ORIGIN + TARGETS[0])
    first, second = maker("GET", url), maker("GET", url)
    third = maker("GET", url)
    second.headers["X-Changed"] = "1"
    second.extensions["other"] = True
    assert "x-changed" not in third.headers and "other" not in third.extensions
    assert shape(first) == shape(third) == shape(library(http, "GET", url, None))


def add_cookie(http):
    http.cookies.set("session", "s1", domain="api.example.test")


def set_params(http):
    http.params = {"page": "2"}


def add_header(http):
    http.headers.update({"X-Extra": "on"})


def replace_accept(http):
    http.headers.update({"Accept": "text/plain"})


@pytest.mark.parametrize("change", [add_cookie, set_params, add_header, replace_accept])
def test_a_client_changed_after_the_first_request_gets_httpx_merge(http, change):
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    url = httpx.URL(ORIGIN + TARGETS[0])
    maker("GET", url)
    maker("GET", url)
    change(http)
    for method, target, body in REQUESTS:
        got = maker(method, httpx.URL(ORIGIN + target), body)
        assert shape(got) == shape(library(http, method, httpx.URL(ORIGIN + target), body))


def test_a_client_content_type_is_kept_as_httpx_keeps_it():
    http = httpx.AsyncClient(headers={"Content-Type": "application/merge-patch+json"})
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    url = httpx.URL(ORIGIN + TARGETS[1])
    for _ in range(3):
        got = maker("PUT", url, {"value": "QQ=="})
        assert shape(got) == shape(library(http, "PUT", url, {"value": "QQ=="}))
        assert got.headers["content-type"] == "application/merge-patch+json"


@pytest.mark.parametrize("body", [{"value": float("nan")}, {"value": b"bytes"}])
def test_a_body_json_refuses_is_refused_alike(http, body):
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    url = httpx.URL(ORIGIN + TARGETS[1])
    maker("PUT", url, {"value": "QQ=="})
    with pytest.raises((ValueError, TypeError)) as ours:
        maker("PUT", url, body)
    with pytest.raises((ValueError, TypeError)) as theirs:
        library(http, "PUT", url, body)
    assert type(ours.value) is type(theirs.value)


def test_relative_urls_and_bodyless_posts_take_httpx_path(monkeypatch):
    http = httpx.AsyncClient(base_url=ORIGIN + "/api/v1/")
    calls = counting(http, monkeypatch)
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    maker("GET", httpx.URL(ORIGIN + TARGETS[0]))
    before = len(calls)
    relative = maker("GET", httpx.URL("repos/id:6f1c/secrets"))
    assert str(relative.url) == ORIGIN + "/api/v1/repos/id:6f1c/secrets"
    put = maker("PUT", httpx.URL(ORIGIN + TARGETS[1]))
    assert put.headers["content-length"] == "0"
    assert len(calls) == before + 2
    assert shape(put) == shape(library(http, "PUT", httpx.URL(ORIGIN + TARGETS[1]), None))


def test_a_maker_whose_way_disagrees_with_httpx_uses_httpx_only(http, monkeypatch):
    monkeypatch.setattr(prepared, "_same", lambda a, b: False)  # as if httpx changed
    calls = counting(http, monkeypatch)
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    made = [maker(m, httpx.URL(ORIGIN + t), b) for m, t, b in REQUESTS]
    # the first request of each kind is built twice (httpx's, and the headers it tried); then
    # each once
    assert calls == ["GET", "GET", "PUT", "GET"] + [m for m, _, _ in REQUESTS[2:]]
    expected = [library(http, m, httpx.URL(ORIGIN + t), b) for m, t, b in REQUESTS]
    assert [shape(r) for r in made] == [shape(r) for r in expected]


def test_a_maker_never_shows_the_token(http):
    maker = RequestMaker(http, headers=HEADERS, timeout_s=30.0)
    maker("GET", httpx.URL(ORIGIN + TARGETS[0]))
    assert "tok-0123" not in repr(maker) and "tok-0123" not in str(maker)
