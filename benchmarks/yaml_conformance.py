"""The manifest's YAML reader against yaml-test-suite: agreement figures, nothing asserted.

    git clone -b data https://github.com/yaml/yaml-test-suite /tmp/yts   # the `data` branch
    .venv/bin/python benchmarks/yaml_conformance.py /tmp/yts [--list]

Every case folder holding an `in.yaml` is read three ways: by secretsync's reader
(`read_yaml`, libyaml first as the loader does, then the pure parser for the problems), by
ruamel.yaml's round-trip loader (`YAML(typ="rt")`, made plain: CommentedMap -> dict...), and
against the suite's expected data (`in.json`) where there is one. Printed:

- valid single-document cases: the reader's data equals in.json / equals ruamel's;
- of the inputs ruamel's loader reads: same data, a refusal (by reason: each is one located
  problem), different data (a bug), or an internal error (a bug);
- the suite's invalid inputs: refused or read;
- any exception out of the reader at all (the goal is none).

`--list` prints the case ids behind every figure that is not agreement.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ruamel.yaml import YAML
from ruamel.yaml.scalarbool import ScalarBoolean

from secretsync.manifest.yamlread import read_yaml

_NO_DATA = object()


def plain(value: object) -> object:
    """ruamel's round-trip types as the plain ones the reader gives."""
    if isinstance(value, dict):
        return {_hashable(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    if isinstance(value, ScalarBoolean):  # an anchored boolean: an int subclass
        return bool(value)
    for kind in (bool, int, float, str):  # bool first: it is an int
        if isinstance(value, kind):
            return kind(value)
    if hasattr(value, "value") and hasattr(value, "tag"):  # TaggedScalar
        return str(value.value)
    return value


def _hashable(key: object) -> object:
    return tuple(map(_hashable, key)) if isinstance(key, list) else key


def same(a: object, b: object) -> bool:
    """Equal, with bool, int and float told apart (True == 1 == 1.0 in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


def expected_json(case: Path) -> object:
    path = case / "in.json"
    if not path.exists():
        return _NO_DATA
    text = path.read_text(encoding="utf-8").strip()
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(text) if text else (_NO_DATA, 0)
    return value if end == len(text) else _NO_DATA  # several documents: not comparable


def ruamel_data(text: str) -> object:
    try:
        docs = list(YAML(typ="rt").load_all(text))
    except Exception:  # ruamel raises all sorts; we only ask if it reads
        return _NO_DATA
    return plain(docs[0]) if len(docs) == 1 else _NO_DATA


def reason(message: str) -> str:
    lowered = message.lower()
    for word, label in (
        ("tab", "tabs (ruamel's parser)"),
        ("tag", "tags other than the core ones"),
        ("directive", "directives"),
        ("alias", "aliases"),
        ("anchor", "aliases"),
        ("merge", "merge keys"),
        ("key must be", "keys that are not strings"),
        ("only one yaml document", "several documents"),
        ("empty", "an empty document"),
        ("nested too deeply", "depth"),
        ("duplicate key", "duplicate keys"),
        ("not allowed", "characters"),
    ):
        if word in lowered:
            return label
    return "other parse errors"


def ours(text: str) -> tuple[object, str | None]:
    """(data, None), or (_NO_DATA, the refusal's reason); an exception propagates."""
    doc, problems = read_yaml(text, "in.yaml")
    if problems:
        _, problems = read_yaml(text, "in.yaml", fast=False)
        if not problems or any(p.line is None for p in problems):
            return _NO_DATA, "UNLOCATED refusal"
        return _NO_DATA, reason(problems[0].message)
    assert doc is not None
    return doc.data, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path, help="a checkout of yaml-test-suite's data branch")
    parser.add_argument("--list", action="store_true", help="name the cases behind each figure")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # ruamel warns of reused anchors and such
    cases = sorted(p.parent for p in args.suite.rglob("in.yaml"))
    tally: collections.Counter[str] = collections.Counter()
    ids: dict[str, list[str]] = collections.defaultdict(list)

    def count(label: str, case: Path) -> None:
        tally[label] += 1
        ids[label].append(str(case.relative_to(args.suite)))

    for case in cases:
        raw = (case / "in.yaml").read_bytes().removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        invalid = (case / "error").exists()
        events = (case / "test.event").read_text(encoding="utf-8")
        single = events.count("+DOC") == 1
        try:
            data, refused = ours(text)
        except Exception as err:  # exactly what this script looks for
            count(f"INTERNAL ERROR {type(err).__name__}", case)
            continue
        if invalid:
            count("invalid input: refused" if refused else "invalid input: READ", case)
            continue
        if not single:
            count("several documents: refused" if refused else "several documents: READ", case)
            continue
        count("valid single-document cases", case)
        expected = expected_json(case)
        if expected is not _NO_DATA:
            count("  with in.json", case)
            if refused is None and same(data, expected):
                count("  with in.json: same data", case)
        theirs = ruamel_data(text)
        if theirs is _NO_DATA:
            count("  ruamel's loader refuses" + (": we read" if refused is None else ""), case)
            continue
        count("  ruamel's loader reads", case)
        if refused is not None:
            count(f"    we refuse: {refused}", case)
        elif same(data, theirs):
            count("    same data as ruamel", case)
        else:
            count("    DIFFERENT data from ruamel", case)

    order = ["valid single-document cases", "  with in.json", "  with in.json: same data"]
    order += [
        "  ruamel's loader reads",
        "    same data as ruamel",
        "    DIFFERENT data from ruamel",
    ]
    order += sorted(k for k in tally if k.startswith("    we refuse"))
    order += sorted(k for k in tally if k not in order)
    for label in order:
        print(f"{tally[label]:>5}  {label}")
    if args.list:
        for label, names in sorted(ids.items()):
            if "same data" not in label and not label.startswith("valid"):
                print(f"\n{label}: {' '.join(names)}")


if __name__ == "__main__":
    main()
