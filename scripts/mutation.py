"""Mutation testing of the safety modules: would the tests notice if a rule were broken?

Each mutant changes one thing in one function of a safety module (a comparison flipped, `and`
for `or`, a `not` dropped, a constant nudged, a branch made unconditional, a `raise` or a
call removed, a `return` made to return the opposite), and the in-process tests of that module
run against it. A mutant the tests fail on is killed; one they pass on survived: either a
missing test, or a change that cannot be observed (explained in EXPLAINED below, by module,
function, change and the text of its line: no line numbers, so trunk can move lines about).

Run on demand (it takes minutes, so .ci/run does not):
    .venv/bin/python scripts/mutation.py                 # every target
    .venv/bin/python scripts/mutation.py redact names    # targets whose name contains these
    .venv/bin/python scripts/mutation.py --list          # the mutants, without running them

It works on a copy of the repository in a temporary folder, so the checkout is never touched,
and prints a score per module and every unexplained survivor. Exit 1 if any survives unexplained,
2 if a target names tests or functions that no longer exist. A target's tests should take well
under a minute: name the files that test the module, not whole folders.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    name: str
    module: str  # path from the repository root
    functions: tuple[str, ...]  # qualified names ("Class.method"); empty: every function
    tests: tuple[str, ...]


TARGETS = (
    Target(
        "selection and prune",
        "secretsync/plan/planner.py",
        (),
        # test_paths.py holds the rule that a listed key with an invalid name is never pruned.
        ("tests/plan", "tests/test_pipeline.py", "tests/sourcecraft/test_paths.py"),
    ),
    Target(
        "name rules",
        "secretsync/names.py",
        ("has_control", "one_line", "shown_path", "quote", "key_path", "_segment", "capped"),
        # tests/manifest and tests/cli took 2-3 minutes a run; these kill the same mutants.
        ("tests/test_names_output.py", "tests/test_names_mutants.py",
         "tests/manifest/test_broken_input.py", "tests/report"),
    ),
    Target(
        "URL and endpoint rules",
        "secretsync/sourcecraft/endpoint.py",
        (),
        ("tests/sourcecraft/test_endpoint.py", "tests/sourcecraft/test_endpoint_rules.py",
         "tests/sourcecraft/test_token_env.py", "tests/test_pipeline.py"),
    ),
    Target(
        "redaction",
        "secretsync/redact.py",
        (),
        # tests/cli added 10 minutes a run and killed nothing test_redact.py does not.
        ("tests/test_redact.py",),
    ),
    Target(
        "path building",
        "secretsync/sourcecraft/paths.py",
        (),
        ("tests/sourcecraft/test_paths.py", "tests/sourcecraft/test_comment_paths.py",
         "tests/sourcecraft/test_client_requests.py"),
    ),
    Target(
        "status URL origin",
        "secretsync/sourcecraft/client.py",
        ("SourceCraftClient._url", "SourceCraftClient._status_url",
         "SourceCraftClient._same_origin_target"),
        ("tests/sourcecraft/test_status_url.py", "tests/sourcecraft/test_client_requests.py",
         "tests/sourcecraft/test_paths.py", "tests/sourcecraft/test_endpoint_rules.py"),
    ),
    Target(
        "strict request targets",
        "secretsync/http/urlpath.py",
        ("UrlMaker.__call__",),
        ("tests/http/test_urlpath.py", "tests/sourcecraft/test_paths.py"),
    ),
    Target(
        "file confinement",
        "secretsync/sources/files.py",
        ("SourceFiles.read", "SourceFiles.in_repository", "SourceFiles.locate",
         "SourceFiles.realpath", "SourceFiles.load"),
        ("tests/sources",),
    ),
    Target(
        "manifest file roots",
        "secretsync/manifest/rules.py",
        ("inside", "rule_problems"),
        # the whole of tests/manifest and tests/sources took 3 minutes a run
        ("tests/manifest/test_rules_mutants.py", "tests/manifest/test_broken_input.py",
         "tests/manifest/test_extensions.py", "tests/manifest/test_contract.py",
         "tests/manifest/test_limits.py", "tests/sources/test_source_errors.py"),
    ),
    Target(
        "manifest reading",
        "secretsync/manifest/loader.py",
        ("_read_bytes", "_Builder.manifest"),
        ("tests/manifest/test_broken_input.py", "tests/manifest/test_extensions.py",
         "tests/sourcecraft/test_token_env.py", "tests/sources/test_source_errors.py"),
    ),
    Target(
        "safe file reading",
        "secretsync/safefile.py",
        ("read_small_file", "repository_root"),
        ("tests/test_safefile.py", "tests/sources/test_source_errors.py"),
    ),
)

# Survivors that cannot be observed, with the reason. Key: (module, function, mutation, the
# mutated line's text with its indentation stripped). No line numbers: other work moves lines
# about, and an explanation must keep matching its mutant until that line itself changes (then
# the run lists the entry as stale, and the mutant as a survivor to look at again).
EXPLAINED: dict[tuple[str, str, str, str], str] = {
    ("secretsync/sourcecraft/client.py", "SourceCraftClient._same_origin_target",
     "operand 2 of `or` dropped", "if parts.fragment or not parts.path:"): (
        "defence in depth: an empty path becomes the prefix with a trailing '/', an empty "
        "segment UrlMaker refuses, which takes the same fallback"
    ),
    ("secretsync/http/urlpath.py", "UrlMaker.__call__", "`if` condition always false",
     "if self._fast:"): (
        "the URL shortcut: the public way (copy_with) makes the same URL, as test_urlpath.py "
        "checks for every strict target"
    ),
    ("secretsync/sourcecraft/client.py", "SourceCraftClient._status_url",
     "`if` condition always true", "if op.status_url:"): (
        "a shortcut: an absent status_url parses to no path, which takes the same fallback"
    ),
    ("secretsync/sourcecraft/client.py", "SourceCraftClient._status_url", "call removed",
     "logger.debug(\"status_url is not a plain path on the API's host; using the id\")"): (
        "a debug log line"
    ),
    ("secretsync/names.py", "one_line", "`if` condition always false",
     "if not _CONTROL.search(name):"): (
        "a fast path: with no control character the substitution returns the name unchanged"
    ),
    ("secretsync/redact.py", "Redactor._ready", "`if` condition always true",
     "if self._pending:"): (
        "a cache: with nothing pending it sorts the same needles again, to the same list"
    ),
    ("secretsync/redact.py", "Redactor.__call__", "`if` condition always true",
     "if needle in text:"): (
        "a fast path: replacing a needle that is not in the text returns the text unchanged"
    ),
    **{
        ("secretsync/names.py", "_segment", change, "@functools.lru_cache(maxsize=4096)"): (
            "the cache's size: a cached segment is the same string as a computed one"
        )
        for change in ("`4096` -> `4097`", "`4096` -> `4095`")
    },
    ("secretsync/sources/files.py", "SourceFiles.locate", "`if` condition always true",
     "if real is None:"): (
        "a cache: without it each reference is resolved again, to the same real path"
    ),
    ("secretsync/sources/files.py", "SourceFiles.realpath", "`if` condition always true",
     "if name in (\"\", \".\", \"..\"):"): (
        "the slow path for every name: os.path.realpath of the whole path, which the fast path "
        "equals (tests/sources/test_confinement_mutants.py pins the names that need it)"
    ),
    ("secretsync/sources/files.py", "SourceFiles.realpath", "`if` condition always true",
     "if real_folder is None:"): (
        "a cache: without it the folder is resolved again for each file, to the same path"
    ),
    ("secretsync/sources/files.py", "SourceFiles.realpath", "`if` condition always true",
     "if is_link:"): (
        "the slow path for a file that is not a link: os.path.realpath gives the same path"
    ),
    ("secretsync/sources/files.py", "SourceFiles.load", "call removed",
     'log.debug("read %d bytes from a source file", len(data))'): (
        "a debug line with a byte count; no rule depends on it"
    ),
    ("secretsync/manifest/rules.py", "inside", "operand 1 of `or` dropped",
     "return path == folder or path.is_relative_to(folder)"): (
        "Path.is_relative_to is true for the folder itself: `path == folder` is a fast path"
    ),
    ("secretsync/manifest/loader.py", "_read_bytes", "operand 1 of `and` dropped",
     "if path.is_symlink() and not inside(real, repository):"): (
        "a manifest that is not a symlink is always inside its repository: the repository is "
        "its own (real) folder or a parent of it"
    ),
    ("secretsync/plan/planner.py", "plan_group", "operand 1 of `or` dropped",
     "if not (every_key or selection.wants_key(secret.key)):"): (
        "a fast path: with no --key, wants_key is true for every key"
    ),
    ("secretsync/manifest/rules.py", "rule_problems", "`False` -> `True`",
     "for path in _control_in_paths(data, (), in_path_field=False, "
     "memo={} if shared else None):"): (
        "the flag matters only for a string or list; the top of a manifest is always a mapping "
        "here (anything else becomes {}), whose fields set the flag for themselves"
    ),
    ("secretsync/sources/files.py", "SourceFiles.in_repository", "operand 1 of `or` dropped",
     "return real == folder or real.startswith(inside)"): (
        "asked only of a path already read as a file, and the repository's own folder is a "
        "folder: it never gets that far"
    ),
    **{
        ("secretsync/safefile.py", "read_small_file", change, line): (
            "getattr's default is used only where os lacks the flag (not on POSIX): the real "
            "flag is used here, whatever the default"
        )
        for change, line in (
            ("`0` -> `1`", "flags = os.O_RDONLY | getattr(os, \"O_NOFOLLOW\", 0) | getattr(os, \"O_NONBLOCK\", 0)"),
            ("`0` -> `1` #2", "flags = os.O_RDONLY | getattr(os, \"O_NOFOLLOW\", 0) | getattr(os, \"O_NONBLOCK\", 0)"),
            ("`0` -> `1`", "flags |= getattr(os, \"O_CLOEXEC\", 0) | getattr(os, \"O_BINARY\", 0)"),
        )
    },
    **{
        ("secretsync/safefile.py", "read_small_file", change,
         "while chunk := os.read(fd, 65536):"): (
            "the chunk size: any size reads the same bytes (tests read files of many chunks)"
        )
        for change in ("`65536` -> `65537`", "`65536` -> `65535`")
    },
}


# ------------------------------------------------------------------------------ mutants


@dataclass(frozen=True)
class Mutant:
    target: Target
    function: str
    line: int
    change: str  # what was mutated, e.g. "`==` -> `!=`"
    text: str  # the original line's text, stripped: what EXPLAINED matches besides `change`
    source: str  # the whole mutated module

    @property
    def description(self) -> str:
        return f"line {self.line}: {self.change}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.target.module, self.function, self.change, self.text)


_FLIP_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_OP_TEXT = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}


def _edits(node: ast.AST) -> Iterator[tuple[str, object]]:
    """(description, how) for each way to mutate this one node; `how` is applied by _apply."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            new = _FLIP_COMPARE.get(type(op))
            if new is not None:
                yield f"`{_OP_TEXT[type(op)]}` -> `{_OP_TEXT[new]}`", ("cmp", i, new)
    elif isinstance(node, ast.BoolOp):
        other = "or" if isinstance(node.op, ast.And) else "and"
        yield f"`{'and' if other == 'or' else 'or'}` -> `{other}`", ("boolop",)
        if len(node.values) >= 2:
            for i in range(len(node.values)):
                yield f"operand {i + 1} of `{'and' if other == 'or' else 'or'}` dropped", (
                    "dropop",
                    i,
                )
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "`not` dropped", ("unnot",)
    elif isinstance(node, ast.Constant) and type(node.value) in (bool, int):
        if isinstance(node.value, bool):
            yield f"`{node.value}` -> `{not node.value}`", ("const", not node.value)
        else:
            yield f"`{node.value}` -> `{node.value + 1}`", ("const", node.value + 1)
            if node.value != 0:
                yield f"`{node.value}` -> `{node.value - 1}`", ("const", node.value - 1)
    elif isinstance(node, (ast.If, ast.While)) and not isinstance(node.test, ast.Constant):
        yield f"`{type(node).__name__.lower()}` condition always true", ("test", True)
        if isinstance(node, ast.If):
            yield "`if` condition always false", ("test", False)
    elif isinstance(node, ast.Raise):
        yield "`raise` removed", ("stmt",)
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield "call removed", ("stmt",)
    elif isinstance(node, ast.Return) and node.value is not None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
            return  # the Constant rule flips it
        if isinstance(node.value, ast.Constant) and node.value.value is None:
            return  # `return None` already: the same program
        yield "`return` of None instead", ("ret",)
    elif isinstance(node, (ast.Continue, ast.Break)):
        yield f"`{type(node).__name__.lower()}` removed", ("stmt",)


def _apply(node: ast.AST, how: tuple[object, ...]) -> ast.AST:
    kind = how[0]
    if kind == "cmp":
        assert isinstance(node, ast.Compare)
        i, new = how[1], how[2]
        node.ops[i] = new()  # type: ignore[index,operator]
        return node
    if kind == "boolop":
        assert isinstance(node, ast.BoolOp)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return node
    if kind == "dropop":
        assert isinstance(node, ast.BoolOp)
        values = [v for j, v in enumerate(node.values) if j != how[1]]
        return values[0] if len(values) == 1 else ast.BoolOp(op=node.op, values=values)
    if kind == "unnot":
        assert isinstance(node, ast.UnaryOp)
        return node.operand
    if kind == "const":
        return ast.Constant(value=how[1])
    if kind == "test":
        assert isinstance(node, (ast.If, ast.While))
        node.test = ast.Constant(value=how[1])
        return node
    if kind == "stmt":
        return ast.Pass()
    if kind == "ret":
        assert isinstance(node, ast.Return)
        node.value = ast.Constant(value=None)
        return node
    raise AssertionError(kind)


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item


def _is_docstring(parent: ast.AST, child: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return bool(body) and body[0] is child and isinstance(child, ast.Expr)


def missing_functions(target: Target, root: Path = ROOT) -> list[str]:
    """Listed functions the module no longer has (renamed or moved: update TARGETS)."""
    tree = ast.parse((root / target.module).read_text(encoding="utf-8"))
    present = {name for name, _ in _functions(tree)}
    return [f for f in target.functions if f not in present]


def mutants(target: Target, root: Path = ROOT) -> Iterator[Mutant]:
    text = (root / target.module).read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    seen: dict[tuple[str, str, str], int] = {}
    for qualname, function in _functions(tree):
        if target.functions and qualname not in target.functions:
            continue
        # Walk by index paths so each mutant is applied to a fresh copy of the tree.
        for path, node in _walk(function, ()):
            if isinstance(node, (ast.Constant, ast.Expr)) and _docstring_path(function, path):
                continue
            for description, how in _edits(node):
                mutated = copy.deepcopy(tree)
                fn = dict(_functions(mutated))[qualname]
                parent, field, index = _locate(fn, path)
                current = getattr(parent, field) if index is None else getattr(parent, field)[index]
                new = _apply(current, how)  # type: ignore[arg-type]
                if index is None:
                    setattr(parent, field, new)
                else:
                    getattr(parent, field)[index] = new
                source = ast.unparse(ast.fix_missing_locations(mutated))
                line = getattr(node, "lineno", 0)
                shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                # The same change twice on one line (two `0` defaults): number the repeats.
                n = seen[qualname, description, shown] = seen.get((qualname, description, shown), 0) + 1
                change = description if n == 1 else f"{description} #{n}"
                yield Mutant(target, qualname, line, change, shown, source)


def _walk(node: ast.AST, path: tuple[tuple[str, int | None], ...]) -> Iterator[
    tuple[tuple[tuple[str, int | None], ...], ast.AST]
]:
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    here = (*path, (field, i))
                    yield here, item
                    yield from _walk(item, here)
        elif isinstance(value, ast.AST):
            here = (*path, (field, None))
            yield here, value
            yield from _walk(value, here)


def _docstring_path(function: ast.AST, path: tuple[tuple[str, int | None], ...]) -> bool:
    return bool(path) and path[0] == ("body", 0) and _is_docstring(
        function, function.body[0]  # type: ignore[attr-defined]
    )


def _locate(root: ast.AST, path: tuple[tuple[str, int | None], ...]) -> tuple[
    ast.AST, str, int | None
]:
    node = root
    for field, index in path[:-1]:
        value = getattr(node, field)
        node = value if index is None else value[index]
    field, index = path[-1]
    return node, field, index


# ------------------------------------------------------------------------------ running


def _copy_repository(into: Path) -> None:
    listed = subprocess.run(
        # tracked files and new ones not yet added (a test being written), not ignored ones
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


def _run_tests(workdir: Path, tests: tuple[str, ...], timeout_s: float) -> bool:
    """True if the tests pass (the mutant survived)."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-m", "not e2e", *tests]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(command, cwd=workdir, capture_output=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return False  # a mutant that hangs the tests is caught
    return done.returncode == 0


def _say(text: str) -> None:
    print(text, flush=True)  # a run takes minutes: show each survivor as it is found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="run targets whose name contains one of these")
    parser.add_argument("--list", action="store_true", help="list mutants, run nothing")
    parser.add_argument(
        "--timeout", type=float, default=120.0,
        help="seconds per mutant (at least 3x the unmutated run of the target's tests)",
    )
    parser.add_argument(
        "--function", action="append", default=[],
        help="only mutants of functions whose name contains this (repeatable)",
    )
    args = parser.parse_args()
    targets = [t for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    for target in targets:
        missing = [t for t in target.tests if not (ROOT / t).exists()]
        if missing or not target.tests:
            # pytest with no path would run the whole suite: slow, and not what was meant.
            _say(f"{target.name}: no such tests: {', '.join(missing) or '(none listed)'}")
            return 2
        if not (ROOT / target.module).is_file() or missing_functions(target):
            gone = missing_functions(target) if (ROOT / target.module).is_file() else []
            _say(f"{target.name}: {target.module} has no {', '.join(gone) or 'such file'}")
            return 2
    if args.list:
        for target in targets:
            for m in mutants(target):
                if args.function and not any(f in m.function for f in args.function):
                    continue
                _say(f"{target.module}:{m.function}: {m.description}   | {m.text}")
        return 0

    unexplained = 0
    used: set[tuple[str, str, str, str]] = set()
    totals: list[tuple[str, int, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="secretsync-mutation-") as tmp:
        work = Path(tmp)
        _copy_repository(work)
        for target in targets:
            module = work / target.module
            original = module.read_text(encoding="utf-8")
            started = time.monotonic()
            if not _run_tests(work, target.tests, 10 * args.timeout):
                _say(f"{target.name}: the tests fail without any mutant; fix them first")
                return 1
            timeout_s = max(args.timeout, 3 * (time.monotonic() - started))
            killed = survived = explained = 0
            started = time.monotonic()
            for m in mutants(target, work):  # the copy: the checkout may move meanwhile
                if args.function and not any(f in m.function for f in args.function):
                    continue
                module.write_text(m.source, encoding="utf-8")
                try:
                    alive = _run_tests(work, target.tests, timeout_s)
                finally:
                    module.write_text(original, encoding="utf-8")
                if not alive:
                    killed += 1
                    continue
                reason = EXPLAINED.get(m.key)
                if reason is not None:
                    explained += 1
                    used.add(m.key)
                    _say(f"  explained  {target.module}:{m.function}: {m.description} ({reason})")
                else:
                    survived += 1
                    _say(f"  SURVIVED   {target.module}:{m.function}: {m.description}   | {m.text}")
            total = killed + survived + explained
            took = time.monotonic() - started
            _say(
                f"{target.name}: {killed}/{total} killed, {explained} explained, "
                f"{survived} survived ({took:.0f} s)"
            )
            totals.append((target.name, killed, explained, total))
            unexplained += survived
    run_modules = {t.module for t in targets}
    for key in EXPLAINED if not args.function else ():  # a partial run cannot tell
        if key[0] in run_modules and key not in used:
            # Its line changed, or the tests now kill it: either way the entry is out of date.
            _say(f"  stale explanation (no surviving mutant matches it): {key}")
    killed_all = sum(k for _, k, _, _ in totals)
    explained_all = sum(e for _, _, e, _ in totals)
    total_all = sum(t for _, _, _, t in totals)
    _say("")
    _say(f"{'target':<24} {'killed':>7} {'explained':>10} {'total':>6}")
    for name, killed, explained, total in totals:
        _say(f"{name:<24} {killed:>7} {explained:>10} {total:>6}")
    score = (killed_all + explained_all) / total_all if total_all else 1.0
    _say(f"score: {killed_all} killed + {explained_all} explained of {total_all} = {score:.1%}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
