"""A DELETE whose operation failed counts as done only when a fresh listing of the group no
longer has the key: no `error_code` value is documented, so none is trusted."""

from secretsync.models import Action
from tests.apply.test_applier import BASE, apply, change, op, op_url, summary, url

LISTING = f"{BASE}/repos/id:r1/secrets?secret_group=default"


def test_a_failed_delete_of_a_key_still_listed_is_a_failure_whatever_its_code(httpx_mock):
    httpx_mock.add_response(method="DELETE", url=url("KEPT"), json=op("op-K", "scheduled"))
    httpx_mock.add_response(url=op_url("op-K"), json=op("op-K", "failed", error_code="NotFound"))
    httpx_mock.add_response(method="GET", url=LISTING, json={"secrets": [{"key": "KEPT"}]})
    result = apply([change("KEPT", Action.DELETE)])
    assert summary(result) == [("KEPT", "failed", "op-K", "NotFound")]
    assert [r.method for r in httpx_mock.get_requests()] == ["DELETE", "GET", "GET"]


def test_a_failed_delete_whose_listing_fails_stays_failed(httpx_mock):
    httpx_mock.add_response(method="DELETE", url=url("X"), json=op("op-X", "failed"))
    httpx_mock.add_response(method="GET", url=LISTING, status_code=403, json={})
    assert summary(apply([change("X", Action.DELETE)])) == [
        ("X", "failed", "op-X", "OperationFailed")
    ]


def test_a_failed_write_is_never_checked_against_a_listing(httpx_mock):
    httpx_mock.add_response(method="PUT", url=url("W"), json=op("op-W", "failed"))
    assert summary(apply([change("W", Action.UPDATE)])) == [
        ("W", "failed", "op-W", "OperationFailed")
    ]
    assert [r.method for r in httpx_mock.get_requests()] == ["PUT"]
