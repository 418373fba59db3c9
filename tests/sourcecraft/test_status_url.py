"""Which path an operation is polled at: its `status_url` only when that is a plain path on
the API's own origin; anything odd falls back to the documented path built from its id.
(The host is always the API's: the token never leaves it.)"""

import pytest

from secretsync.models import OperationInfo
from tests.sourcecraft.helpers import BASE, call

FALLBACK = f"{BASE}/operations/secrets/id:op-1"


@pytest.mark.parametrize(
    ("status_url", "polled"),
    [
        ("//elsewhere.test/ops/op-1", FALLBACK),  # a host without a scheme is not ours
        ("https:ops/op-1", FALLBACK),  # a scheme without a host is not ours either
        ("https://api.example.test/api/v1/ops/op-1#frag", FALLBACK),
        ("https://api.example.test", FALLBACK),  # no path to poll
        ("https://[::1/ops/op-1", FALLBACK),  # unparsable
        ("https://API.example.test:443/api/v1/ops/op-1", f"{BASE}/ops/op-1"),
    ],
)
def test_odd_status_urls_fall_back_to_the_documented_path(httpx_mock, status_url, polled):
    httpx_mock.add_response(url=polled, json={"operation_id": "op-1", "status": "success"})
    op = call(
        lambda c: c.get_operation(
            OperationInfo(operation_id="op-1", status="scheduled", status_url=status_url)
        )
    )
    assert op.finished
    assert str(httpx_mock.get_requests()[0].url) == polled
