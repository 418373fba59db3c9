"""pyproject.toml ships the whole package and the one copy of each schema.

scripts/check-dist builds the sdist and the wheel and runs this suite from them; these checks
only catch, in a second, the slip it would find in a minute: a new subpackage not listed.
"""

import re
import tomllib
from pathlib import Path

import secretsync

ROOT = Path(__file__).resolve().parent.parent


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_folder_of_the_package_is_listed():
    package = Path(secretsync.__file__).parent  # the installed wheel's, in scripts/check-dist
    folders = {
        ".".join(("secretsync", *init.parent.relative_to(package).parts))
        for init in package.rglob("__init__.py")
    }
    assert folders | {"secretsync.schemas"} == set(_setuptools()["packages"])


def test_the_schemas_folder_is_installed_as_package_data():
    config = _setuptools()
    assert config["package-dir"] == {"secretsync.schemas": "schemas"}
    assert config["package-data"]["secretsync.schemas"] == ["*.json"]
    assert sorted(p.name for p in (ROOT / "schemas").glob("*.json")) == [
        "manifest.schema.json",
        "report.schema.json",
    ]


def test_readme_links_work_on_the_package_index_page():
    # The index renders README.md away from the repository: a relative link would be broken.
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)]+)\)", readme) + re.findall(r"^\[[^\]]+\]: (\S+)", readme, re.M)
    assert targets
    source = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]
    for target in targets:
        assert target.startswith(("https://", "#")), target
        if "sourcecraft.dev/" in target:
            assert target.startswith(source + "/"), target
