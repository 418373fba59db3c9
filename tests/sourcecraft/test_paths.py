"""Names from the API are data, never paths.

A key the API lists is only ever put in a URL when it is a valid secret name; anything else is
reported and left alone, even in a pruned group. What a server receives is checked on the
wire, by a server that records each request line as it arrives, through secretsync's own
transport and through httpx's (the one used when a proxy variable is set).
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from secretsync.errors import ApiError, ConfigError
from secretsync.http.client import build_http_client
from secretsync.models import Action, OperationInfo, Secret, Target
from secretsync.plan.planner import join_plan, plan_group
from secretsync.report.json_report import build_report
from secretsync.report.markdown_report import render_markdown
from secretsync.sourcecraft import paths
from secretsync.sourcecraft.client import SourceCraftClient
from tests.factories import desired
from tests.hostile import (
    MANIFEST,
    REPO_ID,
    FakeSourceCraft,
    HostileServer,
    json_answer,
    run_cli,
)

HOSTILE_KEYS = ["..", ".", "a/b", "..%2F", "%2e%2e", "a b", "", "K\n", "ÄPFEL", "K?x=1", "K#f"]
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def client_for(http: httpx.AsyncClient, url: str) -> SourceCraftClient:
    return SourceCraftClient(http, base_url=url, token=Secret(b"tok"))


# ---------------------------------------------------------------------------- the builder


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_a_key_that_is_not_a_valid_name_never_becomes_a_path(key):
    with pytest.raises(ConfigError, match="not a valid secret name"):
        paths.secret(REPO_ID, key)


@pytest.mark.parametrize("repo_id", ["..", ".", "a/b", "x/../y", "", "%2e", "id:x", "a?b"])
def test_an_id_that_is_not_plain_never_becomes_a_path(repo_id):
    with pytest.raises(ConfigError):
        paths.secrets(repo_id)
    with pytest.raises(ConfigError):
        paths.operation(repo_id)


def test_valid_names_make_exactly_the_documented_paths():
    assert paths.secret(REPO_ID, "DB_URL") == f"/repos/id:{REPO_ID}/secrets/DB_URL"
    assert paths.secrets(REPO_ID) == f"/repos/id:{REPO_ID}/secrets"
    assert paths.repo("acme", "my.repo-1") == "/repos/acme/my.repo-1"
    assert paths.org_repos("acme") == "/orgs/acme/repos"
    assert paths.operation("op-1") == "/operations/secrets/id:op-1"


@pytest.mark.parametrize(
    "build",
    [
        lambda: paths.repo("acme", "a/b"),
        lambda: paths.repo("..", "app"),
        lambda: paths.org_repos(".."),
    ],
)
def test_slugs_that_are_not_plain_never_become_paths(build):  # comments: test_comment_paths
    with pytest.raises(ConfigError, match="it is never sent in a URL"):
        build()


# ---------------------------------------------------------------------------- on the wire


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_the_client_sends_nothing_for_a_hostile_key(key):
    async def main(url):
        async with build_http_client(parallelism=2) as http:
            client = client_for(http, url)
            with pytest.raises(ConfigError):
                await client.delete_secret(REPO_ID, "default", key)
            with pytest.raises(ConfigError):
                await client.put_secret(REPO_ID, "default", key, Secret(b"v"))

    with HostileServer(FakeSourceCraft({})) as server:
        asyncio.run(main(server.url))
    assert server.seen == []


def test_a_repository_id_from_the_api_that_is_not_plain_is_a_malformed_answer():
    def answers(seen):
        return json_answer(200, {"id": "../..", "slug": "app", "organization": {"slug": "a"}})

    async def main(url):
        async with build_http_client(parallelism=2) as http:
            return await client_for(http, url).get_repo("acme/app")

    with HostileServer(answers) as server, pytest.raises(ApiError) as caught:
        asyncio.run(main(server.url))
    assert caught.value.error_code == "MalformedResponse"
    assert server.lines == ["GET /repos/acme/app HTTP/1.1"]


@pytest.mark.parametrize(
    ("status_url", "polled"),
    [
        # odd or foreign: the documented path, built from the id
        ("/operations/secrets/id:op-1/../../repos/id:x/secrets", None),
        ("/operations/./secrets/id:op-1", None),
        ("/operations/secrets/id:op-1/%2e%2e/x", None),
        ("/ops/op-1/", None),
        ("/ops//op-1", None),
        ("?x=1", None),
        ("{origin}?x=1", None),
        ("/ops/op-1#fragment", None),
        ("//evil.test/ops/op-1", None),
        ("//127.0.0.1:{port}/ops/op-1", None),  # no scheme: not the API's origin
        ("http:/ops/op-1", None),  # no host: not the API's origin
        ("https://127.0.0.1:{port}/ops/op-1", None),
        # plain, on the API's origin: followed as written
        ("{origin}/ops/op-1?wait=1", "/ops/op-1?wait=1"),
        ("/ops/op-1", "/ops/op-1"),
        ("ops/op-1", "/ops/op-1"),
    ],
)
def test_a_status_url_is_followed_only_when_plain_and_on_the_api_origin(status_url, polled):
    def answers(seen):
        return json_answer(200, {"operation_id": "op-1", "status": "success"})

    async def main(url):
        async with build_http_client(parallelism=2) as http:
            odd = status_url.format(origin=url, port=url.rpartition(":")[2])
            op = OperationInfo(operation_id="op-1", status="scheduled", status_url=odd)
            return await client_for(http, url).get_operation(op)

    with HostileServer(answers) as server:
        assert asyncio.run(main(server.url)).status == "success"
    assert server.lines == [f"GET {polled or '/operations/secrets/id:op-1'} HTTP/1.1"]


def test_a_status_url_on_the_default_port_is_the_api_origin(httpx_mock):
    httpx_mock.add_response(
        url="http://localhost/ops/op-1", json={"operation_id": "op-1", "status": "success"}
    )

    async def main():
        async with httpx.AsyncClient() as http:
            op = OperationInfo(
                operation_id="op-1", status="scheduled", status_url="http://localhost/ops/op-1"
            )
            return await client_for(http, "http://localhost").get_operation(op)

    assert asyncio.run(main()).status == "success"


def apply_against_a_hostile_listing(tmp_path, **env):
    listed = dict.fromkeys(HOSTILE_KEYS, "x") | {"OLD": "x", "KEEP": "kept"}
    api = FakeSourceCraft({"default": listed})
    (tmp_path / "secretsync.yaml").write_text(MANIFEST)
    with HostileServer(api) as server:
        proxy = {name: server.url for name in ("HTTP_PROXY",) if name in env}
        result = run_cli(
            tmp_path,
            "apply",
            "--yes",
            "--max-deletes",
            "100",
            "--report",
            "apply.json",
            api_url=server.url,
            **proxy,
        )
    return server, result


@pytest.mark.parametrize(
    "transport", [pytest.param({}, id="lean"), pytest.param({"HTTP_PROXY": "1"}, id="httpx")]
)
def test_apply_with_prune_touches_only_valid_names_and_reports_the_rest(tmp_path, transport):
    server, result = apply_against_a_hostile_listing(tmp_path, **transport)
    assert result.returncode == 0, result.stderr
    prefix = server.url if transport else ""  # a proxy is sent the absolute form
    assert server.lines == [
        f"GET {prefix}/repos/acme/app HTTP/1.1",
        f"GET {prefix}/repos/id:{REPO_ID}/secrets?secret_group=default HTTP/1.1",
        f"DELETE {prefix}/repos/id:{REPO_ID}/secrets/OLD?secret_group=default HTTP/1.1",
    ]
    report = json.loads((tmp_path / "apply.json").read_text())
    assert [c["key"] for c in report["changes"]] == ["KEEP", "OLD"]
    ignored = report["ignored_keys"]
    assert sorted(entry["key"] for entry in ignored) == sorted(HOSTILE_KEYS)
    assert {(e["repo"], e["repo_id"], e["group"]) for e in ignored} == {
        ("acme/app", REPO_ID, "default")
    }
    assert report["summary"]["ignored"] == len(HOSTILE_KEYS)
    shown = result.stdout + result.stderr
    assert "warning: acme/app group default: the API lists 11 keys that are not valid" in shown
    assert "\x1b" not in shown


# ---------------------------------------------------------------------------- the report


def plan_with_listing(keys):
    target = Target(repo="acme/app", repo_id=REPO_ID, group="default", prune=True)
    stored = dict.fromkeys(keys, Secret(b"x"))
    return join_plan([plan_group(target, desired(prune=True, KEEP="x"), stored)])


def test_the_planner_never_deletes_an_invalid_listed_key_and_warns_once_per_group():
    plan = plan_with_listing(["..", "a/b", "OLD", "KEEP", "\x1b[31mred", "-" + "x" * 299])
    assert [(c.key, c.action) for c in plan.changes] == [
        ("KEEP", Action.UNCHANGED),
        ("OLD", Action.DELETE),
    ]
    assert [i.key for i in plan.ignored] == ["..", "a/b", "\x1b[31mred", "-" + "x" * 299]
    (warning,) = plan.warnings
    assert warning.startswith("acme/app group default: the API lists 4 keys that are not valid")
    assert "\x1b" not in warning and "-" + "x" * 299 not in warning


def test_reports_show_ignored_keys_escaped_and_bounded():
    hostile = ["`</code><script>", "\x1b[31mred", "-" + "x" * 299, *(f"k-{n}" for n in range(150))]
    plan = plan_with_listing(hostile)
    document = build_report("plan", plan)
    assert document["summary"]["ignored"] == len(hostile)
    assert len(document["ignored_keys"]) == 100
    assert document["ignored_keys"][2]["key"] == "-" + "x" * 196 + "..."
    markdown = render_markdown("plan", plan)
    assert "\x1b" not in markdown
    assert "`` `</code><script> ``" in markdown  # a code span no backtick in the key can close
    assert f"{len(hostile)} listed key(s) are not valid secret names" in markdown
    assert "> - and 53 more" in markdown
