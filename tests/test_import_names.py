"""`secretsync import` never gives two secrets one variable: applying the manifest would copy
one group's value (production's) into another."""

from __future__ import annotations

import re

from secretsync.importer import ImportedRepo, env_names, render_env_template, render_manifest
from secretsync.manifest.yamlread import read_yaml
from secretsync.models import RepoInfo


def imported(*groups: tuple[str, tuple[str, ...]]) -> ImportedRepo:
    return ImportedRepo(
        repo=RepoInfo(repo_id="r1", slug="acme/app"), address="acme/app", groups=groups
    )


def variables(repo: ImportedRepo) -> dict[tuple[str, str], str]:
    doc, problems = read_yaml(render_manifest(repo), "imported.yaml")
    assert problems == [] and doc is not None
    groups = doc.data["repos"][0]["groups"]
    return {(g, k): src["env"] for g, body in groups.items() for k, src in body["secrets"].items()}


def test_default_prod_db_and_prod_db_get_different_variables():
    repo = imported(("default", ("API", "PROD_DB")), ("prod", ("DB",)))
    found = variables(repo)
    assert found[("default", "API")] == "APP_API"  # a unique name stays readable
    assert found[("default", "PROD_DB")] != found[("prod", "DB")]
    assert re.fullmatch(r"APP_PROD_DB_[0-9A-F]{6}", found[("default", "PROD_DB")])
    assert re.fullmatch(r"APP_PROD_DB_[0-9A-F]{6}", found[("prod", "DB")])


def test_groups_differing_only_in_punctuation_or_case_get_different_variables():
    repo = imported(("prod.eu", ("DB", "X")), ("prod_eu", ("DB",)), ("PROD-EU", ("DB",)))
    found = variables(repo)
    dbs = [found[(g, "DB")] for g in ("prod.eu", "prod_eu", "PROD-EU")]
    assert len({name.upper() for name in dbs}) == 3
    assert found[("prod.eu", "X")] == "APP_PROD_EU_X"


def test_keys_differing_only_in_case_get_variables_a_case_blind_store_tells_apart():
    found = variables(imported(("default", ("Api", "API"))))
    assert found[("default", "Api")].upper() != found[("default", "API")].upper()


def test_names_are_stable_and_the_template_lists_the_same_ones():
    repo = imported(("default", ("PROD_DB",)), ("prod", ("DB",)))
    reordered = imported(("prod", ("DB",)), ("default", ("PROD_DB",)))
    assert env_names(repo) == env_names(reordered)
    template = render_env_template(repo).splitlines()[1:]
    assert sorted(template) == sorted(f"{name}=" for name in variables(repo).values())
