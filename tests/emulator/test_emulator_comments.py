"""Pull request comments in the emulator: the published spec's shapes, paging, who wrote what."""

import json

import httpx
import pytest

from secretsync.emulator import Emulator, load_seed
from tests.emulator.helpers import AUTH

SEED = {
    "users": [{"username": "mallory", "token": "mallory-token"}],
    "orgs": [
        {
            "slug": "acme",
            "repos": [
                {
                    "slug": "backend",
                    "pull_requests": [
                        "7",
                        {"slug": "8", "comments": [{"author": "mallory", "body": "hello"}]},
                    ],
                }
            ],
        }
    ],
}
MALLORY = {"Authorization": "Bearer mallory-token"}
PATH = "/repos/acme/backend/pulls/7/comments"


@pytest.fixture
def api(make_emulator):
    emu = make_emulator(SEED)
    with httpx.Client(base_url=emu.url, headers=AUTH, timeout=5) as c:
        yield c


def test_user_is_the_tokens_user(api):
    assert api.get("/user").json()["username"] == "emulator-user"
    profile = api.get("/user", headers=MALLORY).json()
    assert (profile["username"], profile["display_name"]) == ("mallory", "mallory")


def test_create_answers_201_with_author_and_edit_keeps_id(api):
    created = api.post(PATH, json={"body": "plan v1", "publish": True})
    assert created.status_code == 201
    comment = created.json()
    assert comment["author"]["slug"] == "emulator-user"
    assert comment["author"]["id"] == api.get("/user").json()["id"]
    edited = api.patch(f"/pull_comments/id:{comment['id']}", json={"body": "plan v2"})
    assert edited.status_code == 200
    listed = api.get(PATH).json()["pull_request_comments"]
    assert [(c["id"], c["body"]) for c in listed] == [(comment["id"], "plan v2")]
    assert api.delete(f"/pull_comments/id:{comment['id']}").status_code == 200
    assert api.get(PATH).json()["pull_request_comments"] == []


def test_listing_pages(api):
    for n in range(5):
        api.post(PATH, json={"body": f"c{n}", "publish": True})
    seen, token, pages = [], "", 0
    while True:
        params = {"page_size": "2", **({"page_token": token} if token else {})}
        body = api.get(PATH, params=params).json()
        seen += [c["body"] for c in body["pull_request_comments"]]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert (seen, pages) == (["c0", "c1", "c2", "c3", "c4"], 3)


def test_drafts_are_seen_by_their_author_only(api):
    api.post(PATH, json={"body": "draft"})
    assert len(api.get(PATH).json()["pull_request_comments"]) == 1
    assert api.get(PATH, headers=MALLORY).json()["pull_request_comments"] == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/repos/acme/backend/pulls/99/comments", {"body": "x"}, 404),
        ("/repos/acme/nope/pulls/7/comments", {"body": "x"}, 404),
        (PATH, {"body": ""}, 400),
        (PATH, {"body": "x", "colour": "red"}, 400),
        (PATH, {"body": "x", "publish": "yes"}, 400),
        (PATH, {"body": "x" * 65537}, 400),
        (PATH, {"body": "x", "parent_id": "nope"}, 400),
    ],
)
def test_bad_requests_are_refused(api, path, body, status):
    assert api.post(path, json=body).status_code == status


def test_seeded_comment_keeps_its_author(api):
    listed = api.get("/repos/acme/backend/pulls/8/comments").json()["pull_request_comments"]
    assert [(c["author"]["slug"], c["body"]) for c in listed] == [("mallory", "hello")]


def test_comments_survive_a_restart_through_the_state_file(tmp_path, clock):
    state = tmp_path / "state.json"
    with Emulator(SEED, state_file=state, clock=clock) as emu:
        httpx.post(f"{emu.url}{PATH}", json={"body": "kept", "publish": True}, headers=AUTH)
    with Emulator(None, state_file=state, clock=clock) as emu:
        listed = httpx.get(f"{emu.url}{PATH}", headers=AUTH).json()["pull_request_comments"]
        assert [c["body"] for c in listed] == ["kept"]
        assert httpx.get(f"{emu.url}/user", headers=MALLORY).json()["username"] == "mallory"
    assert json.loads(state.read_text())["users"] == [
        {"username": "mallory", "token": "mallory-token"}
    ]


def test_seed_file_with_pull_requests_loads(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED))
    assert load_seed(path)["orgs"][0]["repos"][0]["pull_requests"][0] == "7"
