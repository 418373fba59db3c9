"""plan_group's defaults are the safe ones (mutants of plan/planner.py that scripts/mutation.py
found unwatched): a caller that says nothing never overwrites what it cannot read."""

from secretsync.models import Action
from secretsync.plan.planner import plan_group
from tests.factories import desired, remote, target


def test_a_stored_key_without_a_readable_value_is_left_alone_unless_asked():
    t = target()
    listing = remote(t, DB=None).secrets  # listed, but the API gave no value
    part = plan_group(t, desired(DB="new"), listing)
    assert [(c.key, c.action, c.value) for c in part.changes] == [("DB", Action.UNKNOWN, None)]
    assert part.warnings == (
        "acme/backend group default: DB is stored without a readable value; left alone "
        "(use --overwrite-unknown to replace it)",
    )
    asked = plan_group(t, desired(DB="new"), listing, overwrite_unknown=True)
    assert [(c.key, c.action) for c in asked.changes] == [("DB", Action.UPDATE)]
    assert asked.warnings == ()
