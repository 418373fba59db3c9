"""The records of a mapping reused through aliases are built once and copied per use
(loader._Builder's memo): they must equal the records built one use at a time, carry each
use's own key paths and the anchor's places, and never outlive the document they came from."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from secretsync.manifest import loader
from secretsync.manifest.yamlread import read_yaml
from secretsync.models import DotenvSpec, Manifest, SecretSpec

M = "secretsync.yaml"

pytestmark = pytest.mark.usefixtures("in_tmp")

SHAPES = {
    # issue 13's manifest: one anchored `groups:` mapping reused by every repository
    "shared groups": """\
        version: 1
        repos:
          - repo: acme/r0
            groups: &groups
              default:
                dotenv: env/default.env
              env1:
                dotenv: [env/a.env, env/b.env]
                allow_empty: true
                secrets:
                  DB: {env: DB_URL}
                  X_KEY: {dotenv: env/x.env, key: X}
          - repo: acme/r1
            groups: *groups
          - repo: acme/r2
            prune: true
            groups: *groups
        """,
    # one group reused under other names, in mappings of its own
    "shared group": """\
        version: 1
        sets:
          common:
            dotenv: env/common.env
            secrets:
              LOG: {env: LOG_LEVEL}
        repos:
          - repo: acme/r0
            groups:
              default: &base
                use: [common]
                secrets:
                  DB: {file: db.txt}
          - repo: acme/r1
            groups:
              prod: *base
              "a.b": *base
              stage:
                <<: *base
                prune: true
          - org: acme
            match: ["svc-*"]
            groups:
              default: *base
        """,
    # a reused group inside a reused `groups:`: two levels of sharing
    "nested": """\
        version: 1
        repos:
          - repo: acme/r0
            groups: &groups
              default: &g
                secrets:
                  A: {env: A}
              other: *g
          - repo: acme/r1
            groups: *groups
          - repo: acme/r2
            groups:
              again: *g
        """,
}


def _build(text: str, *, share: bool) -> tuple[Manifest, loader._Builder]:
    Path(M).write_text(textwrap.dedent(text), encoding="utf-8")
    doc, found = read_yaml(Path(M).read_text(encoding="utf-8"), M)
    assert doc is not None and not found
    builder = loader._Builder(doc, Path(M), share=share)
    return builder.manifest(Path(os.path.realpath(".")), ()), builder


@pytest.mark.parametrize("shape", SHAPES)
def test_shared_records_equal_the_records_built_one_use_at_a_time(shape):
    shared, builder = _build(SHAPES[shape], share=True)
    one_by_one, _ = _build(SHAPES[shape], share=False)
    assert builder.shared_layers  # the memo was used: the comparison means something
    assert shared == one_by_one
    assert repr(shared) == repr(one_by_one)
    # load_manifest (which shares) gives the same records too
    assert loader.load_manifest(Path(M)) == one_by_one


def test_each_use_has_its_own_key_paths_and_the_anchors_places():
    manifest, _ = _build(SHAPES["shared groups"], share=True)
    for index, repo in enumerate(manifest.repos):
        env1 = repo.groups[1]
        assert (env1.name, env1.location.line, env1.location.col) == ("env1", 7, 7)
        assert env1.prune is (index == 2)
        shown = [(layer.key_path, layer.location.line) for layer in env1.layers]
        assert shown == [
            (f"repos[{index}].groups.env1.dotenv[0]", 8),
            (f"repos[{index}].groups.env1.dotenv[1]", 8),
            (f"repos[{index}].groups.env1.secrets.DB", 11),
            (f"repos[{index}].groups.env1.secrets.X_KEY", 12),
        ]
        dotenv = env1.layers[0]
        assert isinstance(dotenv, DotenvSpec) and dotenv.allow_empty


def test_a_used_sets_layers_keep_their_key_paths_in_every_use():
    manifest, _ = _build(SHAPES["shared group"], share=True)
    paths = {
        (group.name, layer.key_path)
        for repo in manifest.repos
        for group in repo.groups
        for layer in group.layers
        if layer.key_path.startswith("sets.")
    }
    assert {path for _, path in paths} == {
        "sets.common.dotenv",
        "sets.common.secrets.LOG",
    }
    assert {name for name, _ in paths} == {"default", "prod", "a.b", "stage"}
    renamed = manifest.repos[1].groups[1]
    own = renamed.layers[-1]
    assert isinstance(own, SecretSpec)
    assert (renamed.name, own.key_path) == ("a.b", "repos[1].groups['a.b'].secrets.DB")
    assert renamed.location.line == 17  # a group's place is its own key, not the anchor's
    assert manifest.repos[1].groups[2].prune is True


def test_the_memo_does_not_outlive_its_document():
    # The same shape with other values, loaded after the first: ids of freed objects are
    # reused by Python, so a memo kept between loads would hand back the first's records.
    first = SHAPES["shared groups"]
    second = first.replace("env/default.env", "env/other.env").replace("DB_URL", "DB_URI")
    for text in (first, second, first):
        Path(M).write_text(textwrap.dedent(text), encoding="utf-8")
        manifest = loader.load_manifest(Path(M))
        refs = {
            getattr(layer, "ref", None) or layer.source.ref  # type: ignore[union-attr]
            for repo in manifest.repos
            for group in repo.groups
            for layer in group.layers
        }
        expected = "env/other.env" if text is second else "env/default.env"
        assert expected in refs
        assert ("DB_URI" if text is second else "DB_URL") in refs
        assert len(refs) == 5


def test_a_new_builder_never_reuses_records_of_objects_it_did_not_see():
    # What a memo kept between documents would do once Python reuses a freed object's id,
    # made certain: the same objects, changed in place, then built by a new builder.
    Path(M).write_text(textwrap.dedent(SHAPES["shared groups"]), encoding="utf-8")
    doc, found = read_yaml(Path(M).read_text(encoding="utf-8"), M)
    assert doc is not None and not found
    folder = Path(os.path.realpath("."))
    before = loader._Builder(doc, Path(M)).manifest(folder, ())
    assert isinstance(doc.data, dict)
    doc.data["repos"][0]["groups"]["default"]["dotenv"] = "env/changed.env"
    after = loader._Builder(doc, Path(M)).manifest(folder, ())
    refs = [repo.groups[0].layers[0] for repo in (*before.repos, *after.repos)]
    assert [getattr(layer, "ref", None) for layer in refs] == [
        *["env/default.env"] * 3,
        *["env/changed.env"] * 3,
    ]
