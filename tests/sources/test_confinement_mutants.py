"""File confinement at its edges: dot segments, the manifest's folder itself, and which refusal
a reader gets (mutants of sources/resolve.py that scripts/mutation.py found unwatched)."""

from secretsync.sources.files import SourceFiles
from secretsync.sources.resolve import resolve_sources
from tests.sources.helpers import M, group_of, manifest, one, values, write


def test_a_parent_folder_named_by_dot_dot_is_outside(tmp_path):
    # `..` ends in a dot segment: resolved whole, so "<folder>/.." is never taken as inside.
    m = manifest("default: {secrets: {K: {file: ..}}}\n", path=f"proj/{M}")
    assert "file .. is outside the manifest's folder; list its folder under file_roots:" in one(m)


def test_the_manifest_folder_itself_is_inside_but_not_a_file(tmp_path):
    m = manifest("default: {secrets: {K: {file: .}}}\n")
    assert "file . is a folder, not a file" in one(m)


def test_a_refusal_with_file_roots_says_every_root_was_tried(tmp_path):
    (tmp_path / ".git").mkdir()
    write("shared/ok.key", "fine")
    write("elsewhere.key", "x")
    top = "file_roots: [../shared]\n"
    m = manifest("default: {secrets: {K: {file: ../elsewhere.key}}}\n", top=top, path=f"proj/{M}")
    assert "file ../elsewhere.key is outside the manifest's folder and every file_roots folder" in (
        one(m)
    )
    m = manifest("default: {secrets: {A: {file: ../shared/ok.key}}}\n", top=top, path=f"proj/{M}")
    assert values(group_of(resolve_sources(m, {}))) == {"A": b"fine"}


def test_a_file_name_the_os_cannot_take_is_a_reason_not_a_crash(tmp_path):
    # load_manifest refuses lone surrogates; a Manifest built by hand reaches SourceFiles.
    m = manifest("default: {secrets: {K: {file: k.key}}}\n")
    assert SourceFiles(m).read("bad\ud800.key") == "is not a valid file name"
