"""Seeds (YAML and JSON), the state file across restarts, and knob validation."""

import json
from pathlib import Path

import pytest

from secretsync.emulator import Emulator, EmulatorConfig, SeedError, load_seed
from tests.emulator.helpers import SEED, b64, client_for

FIXTURE = Path(__file__).with_name("seed.yaml")


def test_yaml_seed_file(make_emulator):
    emulator = make_emulator(FIXTURE)
    assert emulator.repo_id("acme/backend") == "6f1c2a3b-0000-4000-8000-000000000001"
    assert emulator.secrets("acme/backend") == {
        "API_KEY": b"plain text value",
        "BLOB": b"\x00\x01\x02",
        "EXTERNAL": None,
    }
    assert emulator.secrets("acme/backend", "production") == {"API_KEY": b"prod value"}
    with client_for(emulator, headers={"Authorization": "Bearer fixture-token"}) as c:
        org = c.get("/repos/acme/web").json()["organization"]
    assert org == {"id": "0b0e5a6e-1111-4111-8111-000000000000", "slug": "acme"}


def test_load_seed_reads_yaml_and_json_alike(tmp_path):
    data = load_seed(FIXTURE)
    as_json = tmp_path / "seed.json"
    as_json.write_text(json.dumps(data), encoding="utf-8")
    assert load_seed(as_json) == data
    assert load_seed(str(FIXTURE))["tokens"] == ["fixture-token"]


def test_an_empty_seed_file_is_an_empty_world(tmp_path, make_emulator):
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_seed(empty) == {}
    with client_for(make_emulator(empty)) as c:
        assert c.get("/orgs/acme/repos").status_code == 404


@pytest.mark.parametrize(
    ("seed", "where"),
    [
        ([], "seed: must be a mapping"),
        ({"orgs": {}}, "orgs: must be a list"),
        ({"orgs": [{"slug": "a/b"}]}, "orgs[0].slug"),
        ({"orgs": [{"slug": "a"}, {"slug": "a"}]}, "appears twice"),
        ({"orgs": [{"slug": "a", "repos": [{"slug": "r"}, {"slug": "r"}]}]}, "appears twice"),
        ({"orgs": [{"slug": "a", "repos": [{"slug": "r", "id": "x/y"}]}]}, "orgs[0].repos[0].id"),
        ({"orgs": [{"slug": "a", "repos": [{"slug": "r", "visibility": "secret"}]}]}, "visibility"),
        ({"orgs": [{"slug": "a", "repos": [{"slug": "r", "secrets": {"-g": {}}}]}]}, "group"),
        ({"orgs": [{"slug": "a", "repos": [{"slug": "r", "secrets": {"g": {"1K": "v"}}}]}]}, "key"),
        ({"tokens": [""], "orgs": []}, "tokens"),
        ({"orgs": [], "operations": [{"repo_id": "nope"}]}, "operations[0].repo_id"),
        (
            {
                "orgs": [{"slug": "a", "repos": [{"slug": "r", "id": "r1"}]}],
                "operations": [{"repo_id": "r1", "group": "g", "key": "K", "kind": "patch"}],
            },
            "operations[0].kind",
        ),
    ],
)
def test_malformed_seeds_say_where(seed, where):
    with pytest.raises(SeedError) as info:
        Emulator(seed)
    assert where in str(info.value)


@pytest.mark.parametrize(
    "value", [{"base64": "c2VjcmV0IXZhbHVl!!"}, 12345, True, {"base64": "c2VjcmV0", "x": 1}]
)
def test_a_bad_seed_value_is_reported_without_the_value(tmp_path, value):
    path = tmp_path / "seed.json"
    seed = {"orgs": [{"slug": "a", "repos": [{"slug": "r", "secrets": {"default": {"K": value}}}]}]}
    path.write_text(json.dumps(seed), encoding="utf-8")
    with pytest.raises(SeedError) as info:
        load_seed(path)
    message = str(info.value)
    assert "orgs[0].repos[0].secrets.default.K" in message
    assert str(path) in message
    for fragment in ("c2Vj", "12345", "True"):
        assert fragment not in message


def test_a_too_large_seed_value_is_refused():
    seed = {"orgs": [{"slug": "a", "repos": [{"slug": "r", "secrets": {"d": {"K": "x" * 65537}}}]}]}
    with pytest.raises(SeedError, match="longer than 65536 bytes"):
        Emulator(seed)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "seed.yaml"
    path.write_text("orgs:\n  - slug: a\n    repos: [\n", encoding="utf-8")
    with pytest.raises(SeedError, match=r"seed\.yaml:4:1: invalid YAML"):
        load_seed(path)


def test_invalid_json_and_missing_file(tmp_path):
    broken = tmp_path / "seed.json"
    broken.write_text('{"orgs": [', encoding="utf-8")
    with pytest.raises(SeedError, match=r"seed\.json:1:\d+: invalid JSON"):
        load_seed(broken)
    with pytest.raises(SeedError, match="cannot read"):
        load_seed(tmp_path / "absent.yaml")


def test_the_state_file_survives_a_restart(tmp_path, make_emulator):
    state_file = tmp_path / "state.json"
    first = make_emulator(SEED, state_file=state_file)
    assert state_file.exists()  # written at start, before any change
    with client_for(first) as c:
        c.put("/repos/acme/backend/secrets/NEW", json={"value": b64(b"\xffraw")})
        c.delete("/repos/acme/backend/secrets/BLOB")
        c.put("/repos/acme/web/secrets/K", params={"secret_group": "ci"}, json={"value": ""})
    first.stop()

    text = state_file.read_text(encoding="utf-8")
    assert "plain text value" not in text  # values are stored base64
    assert b64("plain text value") in text
    # The state file wins over the seed it was started from.
    second = make_emulator({"orgs": []}, state_file=state_file)
    assert second.secrets("acme/backend") == {
        "API_KEY": b"plain text value",
        "EXTERNAL": None,
        "NEW": b"\xffraw",
    }
    assert second.secrets("acme/web", "ci") == {"K": b""}
    assert second.secrets("acme/backend", "production") == {"API_KEY": b"prod value"}
    assert second.repo_id("acme/backend") == first.repo_id("acme/backend")
    assert not list(tmp_path.glob(".state.json.*"))  # no temp file left behind


def stored(state_file: Path, repo: str, group: str = "default") -> dict[str, object]:
    """A group's keys as the state file holds them (not the pending operations)."""
    state = json.loads(state_file.read_text(encoding="utf-8"))
    org, slug = repo.split("/")
    (found,) = [
        r for o in state["orgs"] if o["slug"] == org for r in o["repos"] if r["slug"] == slug
    ]
    return found["secrets"].get(group, {})


def test_a_pending_write_reaches_the_state_file_when_it_ends(tmp_path, make_emulator, clock):
    state_file = tmp_path / "state.json"
    emulator = make_emulator(SEED, EmulatorConfig(op_delay_ms=1000), state_file=state_file)
    with client_for(emulator) as c:
        c.put("/repos/acme/web/secrets/LATE", json={"value": b64("late")})
        assert "LATE" not in stored(state_file, "acme/web")
        clock.advance(1)
        c.get("/user")  # any request settles due operations
    assert stored(state_file, "acme/web")["LATE"] == {"base64": b64("late")}


def test_an_unfinished_operation_ends_after_a_restart(tmp_path, make_emulator, clock):
    state_file = tmp_path / "state.json"
    config = EmulatorConfig(op_delay_ms=1000)
    first = make_emulator(SEED, config, state_file=state_file)
    with client_for(first) as c:
        put = c.put("/repos/acme/web/secrets/LATE", json={"value": b64("late")}).json()
        gone = c.delete("/repos/acme/backend/secrets/API_KEY").json()
    first.stop()  # before either operation has ended

    second = make_emulator({"orgs": []}, config, state_file=state_file)
    assert "LATE" not in second.secrets("acme/web")
    with client_for(second) as c:
        assert c.get(f"/operations/secrets/id:{put['operation_id']}").json()["status"] in (
            "scheduled",
            "in_progress",
        )
        clock.advance(1)
        for op in (put, gone):
            assert c.get(f"/operations/secrets/id:{op['operation_id']}").json()["status"] == (
                "success"
            )
    assert second.secrets("acme/web")["LATE"] == b"late"
    assert "API_KEY" not in second.secrets("acme/backend")
    assert second.stats()["operations_created"] == 0  # restored, not created by this run

    third = make_emulator({"orgs": []}, config, state_file=state_file)  # finished ones stay
    with client_for(third) as c:
        assert c.get(f"/operations/secrets/id:{put['operation_id']}").json()["status"] == (
            "success"
        )
    assert third.secrets("acme/web")["LATE"] == b"late"


def test_secrets_helper_and_repo_id_refuse_unknown_repos(emu):
    with pytest.raises(KeyError):
        emu.secrets("acme/nope")
    with pytest.raises(KeyError):
        emu.repo_id("nope")


@pytest.mark.parametrize(
    "knobs",
    [
        {"error_rate": 1.5},
        {"drop_rate": -0.1},
        {"latency_ms": float("nan")},
        {"max_in_flight": 1.5},
        {"max_in_flight": True},
        {"retry_after_s": -1},
        {"random_seed": "7"},
        {"fail_keys": "ABC"},
        {"tokens": [""]},
        {"delete_missing": "maybe"},
    ],
)
def test_bad_knobs_are_refused(knobs):
    with pytest.raises(ValueError, match=next(iter(knobs))):
        EmulatorConfig(**knobs)


def test_knob_overrides_from_json():
    config = EmulatorConfig().with_overrides(
        {"fail_keys": ["A", "B"], "tokens": ["t"], "delete_missing": 404, "max_rps": 5}
    )
    assert config.fail_keys == frozenset({"A", "B"})
    assert config.tokens == ("t",)
    assert (config.delete_missing, config.max_rps) == ("404", 5)
    with pytest.raises(ValueError, match="unknown knob"):
        config.with_overrides({"latency": 1})
