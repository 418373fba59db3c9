from secretsync.models import Action
from secretsync.plan.planner import Selection
from tests.factories import desired, remote, target
from tests.plan.helpers import build_plan


def actions(plan):
    return [(c.repo, c.group, c.key, c.action) for c in plan.changes]


def test_create_update_unchanged_compare_bytes_exactly():
    t = target()
    plan = build_plan(
        [(t, desired(A="new", B="same", C="changed"))],
        {(t.repo_id, t.group): remote(t, B="same", C="changed\n")},
    )
    assert actions(plan) == [
        ("acme/backend", "default", "A", Action.CREATE),
        ("acme/backend", "default", "B", Action.UNCHANGED),
        ("acme/backend", "default", "C", Action.UPDATE),
    ]
    assert plan.has_changes
    # only create/update carry the value to send
    assert [c.value is not None for c in plan.changes] == [True, False, True]


def test_unmanaged_keys_are_deleted_only_where_prune_is_on():
    keep, prune = target(group="default"), target(group="production", prune=True)
    plan = build_plan(
        [(keep, desired(A="1")), (prune, desired("production", prune=True, A="1"))],
        {
            (keep.repo_id, "default"): remote(keep, A="1", EXTRA="x"),
            (prune.repo_id, "production"): remote(prune, A="1", Z_OLD="x", B_OLD="y"),
        },
    )
    assert actions(plan) == [
        ("acme/backend", "default", "A", Action.UNCHANGED),
        ("acme/backend", "production", "A", Action.UNCHANGED),
        ("acme/backend", "production", "B_OLD", Action.DELETE),
        ("acme/backend", "production", "Z_OLD", Action.DELETE),
    ]
    assert all(c.source is None for c in plan.changes if c.action is Action.DELETE)


def test_value_less_entry_is_unknown_not_empty_and_left_alone_unless_asked():
    t = target(prune=True)
    listing = {(t.repo_id, t.group): remote(t, A=None, GONE=None)}
    plan = build_plan([(t, desired(A=""))], listing)
    assert actions(plan)[0][3] is Action.UNKNOWN
    assert plan.changes[0].value is None
    assert "A is stored without a readable value" in plan.warnings[0]
    # an unknown unmanaged key in a pruned group is still deleted: its value doesn't matter
    assert actions(plan)[1][2:] == ("GONE", Action.DELETE)
    forced = build_plan([(t, desired(A=""))], listing, overwrite_unknown=True)
    assert forced.changes[0].action is Action.UPDATE
    assert forced.changes[0].value is not None


def test_no_changes_when_converged():
    t = target(prune=True)
    plan = build_plan([(t, desired(A="1", B="2"))], {(t.repo_id, t.group): remote(t, A="1", B="2")})
    assert not plan.has_changes
    assert plan.count(Action.UNCHANGED) == 2


def test_selection_narrows_targets_and_keys_and_marks_partial():
    a, b = target("acme/api"), target("acme/web")
    listing = {(a.repo_id, "default"): remote(a), (b.repo_id, "default"): remote(b)}
    pairs = [(a, desired(DB="1", API_KEY="2")), (b, desired(DB="1"))]
    plan = build_plan(pairs, listing, selection=Selection(repos=("acme/a*",), keys=("API_*",)))
    assert actions(plan) == [("acme/api", "default", "API_KEY", Action.CREATE)]
    assert plan.partial
    assert plan.filters == ("--repo acme/a*", "--key API_*")
    assert [t.repo for t in plan.targets] == ["acme/api"]


def test_selection_by_repo_id_form():
    a = target("id:1234", repo_id="1234")
    listing = {("1234", "default"): remote(a)}
    plan = build_plan([(a, desired(K="v"))], listing, selection=Selection(repos=("id:12*",)))
    assert len(plan.changes) == 1


def test_key_selection_limits_deletions_too():
    t = target(prune=True)
    listing = {(t.repo_id, t.group): remote(t, OLD_A="1", OTHER="2")}
    plan = build_plan([(t, desired())], listing, selection=Selection(keys=("OLD_*",)))
    assert actions(plan) == [("acme/backend", "default", "OLD_A", Action.DELETE)]


def test_plan_repr_never_shows_values():
    t = target()
    plan = build_plan(
        [(t, desired(A="s3cr3t-value"))], {(t.repo_id, t.group): remote(t, A="other-v4lue")}
    )
    assert "s3cr3t-value" not in repr(plan)
    assert "other-v4lue" not in repr(plan)
    assert repr(plan) == "Plan(1 changes, 1 targets)"
    assert "Secret(***)" in repr(plan.changes[0])
