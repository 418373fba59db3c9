"""Terminal niceties: the progress bar shows only on a terminal and not with --quiet;
colour follows --color/--no-color, NO_COLOR and the terminal."""

import io
import sys

from secretsync.cli.output import wants_color
from secretsync.cli.prompt import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    bar = Progress(3, enabled=True)
    for _ in range(3):
        bar.step()
    bar.close()
    assert "applying" in screen.getvalue()
    assert "3/3" in screen.getvalue()


def test_no_progress_bar_off_a_terminal_or_when_quiet(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    for enabled in (True, False):
        bar = Progress(3, enabled=enabled)
        bar.step()
        bar.close()
    assert pipe.getvalue() == ""
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    Progress(3, enabled=False).close()  # --quiet
    assert screen.getvalue() == ""


def test_colour_choice(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_color(Terminal(), None) is True
    assert wants_color(io.StringIO(), None) is False
    assert wants_color(io.StringIO(), True) is True
    assert wants_color(Terminal(), False) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_color(Terminal(), None) is False


def test_server_error_messages_are_masked_before_they_reach_a_report():
    from secretsync.cli.output import REDACT, masked_errors
    from secretsync.models import Action, ApplyResult, ErrorInfo, Outcome, Secret
    from tests.factories import change, plan_of

    REDACT.add([Secret(b"echoed-by-server-77c1")])
    c = change("K", Action.CREATE, value="echoed-by-server-77c1")
    failed = Outcome(
        change=c,
        status="failed",
        error=ErrorInfo(
            error_code="ValidationError", message="value 'echoed-by-server-77c1' is too long"
        ),
    )
    masked = masked_errors(ApplyResult(plan=plan_of(c), outcomes=(failed,)))
    assert masked.outcomes[0].error.message == "value '***' is too long"
    assert masked.outcomes[0].error.error_code == "ValidationError"


def test_a_report_that_cannot_be_written_is_an_error_after_the_result_is_printed(
    tmp_path, monkeypatch, capsys
):
    import secretsync.safefile
    from secretsync.cli.output import emit
    from secretsync.models import Action
    from tests.factories import change, plan_of

    def full_disk(path, text):
        if path.name == "bad.json":
            raise OSError(28, "No space left on device")
        path.write_text(text)

    monkeypatch.setattr(secretsync.safefile, "write_atomically", full_disk)
    plan = plan_of(change("K", Action.CREATE, value="v"))
    reports = (tmp_path / "bad.json", tmp_path / "good.md")
    written = emit(
        "plan", plan, None, fmt="text", quiet=True, verbose=False, color=False, reports=reports
    )
    assert written is False
    captured = capsys.readouterr()
    assert captured.out.startswith("Plan: 1 to create")
    assert f"error: cannot write the report {tmp_path}/bad.json: No space left on device" in (
        captured.err
    )
    assert (tmp_path / "good.md").exists()  # the other reports are still written
