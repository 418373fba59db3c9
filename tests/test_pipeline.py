"""compute_plan: local values are read while the remote reads are in flight, and nothing a
user sees depends on how the two interleave (which error wins, redaction, the plan itself)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from secretsync import pipeline
from secretsync.emulator import Emulator
from secretsync.errors import AuthError, SourceError
from secretsync.models import Action, RepoInfo, Secret
from secretsync.pipeline import prepare_job, run_plan
from secretsync.settings import JobSettings

TOKEN = "pipeline-token"
REPOS = 24


class RecordingEnviron(Mapping[str, str]):
    """An environment that notes each variable read."""

    def __init__(self, values: dict[str, str], events: list[str]):
        self._values = values
        self._events = events

    def __getitem__(self, name: str) -> str:
        if name.startswith("V_"):
            self._events.append(f"env {name}")
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def value(i: int) -> str:
    return f"value-{i}-3e1d"


@pytest.fixture
def world(tmp_path: Path) -> tuple[Emulator, Path]:
    # Every repo's ONE is stored: equal in even repos, different in odd ones; TWO is new;
    # OLD is stored and not in the manifest (deleted: the group prunes).
    seed = {
        "tokens": [TOKEN],
        "orgs": [
            {
                "slug": "acme",
                "repos": [
                    {
                        "slug": f"r{i:02d}",
                        "secrets": {
                            "default": {
                                "ONE": value(i) if i % 2 == 0 else "stale",
                                "OLD": "x",
                            }
                        },
                    }
                    for i in range(REPOS)
                ],
            }
        ],
    }
    lines = ["version: 1", "repos:"]
    for i in range(REPOS):
        lines += [
            f"  - repo: acme/r{i:02d}",
            "    groups:",
            "      default:",
            "        prune: true",
            "        secrets:",
            f"          ONE: {{env: V_{i}_ONE}}",
            f"          TWO: {{env: V_{i}_TWO}}",
        ]
    manifest = tmp_path / "secretsync.yaml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    emulator = Emulator(seed)
    emulator.start()
    yield emulator, manifest
    emulator.stop()


def environ(token: str = TOKEN) -> dict[str, str]:
    values = {"SOURCECRAFT_TOKEN": token}
    for i in range(REPOS):
        values[f"V_{i}_ONE"] = value(i)
        values[f"V_{i}_TWO"] = f"two-{i}"
    return values


def plan_with(
    manifest: Path, url: str, env: Mapping[str, str], events: list[str], seen: list[Secret]
):
    settings = JobSettings(manifest_path=manifest, pipeline_api_url=url, parallelism=16)
    job = prepare_job(settings, env)

    async def note(request: httpx.Request) -> None:
        events.append(f"request {request.url.path}")

    def factory(parallelism: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(event_hooks={"request": [note]}, timeout=10)

    def on_values(values: list[Secret]) -> None:
        events.append("values")
        seen.extend(values)

    return run_plan(settings, job, on_values=on_values, http_factory=factory)


def test_the_first_request_leaves_before_the_values_are_read(world):
    emulator, manifest = world
    events: list[str] = []
    plan_with(manifest, emulator.url, RecordingEnviron(environ(), events), events, [])
    first_request = next(i for i, e in enumerate(events) if e.startswith("request"))
    last_read = max(i for i, e in enumerate(events) if e.startswith("env"))
    assert first_request < last_read


class InstantClient:
    """Answers without yielding to the event loop: every listing is in before the values of
    most repositories are read, so those groups are planned at the end instead."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator

    async def list_org_repos(self, org: str) -> list[RepoInfo]:
        raise AssertionError("the manifest names every repository")

    async def org_repo_pages(self, org: str, page_size: int):
        yield []  # an org listing without them (as a token limited to some repositories may see)

    async def get_repo(self, slug: str) -> RepoInfo:
        return RepoInfo(repo_id=self.emulator.repo_id(slug), slug=slug)

    async def list_secrets(self, repo_id: str, group: str) -> dict[str, Secret | None]:
        stored = self.emulator.secrets(repo_id, group)
        return {k: None if v is None else Secret(v) for k, v in stored.items()}


def expected_changes() -> list[tuple[str, str, Action]]:
    expected = []
    for i in range(REPOS):
        repo = f"acme/r{i:02d}"
        expected += [
            (repo, "ONE", Action.UNCHANGED if i % 2 == 0 else Action.UPDATE),
            (repo, "TWO", Action.CREATE),
            (repo, "OLD", Action.DELETE),
        ]
    return expected


@pytest.mark.parametrize("instant", [False, True], ids=["values-first", "listings-first"])
def test_the_plan_is_the_same_whichever_side_finishes_first(world, instant, monkeypatch):
    emulator, manifest = world
    seen: list[Secret] = []
    early: list[bool] = []
    read_remote = pipeline.read_remote

    async def spying(manifest, client, *, plan_early, **options):
        def spy(*args):
            planned = plan_early(*args)
            early.append(planned is not None)
            return planned

        if instant:
            client = InstantClient(emulator)
        return await read_remote(manifest, client, plan_early=spy, **options)

    monkeypatch.setattr(pipeline, "read_remote", spying)
    planned = plan_with(manifest, emulator.url, environ(), [], seen)

    assert [(c.repo, c.key, c.action) for c in planned.plan.changes] == expected_changes()
    assert [t.repo for t in planned.plan.targets] == [f"acme/r{i:02d}" for i in range(REPOS)]
    assert [(t.repo, g.name) for t, g in planned.desired] == [
        (f"acme/r{i:02d}", "default") for i in range(REPOS)
    ]
    values = [v.encode() for k, v in environ().items() if k.startswith("V_")]
    assert sorted(s.reveal() for s in seen) == sorted(values)
    # Both ways of planning a group were taken: as its listing arrived, or at the end.
    assert len(early) == REPOS
    assert (early.count(False) > REPOS // 2) if instant else all(early)


def test_a_source_problem_wins_over_a_remote_error_that_came_first(world):
    emulator, manifest = world
    env = environ(token="wrong-token")  # every request fails with 401...
    del env[f"V_{REPOS - 1}_TWO"]  # ...and the last repository's value is missing
    with pytest.raises(SourceError) as caught:
        plan_with(manifest, emulator.url, RecordingEnviron(env, []), [], [])
    assert f"V_{REPOS - 1}_TWO" in str(caught.value)


def test_values_are_known_to_redaction_before_a_remote_error_surfaces(world):
    emulator, manifest = world
    events: list[str] = []
    seen: list[Secret] = []
    with pytest.raises(AuthError):
        plan_with(manifest, emulator.url, environ(token="wrong-token"), events, seen)
    assert "values" in events
    assert len(seen) == 2 * REPOS


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({}, "is not set"),
        ({"SOURCECRAFT_TOKEN": ""}, "is empty"),
        ({"SOURCECRAFT_TOKEN": " "}, "is empty"),
    ],
)
def test_a_missing_token_and_an_empty_one_are_told_apart(environ, said):
    from secretsync.errors import ConfigError
    from secretsync.sourcecraft.endpoint import read_token

    with pytest.raises(ConfigError) as info:
        read_token("SOURCECRAFT_TOKEN", environ)
    assert info.value.message == f"environment variable SOURCECRAFT_TOKEN {said}"
