"""The CI and code-review recipes (examples/ci, .pre-commit-hooks.yaml, docs/ci.md) stay true to
the CLI: every `secretsync ...` they show is a real command with real options, pull-request
jobs pass on "changes pending", apply jobs fail on errors, and no token is ever written down.

The shell tests run the recipes' own script lines with `secretsync` and `pip` replaced by stubs,
so they prove what the CI system would see without installing anything or touching a network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from secretsync.cli import secretsync

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
SOURCECRAFT = CI / "sourcecraft-ci.yaml"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
PRECOMMIT_EXAMPLE = CI / "pre-commit-config.yaml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
DOCS = ROOT / "docs" / "ci.md"

CI_RECIPES = [SOURCECRAFT, GITHUB, GITLAB]
YAML_FILES = [*CI_RECIPES, PRECOMMIT_EXAMPLE, HOOKS]

# `secretsync <command> <rest>` where secretsync starts a shell command: at the start of a line
# (after YAML/comment punctuation), after a backtick, quote, `(`, a shell operator or `key: `.
# Prose such as "the secretsync repository" is not an invocation.
INVOCATION = re.compile(
    r"(?:^|[`(|&;\"']|:[ \t])[ \t#>\-]*secretsync[ \t]+(?P<cmd>[a-z][\w-]*)(?P<rest>[^\n`|;&)]*)",
    re.MULTILINE,
)
FLAG = re.compile(r"(?:(?<=\s)|^)(--?[A-Za-z][\w-]*)")
PENDING_IS_SUCCESS = re.compile(r"\|\|\s*\[\s*\$\?\s*-eq\s*2\s*\]")
SECRET_REFERENCE = re.compile(r"^(\$\{\{\s*(secrets\.\w+|github\.token)\s*\}\}|\$\w+)$")
TOKEN_LITERALS = re.compile(r"ghp_|gho_|ghs_|github_pat_|glpat-|Bearer\s|Authorization:")
TOKEN_EXPANSION = re.compile(r"\$\{?\w*TOKEN\b")


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def mappings(node: Any) -> Iterator[dict[Any, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from mappings(value)
    elif isinstance(node, list):
        for item in node:
            yield from mappings(item)


def markdown_code(text: str) -> str:
    """Fenced blocks and inline code spans of a Markdown file: where commands are shown."""
    fences = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    spans = re.findall(r"`([^`\n]+)`", prose)
    return "\n".join([*fences, *(f"`{span}`" for span in spans)])


def invocations(text: str) -> list[tuple[str, list[str]]]:
    text = text.replace("\\\n", " ")  # shell line continuations
    return [(m["cmd"], FLAG.findall(m["rest"])) for m in INVOCATION.finditer(text)]


def recipe_invocations(path: Path) -> list[tuple[str, list[str]]]:
    if path.suffix == ".md":
        return invocations(markdown_code(path.read_text(encoding="utf-8")))
    found = invocations(path.read_text(encoding="utf-8"))  # comments too
    for value in strings(load(path)):  # folded and quoted scalars, as the CI system reads them
        found += invocations(value)
    return found


def options_of(name: str) -> set[str]:
    command = secretsync.commands[name]
    names: set[str] = set()
    for param in command.get_params(click.Context(command)):  # includes -h/--help
        if isinstance(param, click.Option):
            names.update(param.opts, param.secondary_opts)
    return names


# --- which shell each recipe runs, job by job -------------------------------------------------


def shell_units(path: Path) -> dict[str, list[str]]:
    """Job name -> the shell scripts the CI system runs for it, in order; each must succeed."""
    doc = load(path)
    jobs: dict[str, list[str]] = {}
    if path == SOURCECRAFT:
        for workflow_name, workflow in doc["workflows"].items():
            for task in workflow["tasks"]:
                for cube in task["cubes"]:
                    jobs[f"{workflow_name}/{task['name']}/{cube['name']}"] = list(cube["script"])
    elif path == GITHUB:
        for job_name, job in doc["jobs"].items():
            jobs[job_name] = [step["run"] for step in job["steps"] if "run" in step]
    elif path == GITLAB:
        for job_name, job in doc.items():
            if job_name.startswith(".") or not isinstance(job, dict) or "script" not in job:
                continue
            base = doc[job["extends"]] if "extends" in job else {}
            before = job.get("before_script", base.get("before_script", []))
            jobs[job_name] = [*before, *job["script"]]
    return jobs


def job_running(path: Path, command: str) -> tuple[str, list[str]]:
    matches = [
        (name, units)
        for name, units in shell_units(path).items()
        if any(cmd == command for unit in units for cmd, _ in invocations(unit))
    ]
    assert len(matches) == 1, f"{path.name}: expected one job running `secretsync {command}`"
    return matches[0]


@pytest.fixture(scope="module")
def stub_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`secretsync` exits with $STUB_<COMMAND>_EXIT (0 by default); `pip` always succeeds."""
    bin_dir = tmp_path_factory.mktemp("stub-bin")
    (bin_dir / "secretsync").write_text(
        '#!/bin/sh\necho "secretsync $*" >> "$STUB_LOG"\n'
        "command=$1\n"
        # Like the real thing, write every --report and --out file, even when failing.
        "while [ $# -gt 0 ]; do\n"
        '  case "$1" in --report|--out) : > "$2"; shift ;; esac\n'
        "  shift\n"
        "done\n"
        'case "$command" in\n'
        '  plan) exit "${STUB_PLAN_EXIT:-0}" ;;\n'
        '  apply) exit "${STUB_APPLY_EXIT:-0}" ;;\n'
        '  validate) exit "${STUB_VALIDATE_EXIT:-0}" ;;\n'
        "esac\nexit 0\n"
    )
    (bin_dir / "pip").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "gh").write_text('#!/bin/sh\necho "gh $*" >> "$STUB_LOG"\n')
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    return bin_dir


def run_job(units: list[str], stub_bin: Path, tmp_path: Path, **exits: int) -> tuple[int, str]:
    """Run the units like a CI runner: each under `sh -e`, stopping at the first failure."""
    log = tmp_path / "calls.log"
    log.write_text("")
    env = {
        "PATH": f"{stub_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "STUB_LOG": str(log),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_REPOSITORY": "acme/secrets",
        **{f"STUB_{name.upper()}_EXIT": str(code) for name, code in exits.items()},
    }
    sh = shutil.which("sh")
    assert sh is not None
    for unit in units:
        status = subprocess.run([sh, "-e", "-c", unit], env=env, cwd=tmp_path, check=False)
        if status.returncode != 0:
            return status.returncode, log.read_text()
    return 0, log.read_text()


# --- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_recipe_parses_as_yaml(path: Path) -> None:
    assert load(path)


@pytest.mark.parametrize("path", [*CI_RECIPES, HOOKS, DOCS], ids=lambda p: p.name)
def test_recipe_uses_only_real_subcommands_and_options(path: Path) -> None:
    found = recipe_invocations(path)
    assert found, f"{path.name} shows no secretsync command"
    wrong = []
    for command, flags in found:
        if command not in secretsync.commands:
            wrong.append(f"`secretsync {command}`: no such command")
            continue
        known = options_of(command)
        wrong += [
            f"`secretsync {command} {flag}`: no such option" for flag in flags if flag not in known
        ]
    assert not wrong, f"{path.name}: " + "; ".join(sorted(set(wrong)))


def test_invocation_scanner_catches_unknown_commands_and_options() -> None:
    # The check above is only as good as the scanner: prove it sees what it must.
    found = invocations(
        "script:\n  - secretsync plan --detailed-exitcode \\\n      --bogus || [ $? -eq 2 ]\n"
        "# run `secretsync destroy --all` by hand\nthe secretsync repository\n"
    )
    assert found == [("plan", ["--detailed-exitcode", "--bogus"]), ("destroy", ["--all"])]
    assert "--bogus" not in options_of("plan")
    assert {"--no-env", "-f", "--file", "--help"} <= options_of("validate")


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_pull_request_job_validates_plans_and_treats_pending_changes_as_success(
    path: Path, stub_bin: Path, tmp_path: Path
) -> None:
    name, units = job_running(path, "plan")
    plan_lines = [
        line
        for unit in units
        for line in unit.replace("\\\n", " ").splitlines()  # a continued line is one line
        if any(cmd == "plan" for cmd, _ in invocations(line))
    ]
    assert plan_lines
    assert all("--detailed-exitcode" in line for line in plan_lines)
    assert all(PENDING_IS_SUCCESS.search(line) for line in plan_lines), plan_lines

    assert run_job(units, stub_bin, tmp_path, plan=0)[0] == 0, f"{name}: no changes must pass"
    code, calls = run_job(units, stub_bin, tmp_path, plan=2)
    assert code == 0, f"{name}: pending changes (exit 2) must pass"
    commands = [line.split()[1] for line in calls.splitlines() if line.startswith("secretsync ")]
    assert commands == ["validate", "plan"]
    assert "--report plan.md" in calls
    assert run_job(units, stub_bin, tmp_path, plan=1)[0] != 0, f"{name}: an error must fail"
    assert run_job(units, stub_bin, tmp_path, plan=64)[0] != 0, f"{name}: bad flags must fail"
    assert run_job(units, stub_bin, tmp_path, validate=1)[0] != 0, f"{name}: invalid must fail"


@pytest.mark.parametrize("path", CI_RECIPES, ids=lambda p: p.name)
def test_apply_job_confirms_reports_and_fails_on_errors(
    path: Path, stub_bin: Path, tmp_path: Path
) -> None:
    name, units = job_running(path, "apply")
    code, calls = run_job(units, stub_bin, tmp_path, apply=0)
    assert code == 0
    [apply_call] = [line for line in calls.splitlines() if line.startswith("secretsync apply")]
    assert " --yes" in apply_call or " -y" in apply_call
    assert "--report apply.json" in apply_call
    for failure in (1, 2, 130):
        assert run_job(units, stub_bin, tmp_path, apply=failure)[0] != 0, (
            f"{name}: apply exiting {failure} must fail the job"
        )


def test_pr_report_reaches_reviewers() -> None:
    sourcecraft_cube = next(
        cube
        for workflow in load(SOURCECRAFT)["workflows"].values()
        for task in workflow["tasks"]
        for cube in task["cubes"]
        if any("secretsync plan" in line for line in cube["script"])
    )
    assert "plan.md" in sourcecraft_cube["artifacts"]["paths"]

    github = load(GITHUB)["jobs"][job_running(GITHUB, "plan")[0]]
    comment = next(
        step["run"] for step in github["steps"] if "gh pr comment" in step.get("run", "")
    )
    assert "--edit-last" in comment and "--body-file plan.md" in comment
    assert github["permissions"] == {"contents": "read", "pull-requests": "write"}

    gitlab = load(GITLAB)[job_running(GITLAB, "plan")[0]]
    assert gitlab["artifacts"]["expose_as"]
    assert "plan.md" in gitlab["artifacts"]["paths"]
    assert all("*" not in p and not p.startswith("./") for p in gitlab["artifacts"]["paths"])
    assert gitlab["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'


def test_applies_never_overlap_and_permissions_are_least() -> None:
    github = load(GITHUB)
    assert github["permissions"] == {}
    apply_job = github["jobs"][job_running(GITHUB, "apply")[0]]
    assert apply_job["permissions"] == {"contents": "read"}
    assert apply_job["concurrency"]["cancel-in-progress"] is False
    assert apply_job["concurrency"]["group"]
    assert "refs/heads/main" in apply_job["if"]

    gitlab = load(GITLAB)[job_running(GITLAB, "apply")[0]]
    assert gitlab["resource_group"]
    assert all("$CI_DEFAULT_BRANCH" in rule["if"] for rule in gitlab["rules"])

    sourcecraft = load(SOURCECRAFT)
    assert sourcecraft["on"]["push"][0]["filter"]["branches"] == ["main"]
    assert sourcecraft["on"]["push"][0]["workflows"] == [
        job_running(SOURCECRAFT, "apply")[0].split("/")[0]
    ]


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_no_token_is_written_down_or_passed_as_a_flag(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not TOKEN_LITERALS.search(text)
    doc = load(path)
    for mapping in mappings(doc):
        for key, value in mapping.items():
            if isinstance(key, str) and "TOKEN" in key.upper() and isinstance(value, str):
                assert SECRET_REFERENCE.match(value.strip()), (
                    f"{path.name}: {key} must come from the secret store, not a literal"
                )
    for _, flags in recipe_invocations(path):
        assert not [f for f in flags if "token" in f and f != "--token-env"]
    if path in CI_RECIPES:
        for units in shell_units(path).values():
            for unit in units:  # expanding the token in a script is how it reaches a log
                assert not TOKEN_EXPANSION.search(unit), unit


def test_sourcecraft_recipe_takes_values_from_the_secret_store() -> None:
    doc = load(SOURCECRAFT)
    assert set(doc["on"]) == {"pull_request", "push"}
    for workflow in doc["workflows"].values():
        secret_refs = [v for v in workflow["env"].values() if "secrets." in str(v)]
        assert secret_refs
        assert all(SECRET_REFERENCE.match(v) for v in secret_refs)
        # The predefined token needs no line; redefining it from a literal would be a leak.
        assert "SOURCECRAFT_TOKEN" not in workflow["env"]


def test_pre_commit_hook_definition() -> None:
    hooks = load(HOOKS)
    assert isinstance(hooks, list)
    [hook] = [h for h in hooks if h["id"] == "secretsync-validate"]
    assert {"id", "name", "entry", "language"} <= hook.keys()
    assert hook["entry"].startswith("secretsync validate")
    assert "--no-env" in hook["entry"].split()
    assert hook["language"] == "python"
    # validate reads one manifest (-f); appended file names would be extra arguments.
    assert hook["pass_filenames"] is False
    # A manifest reads files no pattern can predict (file: sources): run on every commit.
    assert hook["always_run"] is True and "files" not in hook


def test_pre_commit_example_references_the_published_hook() -> None:
    published = {h["id"] for h in load(HOOKS)}
    example = load(PRECOMMIT_EXAMPLE)
    used = [hook["id"] for repo in example["repos"] for hook in repo["hooks"]]
    assert used and set(used) <= published
    assert all(repo["repo"].startswith("https://example.invalid/") for repo in example["repos"])
    # args are appended to `secretsync validate`, including the ones shown in comments.
    for path in (HOOKS, PRECOMMIT_EXAMPLE, DOCS):
        for args in re.findall(r"args:\s*\[([^\]]*)\]", path.read_text(encoding="utf-8")):
            flags = [a.strip() for a in args.split(",") if a.strip().startswith("-")]
            assert set(flags) <= options_of("validate"), (path.name, flags)


def test_docs_cover_exit_codes_schema_and_completion() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 64 |", "| 130 |"):
        assert code in text
    schema_url = "https://secretsync.dev/schemas/manifest.schema.json"
    assert f"# yaml-language-server: $schema={schema_url}" in text
    for shell in ("bash", "zsh", "fish"):
        assert f"_SECRETSYNC_COMPLETE={shell}_source secretsync" in text
    for recipe in (SOURCECRAFT, GITHUB, GITLAB, PRECOMMIT_EXAMPLE):
        assert f"../examples/ci/{recipe.name}" in text


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_documented_shell_completion_variable_works(shell: str) -> None:
    # The name click derives from the program name: the documented line must produce a script.
    result = CliRunner().invoke(
        secretsync, [], prog_name="secretsync", env={"_SECRETSYNC_COMPLETE": f"{shell}_source"}
    )
    assert result.exit_code == 0
    assert "_secretsync_completion" in result.output


@pytest.mark.parametrize("name", sorted(secretsync.commands))
def test_every_command_help_shows_an_example(name: str) -> None:
    result = CliRunner().invoke(secretsync, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
