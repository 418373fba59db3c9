"""Who may import whom inside secretsync, checked on the import graph (built with `ast`).

MAY_IMPORT is the rule book; docs/architecture.md shows the same table, and each family's
`__init__` docstring says the same in words. An import is an edge whether it sits at the top
of a module, inside a function (the lazy imports that keep start-up fast) or under
TYPE_CHECKING: each is a dependency the layering must allow.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import secretsync

PACKAGE = Path(secretsync.__file__).parent

# Small records, the error tree and helpers every family may use; they import only each other
# (and `__init__`, which holds `__version__`).
SHARED = (
    *("__init__", "errors", "models", "names", "safefile", "defaults", "tasks", "redact"),
    "limits",
)

# family: the modules of secretsync it may import, besides its own. An entry is a family (all
# of it) or one module of one ("sourcecraft.endpoint"). Names are relative to secretsync;
# "__init__" is secretsync/__init__.py itself.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "shared": SHARED,
    "http": ("__init__",),  # __version__, for the User-Agent; nothing of SourceCraft
    "emulator": (),  # standard library only: it stands in for the API, so shares no code
    "sourcecraft": (*SHARED, "http"),
    "manifest": (*SHARED, "sourcecraft.endpoint"),  # where the token may go; no network
    "sources": SHARED,
    "report": (*SHARED, "review.records"),  # the structural plan's records, to render them
    "review": (*SHARED, "manifest", "sources"),  # plan --base: offline, never the API
    "plan": (*SHARED, "sourcecraft"),
    "apply": (*SHARED, "sourcecraft"),
    "settings": (*SHARED, "plan.planner", "sources.allow"),
    "importer": (*SHARED, "sourcecraft"),
    "commenting": (*SHARED, "report", "sourcecraft"),
    "pipeline": (*SHARED, "settings", "manifest", "sources", "plan", "apply", "sourcecraft"),
    "cli": (
        *SHARED,
        *("settings", "pipeline", "importer", "commenting", "manifest", "sources", "plan"),
        "report",
        "review",
        "sourcecraft",
    ),
    "__main__": ("cli",),
}

# Third-party packages, and the only families that may import each.
THIRD_PARTY: dict[str, tuple[str, ...]] = {
    "click": ("cli",),
    "httpx": ("http", "sourcecraft", "pipeline", "commenting"),
    "h11": ("http",),
    "certifi": ("http",),
    "jsonschema": ("manifest",),
    "ruamel": ("manifest", "emulator"),
    "dotenv": ("sources",),
}

CORE = ("report", "plan", "manifest", "sources", "review")
OUTER = ("cli", "pipeline", "apply")


def family(module: str) -> str:
    """ "plan.planner" -> "plan"; "errors" -> "shared"; "pipeline" -> "pipeline"."""
    head = module.split(".")[0]
    return "shared" if head in SHARED else head


def allowed(importer: str, imported: str) -> bool:
    if family(importer) == family(imported):
        return True
    return any(
        imported == entry or imported.startswith(entry + ".")
        for entry in MAY_IMPORT[family(importer)]
    )


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _relative(dotted: str) -> str:
    return "__init__" if dotted == "secretsync" else dotted.removeprefix("secretsync.")


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module -> secretsync modules it imports, module -> third-party packages it imports),
    module names relative to secretsync."""
    inner: dict[str, set[str]] = defaultdict(set)
    outer: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        me = ".".join(parts[:-1] if is_package else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = me.split(".") if is_package else me.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [
                    f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                top = target.split(".")[0]
                if top == "secretsync":
                    inner[_relative(me)].add(_relative(target))
                elif top not in sys.stdlib_module_names and top != "__future__":
                    outer[_relative(me)].add(top)
    return inner, outer


INNER, OUTER_PACKAGES = import_graph()


def test_the_graph_sees_every_family():
    families = {family(m) for m in INNER} | {family(m) for t in INNER.values() for m in t}
    assert families == set(MAY_IMPORT)


def test_every_import_inside_secretsync_is_allowed_by_the_table():
    refused = sorted(
        f"{importer} imports {imported}"
        for importer, targets in INNER.items()
        for imported in targets
        if not allowed(importer, imported)
    )
    assert refused == []


def test_every_third_party_import_is_allowed_by_the_table():
    refused = sorted(
        f"{importer} imports {package}"
        for importer, packages in OUTER_PACKAGES.items()
        for package in packages
        if family(importer) not in THIRD_PARTY.get(package, ())
    )
    assert refused == []


def test_the_emulator_imports_nothing_outside_itself():
    assert {
        imported
        for importer, targets in INNER.items()
        if family(importer) == "emulator"
        for imported in targets
        if family(imported) != "emulator"
    } == set()


def test_http_imports_nothing_of_secretsync_but_its_version():
    assert {
        imported
        for importer, targets in INNER.items()
        if family(importer) == "http"
        for imported in targets
        if family(imported) != "http"
    } <= {"__init__"}
    for path in (PACKAGE / "http").glob("*.py"):
        for line in re.findall(r"^\s*from secretsync import (.+)$", path.read_text(), re.M):
            assert line.strip() == "__version__", path


def test_only_the_cli_imports_click():
    assert {family(m) for m, packages in OUTER_PACKAGES.items() if "click" in packages} == {"cli"}


@pytest.mark.parametrize("core", CORE)
def test_the_core_never_imports_the_cli_the_pipeline_or_the_applier(core):
    reached = {
        family(imported)
        for importer, targets in INNER.items()
        if family(importer) == core
        for imported in targets
    }
    assert reached.isdisjoint(OUTER)
    assert all(not entry.startswith(OUTER) for entry in MAY_IMPORT[core])


def test_no_cycles_between_families():
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, targets in INNER.items():
        for imported in targets:
            if family(importer) != family(imported):
                edges[family(importer)].add(family(imported))
    cycles = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycles.append(" -> ".join([*path[path.index(node) :], node]))
            return
        if node in done:
            return
        for nxt in sorted(edges[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for start in sorted(edges):
        visit(start, [])
    assert cycles == []


# secretsync.schemas, in an installed wheel, is the top-level schemas/ folder: data, no code.
FOLDERS = sorted(
    p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file() and p.name != "schemas"
)


@pytest.mark.parametrize("name", FOLDERS)
def test_each_family_docstring_says_what_the_table_says(name):
    doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())) or ""
    said = " ".join(doc.partition("May import:")[2].split("\n\n")[0].split())
    assert said, f"secretsync/{name}/__init__.py does not say what it may import"
    named = {"__init__" if n == "__version__" else n for n in re.findall(r"`([\w.]+)`", said)}
    rule = MAY_IMPORT[name]
    with_shared = set(SHARED) <= set(rule)
    assert ("the shared top-level modules" in said) == with_shared, said
    assert {entry for entry in rule if not (with_shared and entry in SHARED)} <= named, said


def test_the_cli_imports_no_heavy_module_for_version():
    code = (
        "import sys, secretsync.cli\n"
        "print(sorted(m for m in ('httpx', 'ruamel', 'jsonschema', 'dotenv') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"  # also in the sdist
DOC_NAMES = {"ruamel.yaml": "ruamel", "python-dotenv": "dotenv"}


def _doc_table(after: str, before: str) -> dict[str, set[str]]:
    section = DOC.read_text(encoding="utf-8").split(after, 1)[1].split(before, 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("family", "package") or set(cells[0]) <= {"-"}:
            continue
        said = cells[1].split("(")[0]  # a parenthesis explains; it names nothing
        entries = set(re.findall(r"`([\w.]+)`", said))
        if re.search(r"\bshared\b", said):
            entries |= set(SHARED)
        for name in cells[0].split(","):
            name = name.strip().strip("`")
            rows[DOC_NAMES.get(name, name)] = entries
    return rows


def test_the_architecture_doc_shows_the_same_tables():
    assert _doc_table("## Who imports whom", "Third-party") == {
        family: set(entries) for family, entries in MAY_IMPORT.items()
    }
    assert _doc_table("Third-party packages", "The test also checks") == {
        package: set(families) for package, families in THIRD_PARTY.items()
    }
