"""The rules a schema cannot say: duplicate repositories, unknown sets (with a suggestion),
control characters in paths, file_roots outside the repository, a malformed api.url, and the
size of the manifest once `use:` copies each set into its groups (`limits`), counted before
anything is built.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from secretsync import names
from secretsync.errors import ConfigError, Problem
from secretsync.limits import MAX_EXPANDED_ENTRIES, MAX_SUGGESTION_CANDIDATES, MAX_SUGGESTIONS
from secretsync.manifest.yamlread import Document
from secretsync.names import NodePath, has_control, key_path, quote
from secretsync.sourcecraft.endpoint import check_url

_SET_RE = re.compile(names.SET)


def inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def rule_problems(doc: Document, file: str, folder: Path, repository: Path) -> list[Problem]:
    """What the schema cannot say: duplicate repositories, unknown sets, control characters,
    file_roots outside the repository, a malformed api.url.

    Runs on schema-invalid data too (skipping what has the wrong type), so one run shows all.
    """
    out: list[Problem] = []

    def add(path: NodePath, message: str) -> None:
        line, col = doc.pos(path)
        message += doc.via(path)  # the place is the anchor's; the path says where it is used
        out.append(Problem(file=file, line=line, col=col, key_path=key_path(path), message=message))

    data = doc.data if isinstance(doc.data, dict) else {}
    sets = data.get("sets") if isinstance(data.get("sets"), dict) else {}
    assert isinstance(sets, dict)
    seen_repos: dict[tuple[str, str], int] = {}
    suggest = _Suggester([str(name) for name in sets])
    expanded = _Expansion(sets)
    # Aliases make many paths reach one object (issue 13: 1,000 repositories share one
    # `groups:` mapping). What is found in one depends only on it (and on the sets, the same
    # for all), so it is looked at once and its findings repeated at each path that reaches
    # it, each problem then placed and named by that path (`add`). Without links nothing is
    # shared and the memos would only cost.
    shared = bool(doc.links)
    # id of a `groups:` mapping with no problem -> its entries, sets copied in (_Expansion)
    clean: dict[int, int] = {}
    for path in _control_in_paths(data, (), in_path_field=False, memo={} if shared else None):
        add(
            path,
            "must not contain control characters or lone surrogates "
            "(newline, tab, NUL, \\ud800...)",
        )
    for path, root in _names(data.get("file_roots"), ("file_roots",)):
        if has_control(root):
            continue  # said above
        if not inside(Path(os.path.realpath(folder / root)), repository):
            add(
                path,
                f"{quote(root)} is outside the repository ({repository}); a folder outside "
                "it can be allowed only by the pipeline: --file-root or SECRETSYNC_FILE_ROOTS",
            )
    api = data.get("api")
    url = api.get("url") if isinstance(api, dict) else None
    if isinstance(url, str):
        try:
            check_url(url, origin="api.url")
        except ConfigError as err:
            add(("api", "url"), err.message.removeprefix("api.url: "))
    for index, entry in items(data.get("repos")):
        if not isinstance(entry, dict):
            continue
        for field, kind in (("repo", "repository"), ("repo_id", "repository id")):
            name = entry.get(field)
            if isinstance(name, str):
                first = seen_repos.setdefault((field, name.lower()), index)
                if first != index:
                    add(
                        ("repos", index, field),
                        f"{kind} {quote(name)} is already listed at repos[{first}]",
                    )
        groups = entry.get("groups")
        if not isinstance(groups, dict):
            continue
        if shared:
            entries = clean.get(id(groups))
            if entries is not None and expanded.total + entries <= MAX_EXPANDED_ENTRIES:
                expanded.total += entries  # as the loop below would, with nothing to say
                continue
            said, counted = len(out), expanded.total
        for group_name, group in groups.items():
            if not isinstance(group, dict):
                continue
            group_path: NodePath = ("repos", index, "groups", group_name)
            for path, set_name in _names(group.get("use"), (*group_path, "use")):
                if set_name not in sets and _SET_RE.fullmatch(set_name):  # else the schema said
                    message = f"unknown set {quote(set_name)}"
                    hint = suggest(set_name)
                    if hint:
                        message += f" (did you mean {quote(hint)}?)"
                    elif not sets:
                        message += " (there is no top-level 'sets:')"
                    add(path, message)
            if expanded.over(group):
                add(
                    group_path,
                    f"with the sets it uses, the groups so far hold over {MAX_EXPANDED_ENTRIES:,} "
                    "entries (the limit per manifest); split the manifest or use fewer sets",
                )
        if shared and len(out) == said:
            clean[id(groups)] = expanded.total - counted
    return out


class _Suggester:
    """ "did you mean": at most MAX_SUGGESTIONS per manifest, and none among too many names
    (each suggestion compares the name with every candidate)."""

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = candidates if len(candidates) <= MAX_SUGGESTION_CANDIDATES else []
        self.left = MAX_SUGGESTIONS

    def __call__(self, name: str) -> str | None:
        if self.left <= 0 or not self.candidates:
            return None
        self.left -= 1
        found = difflib.get_close_matches(name, self.candidates, n=1)
        return found[0] if found else None


class _Expansion:
    """Counts a group's entries with the sets it uses copied in, as the builder will."""

    def __init__(self, sets: dict[object, object]) -> None:
        self.sets = sets
        self.total = 0
        self.said = False

    def over(self, group: dict[object, object]) -> bool:
        self.total += _entries(group)
        for name in strs(group.get("use")):
            used = self.sets.get(name)
            self.total += _entries(used) if isinstance(used, dict) else 0
        if self.total <= MAX_EXPANDED_ENTRIES or self.said:
            return False
        self.said = True  # once: the groups after it are over too
        return True


def _entries(holder: dict[object, object]) -> int:
    secrets = holder.get("secrets")
    count = len(secrets) if isinstance(secrets, dict) else 0
    return count + len(strs(holder.get("dotenv")))


def items(value: object) -> Iterator[tuple[int, object]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def _names(value: object, path: NodePath) -> Iterator[tuple[NodePath, str]]:
    if isinstance(value, str):
        yield path, value
    for index, item in items(value):
        if isinstance(item, str):
            yield (*path, index), item


_PATH_FIELDS = frozenset({"file", "dotenv", "file_roots", "match", "exclude"})


def _control_in_paths(
    value: object,
    path: NodePath,
    *,
    in_path_field: bool,
    memo: dict[tuple[int, bool], list[NodePath]] | None = None,
) -> list[NodePath]:
    """Paths of strings with control characters under a path-like field (whatever nests
    between: a list of paths, or a mapping where the schema wanted a string).

    `memo`: (id of a mapping or list, in_path_field) -> what was found in it, as paths from
    it; the data outlives the memo, so no id is reused while it lives."""
    return [(*path, *rest) for rest in _control_below(value, in_path_field, memo)]


def _control_below(
    value: object, in_path_field: bool, memo: dict[tuple[int, bool], list[NodePath]] | None
) -> list[NodePath]:
    if isinstance(value, str):
        return [()] if in_path_field and has_control(value) else []
    if memo is not None:
        known = memo.get((id(value), in_path_field))
        if known is not None:
            return known
    found: list[NodePath] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) or key in _PATH_FIELDS:
                below = _control_below(item, key in _PATH_FIELDS, memo)
                if below:  # rarely: no list built for the many with nothing
                    found += [(key, *rest) for rest in below]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list, str)):
                below = _control_below(item, in_path_field, memo)
                if below:
                    found += [(index, *rest) for rest in below]
    if memo is not None:
        memo[(id(value), in_path_field)] = found
    return found


def strs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
