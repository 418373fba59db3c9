"""Each endpoint's success shape and errors, as the reference describes them."""

import re
import uuid

import httpx
import pytest

from secretsync.emulator import EmulatorConfig
from tests.emulator.helpers import BACKEND_ID, assert_error, b64, client_for

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
OPERATION_FIELDS = {
    "operation_id",
    "status_url",
    "status",
    "created_at",
    "modified_at",
    "response",
    "error",
}


def test_user_profile(client):
    response = client.get("/user")
    assert response.status_code == 200
    body = response.json()
    # The published spec's UserProfile fields, not the emulator's own old names.
    assert body["username"] == "emulator-user"
    assert uuid.UUID(body["id"])
    assert body["display_name"]
    assert "slug" not in body and "name" not in body


def test_repository_by_slugs_and_by_id_is_the_same(client):
    by_slug = client.get("/repos/acme/backend")
    by_id = client.get(f"/repos/id:{BACKEND_ID}")
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json()
    body = by_slug.json()
    assert body["id"] == BACKEND_ID
    assert body["slug"] == body["name"] == "backend"
    assert body["visibility"] == "internal"
    assert body["default_branch"] == "main"
    assert body["organization"]["slug"] == "acme"
    assert uuid.UUID(body["organization"]["id"])


def test_repository_defaults_and_stable_generated_ids(make_emulator, emu, client):
    web = client.get("/repos/acme/web").json()
    assert web["visibility"] == "private"
    assert uuid.UUID(web["id"]).version == 5
    docs = client.get("/repos/acme/docs").json()
    assert (docs["name"], docs["visibility"]) == ("Documentation", "public")
    # The same seed on another start gives the same generated id.
    assert make_emulator().repo_id("acme/web") == web["id"] == emu.repo_id("web")


@pytest.mark.parametrize(
    "path", ["/repos/acme/nope", "/repos/nope/backend", "/repos/id:nope", "/orgs/nope/repos"]
)
def test_unknown_repository_or_org_is_404(client, path):
    assert_error(client.get(path), 404, "NotFound")


def test_unknown_path_is_404_and_wrong_method_405(client):
    assert_error(client.get("/nope"), 404, "NotFound")
    assert_error(client.get("/repos/acme/backend/branches"), 404, "NotFound")
    response = client.post("/repos/acme/backend/secrets", json={})
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["Allow"] == "GET"
    assert client.get("/repos/acme/backend/secrets/API_KEY").headers["Allow"] == "DELETE, PUT"


def test_org_repos_pages_through_every_repository(client):
    seen, token, pages = [], None, 0
    while True:
        params = {"page_size": 2} | ({"page_token": token} if token else {})
        response = client.get("/orgs/acme/repos", params=params)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"repositories", "next_page_token"}
        seen += [repo["slug"] for repo in body["repositories"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert seen == ["backend", "web", "docs"]
    assert pages == 2


def test_org_repos_default_page_and_empty_org(client):
    body = client.get("/orgs/acme/repos").json()
    assert len(body["repositories"]) == 3
    assert body["next_page_token"] == ""
    assert body["repositories"][0] == client.get("/repos/acme/backend").json()
    assert client.get("/orgs/empty-org/repos").json() == {"repositories": [], "next_page_token": ""}


@pytest.mark.parametrize(
    "params", [{"page_size": 101}, {"page_size": "x"}, {"page_size": -1}, {"page_token": "junk"}]
)
def test_org_repos_bad_paging_is_400(client, params):
    body = assert_error(client.get("/orgs/acme/repos", params=params), 400, "ValidationError")
    assert body["details"]["field"] in ("page_size", "page_token")


def test_list_shape_sorted_base64_and_valueless_entries(client):
    response = client.get("/repos/acme/backend/secrets")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "secrets": [
            {"key": "API_KEY", "value": b64("plain text value")},
            {"key": "BLOB", "value": "AAEC"},
            {"key": "EXTERNAL"},
        ]
    }


def test_list_by_id_and_default_group(client):
    by_slug = client.get("/repos/acme/backend/secrets").json()
    assert client.get(f"/repos/id:{BACKEND_ID}/secrets").json() == by_slug
    explicit = client.get("/repos/acme/backend/secrets", params={"secret_group": "default"})
    assert explicit.json() == by_slug
    production = client.get("/repos/acme/backend/secrets", params={"secret_group": "production"})
    assert production.json() == {"secrets": [{"key": "API_KEY", "value": b64("prod value")}]}
    unknown_group = client.get("/repos/acme/web/secrets", params={"secret_group": "staging"})
    assert unknown_group.json() == {"secrets": []}


@pytest.mark.parametrize("query", ["keys=BLOB&keys=EXTERNAL", "keys=BLOB,EXTERNAL", "keys=BLOB,"])
def test_list_keys_filter_both_encodings(client, query):
    body = client.get(f"/repos/acme/backend/secrets?{query}&keys=EXTERNAL").json()
    assert [entry["key"] for entry in body["secrets"]] == ["BLOB", "EXTERNAL"]


def test_list_keys_filter_of_absent_key_is_empty(client):
    response = client.get("/repos/acme/backend/secrets", params={"keys": "MISSING"})
    assert response.json() == {"secrets": []}


@pytest.mark.parametrize("params", [{"keys": "1BAD"}, {"secret_group": "-x"}])
def test_list_rejects_bad_key_or_group(client, params):
    assert_error(client.get("/repos/acme/backend/secrets", params=params), 400, "ValidationError")


def test_put_answers_an_operation_and_the_list_shows_the_value(emu, client):
    response = client.put("/repos/acme/backend/secrets/NEW_KEY", json={"value": b64(b"\x00\xff")})
    assert response.status_code == 202
    op = response.json()
    assert set(op) == OPERATION_FIELDS
    assert op["status"] == "success"  # op_delay_ms=0: already final
    assert op["response"] == {}
    assert op["error"] is None
    assert RFC3339.fullmatch(op["created_at"])
    assert RFC3339.fullmatch(op["modified_at"])
    assert op["status_url"] == f"{emu.url}/operations/secrets/id:{op['operation_id']}"
    assert client.get(op["status_url"]).json() == op
    listed = client.get("/repos/acme/backend/secrets", params={"keys": "NEW_KEY"}).json()
    assert listed == {"secrets": [{"key": "NEW_KEY", "value": b64(b"\x00\xff")}]}


def test_put_by_id_and_by_slug_address_the_same_secret(emu, client):
    client.put(f"/repos/id:{BACKEND_ID}/secrets/SHARED", json={"value": b64("one")})
    client.put("/repos/acme/backend/secrets/SHARED", json={"value": b64("two")})
    assert emu.secrets("acme/backend")["SHARED"] == b"two"
    assert emu.secrets(BACKEND_ID)["SHARED"] == b"two"


def test_put_into_a_group(emu, client):
    response = client.put(
        "/repos/acme/web/secrets/TOKEN", params={"secret_group": "staging"}, json={"value": ""}
    )
    assert response.status_code == 202
    assert emu.secrets("acme/web", "staging") == {"TOKEN": b""}
    assert emu.secrets("acme/web") == {}


def test_key_in_the_path_is_percent_decoded(emu, client):
    response = client.put("/repos/acme/backend/secrets/MY%5FKEY", json={"value": b64("v")})
    assert response.status_code == 202
    assert emu.secrets("acme/backend")["MY_KEY"] == b"v"
    # An encoded slash stays inside the key segment, and such a key is invalid.
    assert_error(
        client.put("/repos/acme/backend/secrets/A%2FB", json={"value": b64("v")}),
        400,
        "ValidationError",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"value": "not base64!"},
        {"value": "c2VjcmV0"[:-1]},  # missing padding
        {"value": "c2Vj\ncmV0"},  # strict: no line breaks
        {"value": 12},
        {"other": "AAEC"},
        ["AAEC"],
    ],
)
def test_put_rejects_a_bad_value(emu, client, body):
    response = client.put("/repos/acme/backend/secrets/K", json=body)
    error = assert_error(response, 400, "ValidationError")
    assert error["details"] == {"field": "value"}
    assert "c2Vj" not in response.text
    assert "K" not in emu.secrets("acme/backend")
    assert emu.stats()["operations_created"] == 0


def test_put_rejects_a_body_that_is_not_json(client):
    response = client.put(
        "/repos/acme/backend/secrets/K",
        content=b"value=AAEC",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "ValidationError")


def test_value_size_limit_is_64_kib(client):
    at_limit = client.put("/repos/acme/backend/secrets/BIG", json={"value": b64(b"x" * 65536)})
    assert at_limit.status_code == 202
    over = client.put("/repos/acme/backend/secrets/BIG", json={"value": b64(b"x" * 65537)})
    body = assert_error(over, 400, "ValidationError")
    assert "65536" in body["message"]


@pytest.mark.parametrize("key", ["1ABC", "A-B", "A.B", "ÄKEY", "A%20B"])
def test_put_rejects_a_bad_key(client, key):
    response = client.put(f"/repos/acme/backend/secrets/{key}", json={"value": "AAEC"})
    body = assert_error(response, 400, "ValidationError")
    assert body["details"] == {"field": "key"}


def test_put_to_unknown_repo_is_404(client):
    response = client.put("/repos/id:nope/secrets/K", json={"value": "AAEC"})
    assert_error(response, 404, "NotFound")


def test_delete_removes_the_key(emu, client):
    response = client.delete(f"/repos/id:{BACKEND_ID}/secrets/BLOB")
    assert response.status_code == 202
    assert response.json()["status"] == "success"
    assert "BLOB" not in emu.secrets("acme/backend")
    assert emu.secrets("acme/backend", "production") == {"API_KEY": b"prod value"}


def test_delete_of_a_missing_key_is_404_by_default(client):
    body = assert_error(client.delete("/repos/acme/backend/secrets/MISSING"), 404, "NotFound")
    assert body["details"] == {"key": "MISSING"}
    # The key exists in another group only.
    response = client.delete(
        "/repos/acme/backend/secrets/BLOB", params={"secret_group": "production"}
    )
    assert_error(response, 404, "NotFound")


@pytest.mark.parametrize(
    ("mode", "status", "error_code"),
    [("failed", "failed", "NotFound"), ("success", "success", None)],
)
def test_delete_missing_modes(make_emulator, mode, status, error_code):
    emulator = make_emulator(config=EmulatorConfig(delete_missing=mode))
    with client_for(emulator) as c:
        response = c.delete("/repos/acme/backend/secrets/MISSING")
    assert response.status_code == 202
    op = response.json()
    assert op["status"] == status
    assert (op["error"] or {}).get("error_code") == error_code
    assert emulator.secrets("acme/backend").keys() == {"API_KEY", "BLOB", "EXTERNAL"}


def test_unknown_operation_is_404(client):
    assert_error(client.get("/operations/secrets/id:nope"), 404, "NotFound")
    op_id = client.put("/repos/acme/web/secrets/K", json={"value": "AAEC"}).json()["operation_id"]
    assert_error(client.get(f"/operations/secrets/{op_id}"), 404, "NotFound")  # no "id:"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic emulator-token"},
        {"Authorization": "Bearer"},
    ],
)
@pytest.mark.parametrize("path", ["/user", "/repos/acme/backend/secrets", "/nope"])
def test_401_without_a_valid_token(emu, headers, path):
    with client_for(emu, headers=headers) as c:
        body = assert_error(c.get(path), 401, "Unauthenticated")
    assert "emulator-token" not in body["message"]


def test_401_has_no_side_effect(emu):
    with client_for(emu, headers={"Authorization": "Bearer wrong"}) as c:
        c.put("/repos/acme/backend/secrets/NEW", json={"value": "AAEC"})
    assert "NEW" not in emu.secrets("acme/backend")
    assert emu.stats()["operations_created"] == 0


def test_configured_and_seeded_tokens_replace_the_default(make_emulator):
    seed = {"tokens": ["from-seed"], "orgs": []}
    emulator = make_emulator(seed, EmulatorConfig(tokens=("from-config",)))
    for token, status in [("from-seed", 200), ("from-config", 200), ("emulator-token", 401)]:
        with client_for(emulator, headers={"Authorization": f"Bearer {token}"}) as c:
            assert c.get("/user").status_code == status


def test_every_response_carries_a_request_id(client):
    ids = {client.get("/user").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_stop_closes_kept_alive_connections(make_emulator):
    emulator = make_emulator()
    with client_for(emulator) as c:
        assert c.get("/user").status_code == 200
        emulator.stop()
        with pytest.raises(httpx.TransportError):
            c.get("/user")
