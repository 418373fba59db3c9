"""Every API path, built in one place, and only from names that pass their rule (names.py).

A name from the manifest or from an API answer becomes a path segment only when it is valid
for its place: a secret name (`KEY`), an organization or repository slug (`ORG`), an id the
API handed out (`API_ID`). None of those can be a dot segment or hold '/', '%', '?' or '#', so
each segment goes out exactly as written and nothing on the way to the socket (httpx's URL
parser collapses dot segments) can turn a name into another path: a listed key `..` must
never become `DELETE /repos/id:<repo>`. Anything else is refused before a request exists.
"""

from __future__ import annotations

import re
from urllib.parse import quote as percent_encode

from secretsync.errors import ConfigError
from secretsync.names import API_ID_RE, KEY_RE, ORG_RE, quote

__all__ = [
    "operation",
    "org_repos",
    "pull_comment",
    "pull_comments",
    "repo",
    "repo_by_id",
    "secret",
    "secrets",
]


def repo(org: str, name: str) -> str:
    org_part = _segment(org, ORG_RE, "organization slug")
    return f"/repos/{org_part}/{_segment(name, ORG_RE, 'repository slug')}"


def repo_by_id(repo_id: str) -> str:
    return f"/repos/id:{_segment(repo_id, API_ID_RE, 'repository id')}"


def org_repos(org: str) -> str:
    return f"/orgs/{_segment(org, ORG_RE, 'organization slug')}/repos"


def secrets(repo_id: str) -> str:
    return f"{repo_by_id(repo_id)}/secrets"


def secret(repo_id: str, key: str) -> str:
    return f"{secrets(repo_id)}/{_segment(key, KEY_RE, 'secret name')}"


def operation(operation_id: str) -> str:
    return f"/operations/secrets/id:{_segment(operation_id, API_ID_RE, 'operation id')}"


def pull_comments(org: str, repo_name: str, pull: str) -> str:
    return f"{repo(org, repo_name)}/pulls/{_segment(pull, ORG_RE, 'pull request')}/comments"


def pull_comment(comment_id: str) -> str:
    return f"/pull_comments/id:{_segment(comment_id, API_ID_RE, 'comment id')}"


def _segment(name: str, rule: re.Pattern[str], what: str) -> str:
    if not rule.fullmatch(name):
        raise ConfigError(f"{quote(name)} is not a valid {what}; it is never sent in a URL")
    # The rules admit unreserved characters only, so this changes nothing; it stays so that a
    # looser rule could never put a raw '/' or '%' into a path.
    return percent_encode(name, safe="")
