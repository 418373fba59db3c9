"""pyproject.toml ships the whole package and the one copy of each schema.

scripts/check-dist builds the sdist and the wheel and runs this suite from them; these checks
only catch, in a second, the slip it would find in a minute: a new subpackage not listed.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_folder_of_the_package_is_listed():
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "secretsync").rglob("__init__.py")
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
