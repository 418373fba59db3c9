"""build_http_client as the SourceCraft client uses it: sized and safe."""

from secretsync.sourcecraft.client import build_http_client
from tests.virtual_time import run


def test_build_http_client_is_sized_and_safe():
    async def main():
        async with build_http_client(parallelism=8, timeout_s=12) as http:
            return http

    http = run(main())
    assert http.headers["User-Agent"].startswith("secretsync/")
    assert http.follow_redirects is False
    assert http.timeout.read == 12
    from secretsync.sourcecraft.endpoint import DEFAULT_API_URL

    assert DEFAULT_API_URL == "https://api.sourcecraft.tech"
