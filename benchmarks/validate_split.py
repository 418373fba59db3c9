"""Where `secretsync validate` spends its time on one manifest, in process: read (file to
text), parse (YAML to a positioned document), schema (JSON Schema), rules (what a schema cannot
say), build (records), sources (files and .env keys, --no-env). Medians in seconds of CPU time (on a
shared machine wall time counts the neighbours too), as JSON.

    .venv/bin/python benchmarks/validate_split.py MANIFEST [--runs 3]

It times load_manifest's own steps, in its order (secretsync/manifest/loader.py), so a change
there must be mirrored here; the sum is checked against load_manifest itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from secretsync.manifest import loader
from secretsync.manifest.rules import rule_problems
from secretsync.manifest.schema import schema_problems
from secretsync.manifest.yamlread import read_yaml
from secretsync.sources.resolve import check_sources


def timed(step: Callable[[], Any], into: list[float]) -> Any:
    start = time.process_time()
    out = step()
    into.append(time.process_time() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path: Path = args.manifest
    file = str(path)
    folder = Path(os.path.realpath(path.absolute().parent))
    repository = loader.repository_root(folder)
    steps: dict[str, list[float]] = {
        k: [] for k in ("read", "parse", "schema", "rules", "build", "sources", "load_manifest")
    }
    for _ in range(args.runs):
        text = timed(
            lambda: loader._decode(loader._read_bytes(path, file, repository), file),
            steps["read"],
        )
        doc, problems = timed(lambda: read_yaml(text, file, fast=True), steps["parse"])  # noqa: B023
        assert doc is not None and not problems
        assert not timed(lambda: schema_problems(doc, file), steps["schema"])  # noqa: B023
        rules = timed(
            lambda: rule_problems(doc, file, folder, repository),  # noqa: B023
            steps["rules"],
        )
        assert not rules
        manifest = timed(
            lambda: loader._Builder(doc, path).manifest(folder, ()),  # noqa: B023
            steps["build"],
        )
        timed(lambda: check_sources(manifest, None), steps["sources"])  # noqa: B023
        timed(lambda: loader.load_manifest(path), steps["load_manifest"])
    print(json.dumps({k: round(statistics.median(v), 4) for k, v in steps.items()}))


if __name__ == "__main__":
    main()
