"""Where the token may go, pinned mutant by mutant (scripts/mutation.py found each gap)."""

import pytest

from secretsync.errors import ConfigError
from secretsync.sourcecraft.endpoint import (
    check_url,
    choose_api_url,
    is_header_safe,
    is_loopback,
    origin,
    read_token,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.sourcecraft.tech:8443",  # same host, another port: another server
        "https://api.sourcecraft.tech.evil.example",
        "https://api.sourcecraft.tech@evil.example",  # user@host: the host is evil.example
        "https://evil.example#@api.sourcecraft.tech",
    ],
)
def test_the_manifest_cannot_reach_another_origin(url):
    with pytest.raises(ConfigError):
        choose_api_url(manifest_url=url, pipeline_url=None)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.sourcecraft.tech:443",
        "https://API.SourceCraft.tech",
        "https://api.sourcecraft.tech/v1",
    ],
)
def test_the_manifest_may_spell_the_default_origin_its_own_way(url):
    assert choose_api_url(manifest_url=url, pipeline_url=None) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://user@sc.example", "credentials in the URL"),
        ("https://:pw@sc.example", "credentials in the URL"),
        ("https://sc.example/#frag", "query or fragment"),
        ("https://sc.example:99999", "not a valid URL"),
        ("ftp://sc.example", "not an http(s) URL"),
        ("https://", "not an http(s) URL"),
        ("http://sc.example", "plain http is allowed only on loopback"),
    ],
)
def test_check_url_says_what_is_wrong(url, words):
    with pytest.raises(ConfigError) as info:
        check_url(url, origin="--api-url")
    assert words in info.value.message
    assert info.value.message.startswith("--api-url: ")


def test_check_url_keeps_a_path_prefix_without_trailing_slash():
    assert check_url("https://sc.example/api/v1/", origin="x") == "https://sc.example/api/v1"
    assert check_url("http://127.0.0.1:8080/", origin="x") == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost.evil.example", False),
        ("10.0.0.1", False),
        ("128.0.0.1", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_read_token_strips_and_refuses_what_a_header_cannot_carry():
    assert read_token("T", {"T": "  tok-1234  \n"}).reveal() == b"tok-1234"
    for bad, state in (({}, "is not set"), ({"T": ""}, "is empty"), ({"T": "  "}, "is empty")):
        with pytest.raises(ConfigError) as info:
            read_token("T", bad)
        assert info.value.message == f"environment variable T {state}"
        assert "export T" in (info.value.hint or "")
    for bad in ("a b", "a\x00b", "a\x7fb", "tok\u00e9n"):
        with pytest.raises(ConfigError) as info:
            read_token("T", {"T": bad})
        assert bad not in str(info.value) and "characters a token cannot have" in str(info.value)


def test_is_header_safe_bounds():
    assert is_header_safe(b"!~")  # 0x21 and 0x7e: the printable ends
    assert not is_header_safe(b"")
    assert not is_header_safe(b" ")  # 0x20
    assert not is_header_safe(b"\x7f")
    assert not is_header_safe(b"a\x80")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://sc.example", "https://SC.example:443/x", True),
        ("http://127.0.0.1", "http://127.0.0.1:80", True),
        ("https://sc.example", "http://sc.example", False),
        ("https://sc.example", "https://sc.example:8443", False),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8081", False),
        ("https://sc.example", "https://sc.example.evil", False),
        ("https://sc.example", "//sc.example/x", False),  # no scheme: not the API's origin
    ],
)
def test_origin_decides_what_is_the_same_server(a, b, same):
    assert (origin(a) == origin(b)) is same


def test_origin_of_an_unreadable_port_is_none():
    assert origin("https://sc.example:99999") is None
    assert origin("https://sc.example:x") is None


def test_origin_of_a_url_without_a_host_has_an_empty_host():
    assert origin("https:ops/op-1") == ("https", "", 443)
