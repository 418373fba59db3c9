import json

from secretsync.models import Action, ApplyResult, ErrorInfo, Outcome
from secretsync.report.json_report import build_report, render_failure, render_json
from secretsync.report.markdown_report import render_markdown
from secretsync.report.text_report import render_text
from tests.factories import change, plan_of, target


def sample_plan():
    prod = target(group="production", prune=True)
    return plan_of(
        change("A", Action.CREATE, value="v-a"),
        change("B", Action.UPDATE, value="v-b"),
        change("C", Action.UNCHANGED),
        change("OLD", Action.DELETE, t=prod),
        targets=(target(), prod),
    )


def test_json_report_has_the_contract_fields():
    report = json.loads(render_json("plan", sample_plan()))
    assert report["command"] == "plan"
    assert report["summary"] == {
        "create": 1,
        "update": 1,
        "delete": 1,
        "unchanged": 1,
        "unknown": 0,
        "failed": 0,
    }
    assert report["changes"][0] == {
        "repo": "acme/backend",
        "repo_id": "id-acme/backend",
        "group": "default",
        "key": "A",
        "action": "create",
        "source": "env:A_SRC",
        "status": "planned",
        "operation_id": None,
        "error": None,
    }
    assert report["changes"][3]["source"] is None
    assert report["partial"] is False


def test_apply_report_carries_status_operation_and_error():
    plan = sample_plan()
    outcomes = (
        Outcome(change=plan.changes[0], status="success", operation_id="op-1"),
        Outcome(
            change=plan.changes[1],
            status="failed",
            operation_id="op-2",
            error=ErrorInfo(error_code="FailedPrecondition", message="nope"),
        ),
        Outcome(change=plan.changes[2], status="success"),
        Outcome(change=plan.changes[3], status="success", operation_id="op-4"),
    )
    report = build_report("apply", plan, ApplyResult(plan=plan, outcomes=outcomes))
    assert report["summary"]["failed"] == 1
    assert report["changes"][1]["error"] == {"error_code": "FailedPrecondition", "message": "nope"}
    assert report["changes"][1]["status"] == "failed"
    assert report["changes"][0]["operation_id"] == "op-1"


def test_reports_never_hold_values():
    plan = sample_plan()
    for text in (
        render_json("plan", plan),
        render_markdown("plan", plan),
        render_text("plan", plan, verbose=True),
    ):
        assert "v-a" not in text and "v-b" not in text


def test_text_plan_is_terraform_like_and_lists_deletions_apart():
    text = render_text("plan", sample_plan())
    lines = text.splitlines()
    assert lines[0] == "acme/backend · default"
    assert lines[1].startswith("  + A ") and lines[1].endswith("env:A_SRC")
    assert lines[2].startswith("  ~ B ")
    assert "    (1 unchanged)" in lines
    assert "Deletions (prune: on):" in lines
    assert "  - acme/backend · production · OLD" in lines
    assert "warning: 1 secret(s) will be deleted because prune is on." in lines
    assert lines[-1] == "Plan: 1 to create, 1 to update, 1 to delete, 1 unchanged."
    assert "\x1b[" not in text


def test_text_colours_only_when_asked():
    assert "\x1b[32m+\x1b[0m" in render_text("plan", sample_plan(), color=True)


def test_no_changes_summary():
    plan = plan_of(change("C", Action.UNCHANGED))
    assert render_text("plan", plan).splitlines()[-1] == "No changes. 1 secret(s) up to date."


def test_markdown_totals_first_deletions_called_out_one_section_per_repo():
    md = render_markdown("plan", sample_plan())
    lines = md.splitlines()
    assert lines[0] == "### secretsync plan"
    assert lines[2].startswith("**1** to create, **1** to update, **1** to delete, 1 unchanged")
    assert "> [!WARNING]" in md and "`OLD`" in md
    assert md.count("<details") == 1  # one repository
    assert "`env:A_SRC`" in md


def test_markdown_cells_survive_pipes_and_backticks():
    from secretsync.report.markdown_report import _code

    assert _code("file:a|b.txt") == "`file:a\\|b.txt`"
    assert _code("file:we`ird") == "`` file:we`ird ``"


def test_markdown_collapses_sections_when_many_repos_change():
    many = [change("K", Action.CREATE, t=target(f"acme/r{i}"), value="v") for i in range(11)]
    md = render_markdown("plan", plan_of(*many))
    assert md.count("<details>") == 11 and "<details open>" not in md
    few = render_markdown("plan", plan_of(*many[:3]))
    assert few.count("<details open>") == 3


def test_json_reports_match_the_published_schema():
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads(
        resources.files("secretsync.schemas").joinpath("report.schema.json").read_text()
    )
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    plan = sample_plan()
    outcomes = tuple(
        Outcome(
            change=c,
            status="failed" if i == 1 else "success",
            operation_id=f"op-{i}",
            error=ErrorInfo(error_code="X", message="m") if i == 1 else None,
        )
        for i, c in enumerate(plan.changes)
    )
    for report in (
        build_report("plan", plan),
        build_report("apply", plan, ApplyResult(plan=plan, outcomes=outcomes)),
        json.loads(render_failure("plan", ["error: x", "hint: y"], markdown=False)),
    ):
        assert list(validator.iter_errors(report)) == []
    broken = build_report("plan", plan)
    broken["changes"][0]["action"] = "rename"
    assert list(validator.iter_errors(broken))


def test_names_from_the_api_or_a_pull_request_cannot_inject_markup_or_escapes():
    # The API's key names are not checked by the manifest (deletions list what is stored),
    # and paths come from the pull request under review.
    from secretsync.models import Change, Plan, Target

    def delete(key: str) -> Change:
        return Change(
            repo="acme/app", repo_id="r1", group="default", key=key, action=Action.DELETE,
            source=None,
        )  # fmt: skip

    created = Change(
        repo="acme/app", repo_id="r1", group="default", key="K", action=Action.CREATE,
        source="file:a`` <img src=y> **No changes** ``",
    )  # fmt: skip
    changes = (delete("C\x1b[2J\x1b]0;pwned\x07"), delete("B`\n\n<img src=x>\n`"), created)
    target = Target(repo="acme/app", repo_id="r1", group="default", prune=True)
    plan = Plan(changes=changes, targets=(target,))

    text = render_text("plan", plan, color=False)
    assert "\x1b" not in text and "\x07" not in text
    assert "C\\x1b[2J\\x1b]0;pwned\\x07" in text  # shown, escaped, on one line

    markdown = render_markdown("plan", plan)
    # Each name is one code span whose fence is longer than any backtick run inside it.
    assert "`` B`\\x0a\\x0a<img src=x>\\x0a` ``" in markdown
    assert "``` file:a`` <img src=y> **No changes** `` ```" in markdown
    assert "\n<img" not in markdown


def test_apply_markdown_counts_what_happened_not_what_was_planned():
    t = target()
    created = change("A", Action.CREATE, t=t, value="a")
    failed_change = change("B", Action.CREATE, t=t, value="b")
    same = change("C", Action.UNCHANGED, t=t)
    result = ApplyResult(
        plan=plan_of(created, failed_change, same),
        outcomes=(
            Outcome(change=created, status="success", operation_id="op-1"),
            Outcome(
                change=failed_change,
                status="failed",
                operation_id="op-2",
                error=ErrorInfo(error_code="Failed", message="boom"),
            ),
            Outcome(change=same, status="success"),
        ),
    )
    markdown = render_markdown("apply", result.plan, result)
    assert "**1** created, **0** updated, **0** deleted, 1 unchanged, **1** failed." in markdown
    unchanged_row = next(line for line in markdown.splitlines() if "`C`" in line)
    assert unchanged_row.endswith("| – |")
