"""The manifest's JSON Schema: one copy, valid, documented, and agreeing with the loader."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from secretsync import names
from secretsync.manifest.schema import manifest_schema
from tests.manifest.helpers import FIXTURES, REPO_ROOT

pytestmark = pytest.mark.usefixtures("in_tmp")


def test_the_package_reads_the_one_schema_in_schemas():
    # schemas/ is installed as secretsync.schemas (pyproject.toml); scripts/check-dist checks
    # that the wheel carries both schemas.
    packaged = resources.files("secretsync.schemas")
    for name in ("manifest.schema.json", "report.schema.json"):
        assert packaged.joinpath(name).read_bytes() == (REPO_ROOT / "schemas" / name).read_bytes()


def test_schema_is_valid_draft_2020_12_with_an_id():
    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://secretsync.dev/schemas/manifest.schema.json"


def _objects(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_schema_documents_every_property_and_closes_every_object():
    schema = manifest_schema()
    defs = schema["$defs"]
    for node in _objects(schema):
        if "properties" in node:
            assert node.get("additionalProperties") is False, sorted(node["properties"])
            for name, prop in node["properties"].items():
                target = defs[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else {}
                assert "title" in prop or "title" in target, name
                assert "description" in prop or "description" in target, name


def test_schema_patterns_match_the_loader_rules():
    patterns = {node["pattern"] for node in _objects(manifest_schema()) if "pattern" in node}
    assert patterns == {names.KEY, names.GROUP, names.SLUG, names.ORG, names.UUID}


def test_contract_example_is_valid_against_the_published_schema():
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((FIXTURES / "contract.yaml").read_text())
    schema = json.loads((REPO_ROOT / "schemas" / "manifest.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
