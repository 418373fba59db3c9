"""SourceCraftClient: request shapes, payloads and how answers are read."""

import base64
import logging

import pytest

from secretsync.errors import ApiError, ConfigError
from secretsync.models import OperationInfo, RepoInfo, Secret
from tests.sourcecraft.helpers import BASE, OP, REPO_ID, SECRETS, TOKEN, call


@pytest.mark.parametrize(("key", "encoded"), [("A_B", "A_B")])  # odd keys: test_paths.py
def test_put_secret_request_shape(httpx_mock, key, encoded):
    value = b"\x00\xff binary \xe2\x82\xac"
    httpx_mock.add_response(
        method="PUT",
        url=f"{SECRETS}/{encoded}?secret_group=staging",
        match_json={"value": base64.b64encode(value).decode()},
        match_headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        status_code=202,
        json={**OP, "status_url": "/api/v1/operations/secrets/id:op-1"},
    )
    op = call(lambda c: c.put_secret(REPO_ID, "staging", key, Secret(value)))
    assert op == OperationInfo(
        operation_id="op-1",
        status="scheduled",
        status_url="/api/v1/operations/secrets/id:op-1",
    )
    request = httpx_mock.get_request()
    # `id:` stays literal; the key is one percent-encoded segment; no value in the URL
    assert request.url.raw_path.decode() == (
        f"/api/v1/repos/id:{REPO_ID}/secrets/{encoded}?secret_group=staging"
    )


def test_default_group_is_sent_explicitly_and_values_never_reach_the_url(httpx_mock, caplog):
    value = "пароль-ü".encode()
    encoded_value = base64.b64encode(value).decode()
    httpx_mock.add_response(
        method="PUT",
        url=f"{SECRETS}/KEY?secret_group=default",
        match_json={"value": encoded_value},
        status_code=202,
        json=OP,
    )
    httpx_mock.add_response(
        url=f"{SECRETS}?secret_group=default",
        json={"secrets": [{"key": "KEY", "value": encoded_value}]},
    )
    caplog.set_level(logging.DEBUG)

    async def both(client):
        await client.put_secret(REPO_ID, "default", "KEY", Secret(value))
        return await client.list_secrets(REPO_ID, "default")

    assert call(both) == {"KEY": Secret(value)}
    for request in httpx_mock.get_requests():
        assert encoded_value not in str(request.url)
    assert f"PUT /api/v1/repos/id:{REPO_ID}/secrets/KEY -> 202 (attempt 1" in caplog.text
    assert encoded_value not in caplog.text
    assert TOKEN not in caplog.text


def test_delete_secret_answers_operation_or_none_when_already_absent(httpx_mock):
    httpx_mock.add_response(
        method="DELETE", url=f"{SECRETS}/OLD?secret_group=prod", status_code=202, json=OP
    )
    httpx_mock.add_response(
        method="DELETE",
        url=f"{SECRETS}/GONE?secret_group=prod",
        status_code=404,
        json={"error_code": "NotFound", "message": "no such secret"},
    )

    async def both(client):
        return (
            await client.delete_secret(REPO_ID, "prod", "OLD"),
            await client.delete_secret(REPO_ID, "prod", "GONE"),
        )

    op, gone = call(both)
    assert op.operation_id == "op-1"
    assert gone is None


def test_empty_write_answer_means_done(httpx_mock):
    httpx_mock.add_response(method="PUT", status_code=204)
    op = call(lambda c: c.put_secret(REPO_ID, "default", "K", Secret(b"v")))
    assert op.finished
    assert op.status == "success"


def test_list_secrets_decodes_values_and_keeps_missing_ones_unknown(httpx_mock):
    httpx_mock.add_response(
        url=f"{SECRETS}?secret_group=default",
        json={
            "secrets": [
                {"key": "PLAIN", "value": base64.b64encode(b"hello").decode()},
                {"key": "EMPTY", "value": ""},
                {"key": "EXTERNAL"},
                {"key": "NULL", "value": None},
            ]
        },
    )
    listing = call(lambda c: c.list_secrets(REPO_ID, "default"))
    assert listing == {
        "PLAIN": Secret(b"hello"),
        "EMPTY": Secret(b""),
        "EXTERNAL": None,
        "NULL": None,
    }


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"[]", "JSON object"),
        (b"{}", "`secrets` list"),
        (b'{"secrets": {"A": "eA=="}}', "`secrets` list"),
        (b'{"secrets": [{"value": "eA=="}]}', "no string `key`"),
        (b'{"secrets": [{"key": "A", "value": "not base64!"}]}', "'A' is not base64"),
        (b'{"secrets": [{"key": "A", "value": 12}]}', "'A' is not base64"),
        (b'{"secrets": [{"key": "A", "value": "eA="}]}', "'A' is not base64"),
        (b'{"secrets": [{"key": "A"}, {"key": "A"}]}', "listed twice"),
    ],
)
def test_unreadable_listing_is_an_error_never_an_empty_group(httpx_mock, body, what):
    httpx_mock.add_response(url=f"{SECRETS}?secret_group=default", content=body)
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.list_secrets(REPO_ID, "default"))
    assert caught.value.error_code == "MalformedResponse"
    assert what in caught.value.message
    assert "eA==" not in str(caught.value)


def test_get_repo_by_slug_and_by_id(httpx_mock):
    repo = {"id": REPO_ID, "slug": "backend", "organization": {"id": "o", "slug": "acme"}}
    httpx_mock.add_response(url=f"{BASE}/repos/acme/backend", json=repo)
    httpx_mock.add_response(url=f"{BASE}/repos/id:{REPO_ID}", json=repo)

    async def both(client):
        return await client.get_repo("acme/backend"), await client.get_repo_by_id(REPO_ID)

    expected = RepoInfo(repo_id=REPO_ID, slug="acme/backend")
    assert call(both) == (expected, expected)
    assert httpx_mock.get_requests()[1].url.raw_path.decode() == f"/api/v1/repos/id:{REPO_ID}"


def test_unknown_repo_says_what_to_check(httpx_mock):
    httpx_mock.add_response(
        url=f"{BASE}/repos/acme/nope",
        status_code=404,
        json={"error_code": "NotFound", "message": "repository not found", "request_id": "r-9"},
    )
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.get_repo("acme/nope"))
    assert caught.value.status == 404
    assert caught.value.hint == "check the repository slug/id and that the token can see it"
    assert str(caught.value) == (
        "GET /api/v1/repos/acme/nope -> HTTP 404 NotFound: repository not found (request_id: r-9)"
    )
    with pytest.raises(ConfigError):
        call(lambda c: c.get_repo("no-slash"))


def test_org_repos_follow_page_tokens(httpx_mock):
    def repo(n):
        return {"id": f"id-{n}", "slug": f"r{n}", "organization": {"slug": "acme"}}

    httpx_mock.add_response(
        url=f"{BASE}/orgs/acme/repos?page_size=2",
        json={"repositories": [repo(1), repo(2)], "next_page_token": "p2"},
    )
    httpx_mock.add_response(
        url=f"{BASE}/orgs/acme/repos?page_size=2&page_token=p2",
        json={"repositories": [repo(3)], "next_page_token": ""},
    )
    repos = call(lambda c: c.list_org_repos("acme", page_size=2))
    assert [(r.repo_id, r.slug) for r in repos] == [
        ("id-1", "acme/r1"),
        ("id-2", "acme/r2"),
        ("id-3", "acme/r3"),
    ]


def test_org_repos_stop_on_a_repeated_page_token(httpx_mock):
    page = {"repositories": [], "next_page_token": "same"}
    httpx_mock.add_response(url=f"{BASE}/orgs/acme/repos?page_size=100", json=page)
    httpx_mock.add_response(url=f"{BASE}/orgs/acme/repos?page_size=100&page_token=same", json=page)
    with pytest.raises(ApiError, match="same page token came back twice"):
        call(lambda c: c.list_org_repos("acme"))


@pytest.mark.parametrize(
    ("status_url", "polled"),
    [
        (
            "https://api.example.test/api/v1/ops/op-1?x=1",
            "https://api.example.test/api/v1/ops/op-1?x=1",
        ),
        ("/api/v1/ops/op-1", "https://api.example.test/api/v1/ops/op-1"),
        ("ops/op-1", "https://api.example.test/api/v1/ops/op-1"),
        # the token only goes to the API host: another host (or scheme, or port) is ignored
        ("https://elsewhere.test/ops/op-1", f"{BASE}/operations/secrets/id:op-1"),
        ("http://api.example.test/api/v1/ops/op-1", f"{BASE}/operations/secrets/id:op-1"),
        ("https://api.example.test:8443/ops/op-1", f"{BASE}/operations/secrets/id:op-1"),
        (None, f"{BASE}/operations/secrets/id:op-1"),
    ],
)
def test_get_operation_polls_the_status_url_only_on_the_api_host(httpx_mock, status_url, polled):
    httpx_mock.add_response(
        url=polled,
        json={
            "operation_id": "op-1",
            "status": "failed",
            "error": {"error_code": "ValidationError", "message": "too long", "details": {}},
        },
    )
    op = call(
        lambda c: c.get_operation(
            OperationInfo(operation_id="op-1", status="scheduled", status_url=status_url)
        )
    )
    assert op.finished
    assert (op.error_code, op.error_message) == ("ValidationError", "too long")
    assert op.status_url == status_url  # kept for the next poll
