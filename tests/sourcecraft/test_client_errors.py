"""SourceCraftClient: error answers mapped to the project's errors, the token never shown."""

import httpx
import pytest

from secretsync.errors import ApiError, AuthError, ConfigError, TransportError
from secretsync.models import Secret
from secretsync.sourcecraft.client import SourceCraftClient
from tests.sourcecraft.helpers import BASE, REPO_ID, TOKEN, call
from tests.virtual_time import run


def test_client_error_shows_the_body_fields_and_is_not_retried(httpx_mock):
    httpx_mock.add_response(
        method="PUT",
        status_code=400,
        json={
            "error_code": "ValidationError",
            "message": "key is invalid",
            "request_id": "req-42",
            "details": {"key": "must match [A-Z_]+"},
        },
    )
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.put_secret(REPO_ID, "default", "BAD_KEY", Secret(b"v")))
    error = caught.value
    assert (error.method, error.status, error.error_code, error.request_id) == (
        "PUT",
        400,
        "ValidationError",
        "req-42",
    )
    assert error.path == f"/api/v1/repos/id:{REPO_ID}/secrets/BAD_KEY"
    assert str(error) == (
        f"PUT /api/v1/repos/id:{REPO_ID}/secrets/BAD_KEY -> HTTP 400 ValidationError: "
        "key is invalid (key: must match [A-Z_]+) (request_id: req-42)"
    )
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_names_the_token_variable(httpx_mock, status):
    httpx_mock.add_response(status_code=status, json={"error_code": "Unauthenticated"})
    with pytest.raises(AuthError) as caught:
        call(lambda c: c.list_secrets(REPO_ID, "default"), token_env="MY_TOKEN")
    assert caught.value.hint == (
        "check that $MY_TOKEN holds a valid token with access to this repository"
    )
    assert caught.value.lines()[-1].startswith("hint: check that $MY_TOKEN")
    assert len(httpx_mock.get_requests()) == 1


def test_non_json_error_body_is_summarised_not_echoed(httpx_mock):
    page = "<html>" + "x" * 10_000 + "</html>"
    httpx_mock.add_response(status_code=409, text=page, headers={"X-Request-Id": "hdr-7"})
    with pytest.raises(ApiError) as caught:
        call(lambda c: c.get_user())
    assert str(caught.value) == "GET /api/v1/user -> HTTP 409: Conflict (request_id: hdr-7)"
    assert caught.value.error_code == ""


def test_token_appears_in_no_error_or_repr(httpx_mock):
    httpx_mock.add_response(status_code=401, json={"message": "bad token"})
    httpx_mock.add_response(status_code=400, json={"error_code": "X", "message": "m"})
    for _ in range(6):
        httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(content=b"not json")
    errors = []

    async def each(client):
        assert TOKEN not in repr(client)
        for call_ in (
            lambda: client.get_user(),
            lambda: client.get_user(),
            lambda: client.get_user(),
            lambda: client.list_secrets(REPO_ID, "default"),
        ):
            try:
                await call_()
            except (ApiError, TransportError) as exc:
                errors.append(exc)

    call(each)
    assert [type(e) for e in errors] == [AuthError, ApiError, TransportError, ApiError]
    for error in errors:
        text = "\n".join([str(error), repr(error), *error.lines(), repr(error.args)])
        assert TOKEN not in text


def test_a_token_an_http_header_cannot_carry_is_refused_without_echoing_it():
    async def main():
        async with httpx.AsyncClient() as http:
            SourceCraftClient(http, base_url=BASE, token=Secret(b"abc\ndef"))

    with pytest.raises(ConfigError) as caught:
        run(main())
    assert "abc" not in str(caught.value)
    assert "$SOURCECRAFT_TOKEN" in str(caught.value)
