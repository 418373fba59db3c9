"""The client remembers which status_url origins are the API's: every poll of a run is still
decided as if each status_url were checked on its own, however many origins a server names."""

import httpx

from secretsync.models import OperationInfo
from tests.sourcecraft.helpers import BASE, call

FALLBACK = f"{BASE}/operations/secrets/id:op-1"
OURS = f"{BASE}/ops/op-1"

# (status_url, where it is polled), each asked twice or more below
CASES = [
    ("https://api.example.test/api/v1/ops/op-1", OURS),
    ("https://API.example.test:443/api/v1/ops/op-1", OURS),
    ("https://api.example.test:8443/api/v1/ops/op-1", FALLBACK),
    ("http://api.example.test/api/v1/ops/op-1", FALLBACK),
    ("https://elsewhere.test/api/v1/ops/op-1", FALLBACK),
    ("https://user@api.example.test/api/v1/ops/op-1", OURS),  # origin() ignores userinfo
    ("https://api.example.test:bad/api/v1/ops/op-1", FALLBACK),  # no readable port
    ("/api/v1/ops/op-1", OURS),
]
# more origins than the client remembers, then the first ones again
MANY = [(f"https://host{i}.test/api/v1/ops/op-1", FALLBACK) for i in range(40)]


def poll_each(status_urls):
    async def main(client):
        for status_url in status_urls:
            op = OperationInfo(operation_id="op-1", status="scheduled", status_url=status_url)
            await client.get_operation(op)

    call(main)


def test_each_poll_goes_where_its_own_status_url_says(httpx_mock):
    httpx_mock.add_response(json={"operation_id": "op-1", "status": "success"}, is_reusable=True)
    asked = [*CASES, *CASES[::-1], *MANY, *CASES, *MANY[:3]]
    poll_each([status_url for status_url, _ in asked])
    polled = [str(request.url) for request in httpx_mock.get_requests()]
    assert polled == [where for _, where in asked]


def test_the_same_host_on_another_port_is_never_taken_for_the_api(httpx_mock):
    httpx_mock.add_response(json={"operation_id": "op-1", "status": "success"}, is_reusable=True)
    poll_each(
        [
            "https://api.example.test/api/v1/ops/op-1",
            "https://api.example.test:444/api/v1/ops/op-1",
            "https://api.example.test/api/v1/ops/op-1",
        ]
    )
    hosts = [request.url for request in httpx_mock.get_requests()]
    assert [str(u) for u in hosts] == [OURS, FALLBACK, OURS]
    assert all(isinstance(u, httpx.URL) and u.port is None for u in hosts)
