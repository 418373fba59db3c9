"""One pull request comment, created once and edited in place; never someone else's."""

import asyncio

import httpx
import pytest

from secretsync.commenting import CommentTarget, fallback_target, post_comment
from secretsync.emulator import Emulator
from secretsync.errors import ApiError, ConfigError
from secretsync.models import Secret
from secretsync.report.comment import comment_marker
from secretsync.sourcecraft.client import SourceCraftClient, build_http_client
from secretsync.sourcecraft.comments import parse_pull_request, upsert_comment

TOKEN = "comment-test-token"
MALLORY = "mallory-token"
MARKER = comment_marker("secretsync.yaml")
PATH = "/repos/acme/infra/pulls/42/comments"


def seed(comments=()):
    return {
        "tokens": [TOKEN],
        "users": [{"username": "mallory", "token": MALLORY}],
        "orgs": [
            {
                "slug": "acme",
                "repos": [
                    {"slug": "infra", "pull_requests": [{"slug": "42", "comments": list(comments)}]}
                ],
            }
        ],
    }


def listed(emu, token=TOKEN):
    got = httpx.get(f"{emu.url}{PATH}", headers={"Authorization": f"Bearer {token}"})
    return [(c["author"]["slug"], c["body"]) for c in got.json()["pull_request_comments"]]


def post(emu, markdown, *, artifact="plan.md"):
    target = CommentTarget(
        ref=parse_pull_request("acme/infra/42", origin="--comment-on"),
        api_url=emu.url,
        token=Secret(TOKEN.encode()),
        token_env="SOURCECRAFT_TOKEN",
    )
    return post_comment(target, markdown, manifest="secretsync.yaml", artifact=artifact)


def test_first_run_creates_and_later_runs_edit_the_same_comment():
    with Emulator(seed()) as emu:
        first = post(emu, "### plan one\n")
        second = post(emu, "### plan two\n")
        assert first.created and not second.created
        assert second.comment_id == first.comment_id
        methods = [(r["method"], r["path"]) for r in emu.request_log() if r["path"] != "/user"]
        assert listed(emu) == [("emulator-user", f"{MARKER}\n### plan two\n")]
        assert methods == [
            ("GET", PATH),
            ("POST", PATH),
            ("GET", PATH),
            ("PATCH", f"/pull_comments/id:{first.comment_id}"),
        ]


def test_a_marker_in_another_users_comment_is_never_edited():
    spoof = {"author": "mallory", "body": f"{MARKER}\nLooks fine, no changes."}
    with Emulator(seed([spoof])) as emu:
        posted = post(emu, "### real plan\n")
        assert posted.created
        assert listed(emu) == [
            ("mallory", f"{MARKER}\nLooks fine, no changes."),
            ("emulator-user", f"{MARKER}\n### real plan\n"),
        ]
        assert not [r for r in emu.request_log() if r["method"] == "PATCH"]


def test_replies_and_quotes_of_the_marker_are_not_ours():
    quoted = {"author": "emulator-user", "body": f"> {MARKER}\n> quoted plan"}
    with Emulator(seed([quoted])) as emu:
        assert post(emu, "### plan\n").created


def test_the_comment_is_found_on_a_later_page():
    others = [{"author": "emulator-user", "body": f"note {n}"} for n in range(150)]
    with Emulator(seed(others)) as emu:
        first = post(emu, "### one\n")
        second = post(emu, "### two\n")
        assert second.comment_id == first.comment_id and not second.created
        pages = [r for r in emu.request_log() if r["method"] == "GET" and r["path"] == PATH]
        assert any("page_token=" in r["query"] for r in pages)


def test_a_lost_create_answer_becomes_an_edit_not_a_second_comment():
    with Emulator(seed()) as emu:

        async def go():
            async with build_http_client(parallelism=2) as http:
                client = SourceCraftClient(
                    http, base_url=emu.url, token=Secret(TOKEN.encode()), parallelism=2
                )
                ref = parse_pull_request("acme/infra/42", origin="test")
                # Every answer dropped after the server acted: the POST made the comment.
                emu.configure(drop_rate=1.0)
                with pytest.raises(Exception):
                    await client.request_json("POST", ref.path, body={"body": "x"}, once=True)
                emu.configure(drop_rate=0.0)
                return await upsert_comment(
                    client, ref, marker=MARKER, body=f"{MARKER}\nplan", sleep=_no_wait
                )

        asyncio.run(go())
        # The dropped POST body had no marker: a comment of ours appears exactly once.
        assert [b for _, b in listed(emu) if b.startswith(MARKER)] == [f"{MARKER}\nplan"]
        posts = [r for r in emu.request_log() if r["method"] == "POST"]
        assert len(posts) == 2  # the dropped one, then the real create (never retried blindly)


async def _no_wait(_s: float) -> None:
    return None


def test_a_missing_pull_request_is_an_api_error():
    with Emulator(seed()) as emu:
        target = CommentTarget(
            ref=parse_pull_request("acme/infra/404", origin="x"),
            api_url=emu.url,
            token=Secret(TOKEN.encode()),
            token_env="SOURCECRAFT_TOKEN",
        )
        with pytest.raises(ApiError) as caught:
            post_comment(target, "### plan\n", manifest="secretsync.yaml", artifact=None)
        assert caught.value.status == 404


@pytest.mark.parametrize("text", ["acme/infra", "acme/infra/42/x", "acme//42", "a b/c/1", ""])
def test_a_malformed_pull_request_is_refused(text):
    with pytest.raises(ConfigError, match="ORG/REPO/PR"):
        parse_pull_request(text, origin="--comment-on")


def test_the_fallback_never_takes_a_url_but_the_pipelines():
    ref = parse_pull_request("acme/infra/1", origin="x")
    env = {"SOURCECRAFT_TOKEN": "t0k"}
    assert fallback_target(ref, pipeline_url=None, environ=env).api_url == (
        "https://api.sourcecraft.tech"
    )
    pinned = fallback_target(ref, pipeline_url="http://127.0.0.1:9", environ=env)
    assert pinned.api_url == "http://127.0.0.1:9"
    assert "t0k" not in repr(pinned)
