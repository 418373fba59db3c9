"""The pull request comment's text: marker first, cut to fit with a note."""

import pytest

from secretsync.report.comment import MAX_COMMENT_CHARS, comment_body, comment_marker


def test_marker_names_the_manifest_and_cannot_break_out_of_the_html_comment():
    assert (
        comment_marker("infra/secretsync.yaml") == "<!-- secretsync plan: infra/secretsync.yaml -->"
    )
    hostile = comment_marker("a --> <img src=x>.yaml")
    assert hostile.count("-->") == 1 and hostile.endswith("-->") and "<img" not in hostile
    assert comment_marker("x" * 500) != comment_marker("x" * 501)


def test_a_short_report_is_kept_whole_under_the_marker():
    body = comment_body("### plan\n\n| a |\n", marker="<!-- m -->", artifact="plan.md")
    assert body == "<!-- m -->\n### plan\n\n| a |\n"


def test_a_long_report_is_cut_at_a_line_with_a_note_naming_the_artifact():
    lines = [f"| row {n} | `KEY_{n}` |" for n in range(5000)]
    body = comment_body("\n".join(lines), marker="<!-- m -->", artifact="plan.md")
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.startswith("<!-- m -->\n| row 0 |")
    kept = [line for line in body.splitlines() if line.startswith("| row")]
    assert kept == lines[: len(kept)]  # whole lines only, in order
    assert f"cut after {len(kept)} of 5000 lines" in body
    assert "the artifact `plan.md`" in body


def test_a_cut_inside_a_code_fence_closes_it():
    text = "> [!CAUTION]\n```\n" + "\n".join(f"error line {n}" for n in range(400))
    body = comment_body(text, marker="<!-- m -->", artifact=None, limit=2000)
    assert body.count("```") % 2 == 0
    assert "--report plan.md" in body  # no artifact: says how to keep one


@pytest.mark.parametrize("artifact", ["plan`.md", "a\nb.md"])
def test_the_artifact_name_cannot_break_the_note(artifact):
    body = comment_body("x\n" * 40000, marker="<!-- m -->", artifact=artifact)
    note = body[body.index("[!WARNING]") :]
    assert note.count("`") == 2 and note.count("\n") == 2
