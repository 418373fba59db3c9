"""The examples, CI recipes, seeds and hooks follow the house YAML rules in .yamllint."""

from __future__ import annotations

import subprocess
from pathlib import Path

from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parent.parent
CONFIG = YamlLintConfig(file=str(ROOT / ".yamllint"))


def tracked_yaml() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.yml", "*.yaml", ".yamllint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    paths = [ROOT / name for name in listed.stdout.split()] if listed.returncode == 0 else []
    # Outside a git checkout (an sdist), fall back to the folders that hold YAML.
    return paths or sorted(
        p for d in ("examples", ".") for p in (ROOT / d).glob("**/*.y*ml") if ".venv" not in p.parts
    )


def problems(path: Path) -> list[str]:
    if CONFIG.is_file_ignored(str(path.relative_to(ROOT))):
        return []
    found = linter.run(path.read_text(encoding="utf-8"), CONFIG, str(path))
    return [f"{path.relative_to(ROOT)}:{p.line}:{p.column}: {p.desc} ({p.rule})" for p in found]


def test_every_yaml_file_follows_the_house_rules():
    paths = tracked_yaml()
    assert any(p.name == "sourcecraft-ci.yaml" for p in paths)
    found = [line for path in paths for line in problems(path)]
    assert not found, "\n".join(found)


def test_the_rules_are_the_house_rules_not_the_defaults():
    # The default line length (80) and `on:` as a truthy key would fail every CI recipe.
    assert CONFIG.rules["line-length"]["max"] == 100
    assert CONFIG.rules["truthy"]["check-keys"] is False
    assert CONFIG.rules["document-start"] is False
    sample = "on:\n  push: {}\nkey: " + "x" * 120 + " y\n"
    assert [p.rule for p in linter.run(sample, CONFIG)] == ["line-length"]
