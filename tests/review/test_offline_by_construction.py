"""plan --base is offline by construction: nothing the structural plan imports, directly or
through another module, can build an HTTP client or reach the SourceCraft client."""

from __future__ import annotations

from tests.test_architecture import INNER, OUTER_PACKAGES


def reach(start: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += INNER.get(module, ())
    return seen


def test_the_structural_plan_reaches_no_network_code():
    roots = {m for m in INNER if m.startswith(("review", "cli.base_plan", "report.structural"))}
    assert {"review.compare", "review.gitrev", "cli.base_plan"} <= roots
    reached = reach(roots)
    network = {m for m in reached if m.startswith(("http", "sourcecraft.client", "pipeline"))}
    assert network == set()
    assert not {p for m in reached for p in OUTER_PACKAGES.get(m, ()) if p in ("httpx", "h11")}
