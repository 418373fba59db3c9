"""The same job as secretsync's, written the plain way: the baseline bench.py measures against.

A pool of 16 threads, each with one keep-alive standard-library `http.client` connection.
For each repository: resolve its slug (`GET /repos/{org}/{repo}`), then list each group and
compare values. Then, for each key that differs: PUT it, and poll its operation until it ends
(first poll 50 ms after the PUT's answer, then every 50 ms: the operation's duration is not
known in advance). No retries: any error status ends the run with exit 1.

The job comes as JSON (repositories, groups, keys and values), the equivalent of the manifest
and its .env files: the baseline skips YAML, schema checks and file reading, which only
flatters it.

    python benchmarks/baseline.py plan|apply --url URL --job job.json [--threads 16]

Prints one JSON line: changes found, writes that ended in success, and failures.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

PENDING = ("scheduled", "in_progress")
Change = tuple[str, str, str, str]  # repo id, group, key, value


class Api:
    def __init__(self, url: str, token: str, poll_interval_s: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.poll_interval_s = poll_interval_s
        self.local = threading.local()

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers=self.headers)
        response = conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path.partition('?')[0]} -> HTTP {response.status}")
        return json.loads(data)

    def read(self, repo: dict[str, Any]) -> list[Change]:
        org, _, name = repo["slug"].partition("/")
        repo_id = self.request("GET", f"/repos/{quote(org, safe='')}/{quote(name, safe='')}")["id"]
        changes = []
        for group, wanted in repo["groups"].items():
            path = f"/repos/id:{repo_id}/secrets?secret_group={quote(group, safe='')}"
            stored = {
                s["key"]: s.get("value") for s in self.request("GET", path).get("secrets", [])
            }
            for key, value in wanted.items():
                if stored.get(key) != base64.b64encode(value.encode()).decode():
                    changes.append((repo_id, group, key, value))
        return changes

    def write(self, change: Change) -> bool:
        repo_id, group, key, value = change
        path = f"/repos/id:{repo_id}/secrets/{quote(key, safe='')}?secret_group={quote(group)}"
        op = self.request("PUT", path, {"value": base64.b64encode(value.encode()).decode()})
        while op["status"] in PENDING:
            time.sleep(self.poll_interval_s)
            op = self.request("GET", f"/operations/secrets/id:{op['operation_id']}")
        return bool(op["status"] == "success")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["plan", "apply"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--job", required=True, help="JSON: {repos: [{slug, groups}]}")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--poll-interval", type=float, default=0.05, help="seconds")
    args = parser.parse_args()
    with open(args.job, encoding="utf-8") as f:
        repos = json.load(f)["repos"]
    api = Api(args.url, os.environ["SOURCECRAFT_TOKEN"], args.poll_interval)
    with ThreadPoolExecutor(args.threads) as pool:
        changes = [c for found in pool.map(api.read, repos) for c in found]
        done = list(pool.map(api.write, changes)) if args.command == "apply" else []
    ok = sum(done)
    print(json.dumps({"changes": len(changes), "succeeded": ok, "failed": len(done) - ok}))
    sys.exit(1 if ok < len(done) else 0)


if __name__ == "__main__":
    main()
