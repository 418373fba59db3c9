import pytest

from secretsync.errors import ConfigError
from secretsync.sourcecraft.endpoint import DEFAULT_API_URL, choose_api_url


def test_default_when_nobody_sets_a_url():
    assert choose_api_url(manifest_url=None, pipeline_url=None) == DEFAULT_API_URL


def test_manifest_may_name_the_default_host_only():
    assert choose_api_url(manifest_url="https://api.sourcecraft.tech/", pipeline_url=None) == (
        "https://api.sourcecraft.tech"
    )
    with pytest.raises(ConfigError) as info:
        choose_api_url(manifest_url="https://evil.example/api", pipeline_url=None)
    assert "evil.example" in info.value.message
    assert "--api-url https://evil.example/api" in (info.value.hint or "")


def test_pipeline_url_wins_over_the_manifest():
    url = choose_api_url(
        manifest_url="https://evil.example", pipeline_url="https://sc.corp.example/api/"
    )
    assert url == "https://sc.corp.example/api"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"])
def test_plain_http_only_on_loopback(url):
    assert choose_api_url(manifest_url=None, pipeline_url=url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.sourcecraft.tech",
        "http://10.0.0.1",
        "ftp://x",
        "https://user:pw@host",
        "nohost",
        "https://h/?q=1",
    ],
)
def test_bad_urls_are_refused(url):
    with pytest.raises(ConfigError):
        choose_api_url(manifest_url=None, pipeline_url=url)
