"""Selection and prune: a filter narrows what is changed, never widens what is deleted.

Each test here was written to kill a mutant that survived scripts/mutation.py."""

from secretsync.models import Action, Plan
from secretsync.plan.planner import Selection, unmatched_filters
from tests.factories import desired, remote, target
from tests.plan.helpers import build_plan


def _deleted(plan: Plan) -> list[tuple[str, str]]:
    return [(c.group, c.key) for c in plan.changes if c.action is Action.DELETE]


def test_group_filter_keeps_prune_out_of_unselected_groups():
    prod, dev = target(group="prod", prune=True), target(group="dev", prune=True)
    listing = {
        (prod.repo_id, "prod"): remote(prod, OLD_P="x"),
        (dev.repo_id, "dev"): remote(dev, OLD_D="x"),
    }
    pairs = [(prod, desired("prod", prune=True)), (dev, desired("dev", prune=True))]
    plan = build_plan(pairs, listing, selection=Selection(groups=("prod",)))
    assert _deleted(plan) == [("prod", "OLD_P")]
    assert [t.group for t in plan.targets] == ["prod"]


def test_wants_target_needs_both_repo_and_group_to_match():
    t = target("acme/api", group="dev")
    assert Selection().wants_target(t)
    assert Selection(repos=("acme/*",)).wants_target(t)
    assert not Selection(groups=("prod",)).wants_target(t)
    assert not Selection(repos=("acme/web",), groups=("dev",)).wants_target(t)
    assert not Selection(repos=("acme/api",), groups=("prod",)).wants_target(t)
    assert Selection(repos=("id:id-acme/api",)).wants_target(t)
    assert Selection(repos=("id-acme/api",)).wants_target(t)  # the bare id


def test_partial_and_describe():
    assert not Selection().partial
    for one in (Selection(repos=("a/b",)), Selection(groups=("g",)), Selection(keys=("K",))):
        assert one.partial
    both = Selection(repos=("a/*",), groups=("g*",), keys=("K",))
    assert both.describe() == ("--repo a/*", "--group g*", "--key K")


def test_unmatched_filters_name_each_glob_that_selected_nothing():
    api, web = target("acme/api", group="prod"), target("acme/web", group="dev")
    plan = build_plan(
        [(api, desired("prod", DB="1"))], {(api.repo_id, "prod"): remote(api, DB="1")}
    )
    everything = Selection(repos=("acme/*",), groups=("prod",), keys=("DB",))
    assert unmatched_filters(everything, [api, web], plan) == []
    typo = Selection(repos=("acme/apj",), groups=("prd",), keys=("D8",))
    assert unmatched_filters(typo, [api, web], plan) == [
        "--repo acme/apj matched no repository of the manifest",
        "--group prd matched no group of the selected repositories",
        "--key D8 matched no key of the selected groups",
    ]
    # a group that exists, but only outside the selected repositories, selects nothing
    elsewhere = Selection(repos=("acme/api",), groups=("dev",))
    assert unmatched_filters(elsewhere, [api, web], plan) == [
        "--group dev matched no group of the selected repositories"
    ]
