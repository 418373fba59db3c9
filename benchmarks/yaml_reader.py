"""Does yamlwalk.py (the fenced fast path) still earn its place? The reader alone, in process.

    .venv/bin/python benchmarks/yaml_reader.py [--runs 5]

Median wall time to turn manifest text into plain data plus the position of every node:
- read_yaml as the loader calls it (libyaml's events when installed, walked by yamlwalk.py);
- read_yaml on ruamel's pure-Python parser (as without ruamel.yaml.clib);
- the replacement the fence names: ruamel's own round-trip loader (`YAML(typ="rt")`, which
  expands aliases and merge keys itself) plus one walk over its CommentedMaps for positions.
On load_manifest.py's 1 MiB manifest and on its anchored one (1,000 repos reusing one group).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load_manifest import anchored_manifest, big_manifest
from ruamel.yaml import YAML

from secretsync.manifest import yamlread

Positions = dict[tuple[object, ...], tuple[int, int]]


def ruamel_with_positions(text: str) -> tuple[object, Positions]:
    """ruamel's loader, then every node's place from its line/column records."""
    data = YAML(typ="rt").load(text)
    places: Positions = {}

    def walk(node: object, path: tuple[object, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                try:
                    line, col = node.lc.value(key)  # type: ignore[attr-defined]
                except (AttributeError, KeyError):  # a merged key: placed where it is written
                    line, col = 0, 0
                places[(*path, key)] = (line + 1, col + 1)
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                line, col = node.lc.item(index)  # type: ignore[attr-defined]
                places[(*path, index)] = (line + 1, col + 1)
                walk(value, (*path, index))

    walk(data, ())
    return data, places


def median_s(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    libyaml = yamlread._c_parser
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "big").mkdir()
        (Path(tmp) / "anchored").mkdir()
        big, _ = big_manifest(Path(tmp) / "big", None, 1 << 20)
        anchored, _ = anchored_manifest(Path(tmp) / "anchored", 1000)
        texts = [("1 MiB, written out", big.read_text()), ("anchored", anchored.read_text())]
    print(f"{'manifest':<20} {'reader':<44} {'median':>9}")
    for name, text in texts:
        expected = yamlread.read_yaml(text, "m.yaml")[0]
        assert expected is not None
        rows: list[tuple[str, Callable[[], object]]] = []
        if libyaml is not None:
            rows.append(("read_yaml, libyaml events (as shipped)", partial(read, text)))
        rows.append(("read_yaml, pure-Python parser", partial(read, text, pure=True)))
        rows.append(("ruamel rt loader + position walk", partial(ruamel_with_positions, text)))
        for label, action in rows:
            print(f"{name:<20} {label:<44} {median_s(action, args.runs) * 1000:>7.1f}ms")
        assert ruamel_with_positions(text)[0] == expected.data  # the same data either way


def read(text: str, *, pure: bool = False) -> object:
    saved = yamlread._c_parser
    if pure:
        yamlread._c_parser = None
    try:
        return yamlread.read_yaml(text, "m.yaml")
    finally:
        yamlread._c_parser = saved


if __name__ == "__main__":
    main()
