"""Print a pip constraints file pinning every dependency of pyproject.toml to its lower bound.

Used by scripts/check-dist --lowest (through scripts/test-bounds): the oldest versions we claim
to support are the ones the suite runs on. Extras named on the command line are included
(`python scripts/lowest-versions.py test`). A dependency without a lower bound is an error:
every bound we declare is one we test.
"""

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def lowest(requirement: str) -> str:
    match = REQUIREMENT.match(requirement)
    if not match:
        raise SystemExit(f"cannot read the requirement {requirement!r}")
    name, _, specifiers, marker = match.groups()
    bound = re.search(r">=\s*([^,\s]+)", specifiers)
    if not bound:
        raise SystemExit(f"{name} has no lower bound (>=) in pyproject.toml")
    return f"{name}=={bound.group(1)}{marker or ''}"


def main(extras: list[str]) -> None:
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    print("\n".join(lowest(r) for r in requirements))


if __name__ == "__main__":
    main(sys.argv[1:])
