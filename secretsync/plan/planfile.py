"""Saved plans: `plan --out FILE` writes one, `apply --plan FILE` refuses to run if the world
no longer matches it.

What the file stores: the API URL, the selection, every target and every change (repository,
group, key, action, source label) — and for the values, one single digest over all desired
values of the plan together: scrypt (n=2**15, r=8, p=1) with a random 16-byte salt. There is
nothing per value, so no value can be read back; guessing means guessing every value of the
plan at once, at scrypt's deliberately high cost per guess. But a pull request writes the
manifest: a plan of one low-entropy value (a PIN from the CI environment) can be guessed
offline from the file. With SECRETSYNC_PLAN_KEY set (a CI secret given to both the plan and
the apply job), the digest is also keyed (HMAC-SHA256 over the scrypt output), and the file
alone tests nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secretsync import __version__
from secretsync.errors import ConfigError, PlanMismatchError
from secretsync.models import DesiredGroup, Plan, Secret, Target
from secretsync.plan.planner import Selection
from secretsync.safefile import write_atomically

FORMAT = "secretsync-plan"
FORMAT_VERSION = 1
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


_KDF_PLAIN, _KDF_KEYED = "scrypt", "scrypt+hmac-sha256"
PLAN_KEY_ENV = "SECRETSYNC_PLAN_KEY"


def values_digest(
    desired: Sequence[tuple[Target, DesiredGroup]],
    selection: Selection,
    salt: bytes,
    key: Secret | None = None,
) -> bytes:
    material = bytearray()
    for target, group in desired:
        for secret in group.secrets:
            if not selection.wants_key(secret.key):
                continue
            for part in (
                target.repo_id.encode(),
                target.group.encode(),
                secret.key.encode(),
                secret.value.reveal(),
            ):
                material += len(part).to_bytes(8, "big") + part
    stretched = hashlib.scrypt(
        bytes(material), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **_SCRYPT
    )
    if key is None:
        return stretched
    return hmac.new(key.reveal(), stretched, hashlib.sha256).digest()


def _plan_body(plan: Plan, api_url: str) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "filters": list(plan.filters),
        "targets": [[t.repo, t.repo_id, t.group, t.prune] for t in plan.targets],
        "changes": [[c.repo_id, c.group, c.key, c.action.value, c.source] for c in plan.changes],
    }


def save_plan(
    path: Path,
    plan: Plan,
    desired: Sequence[tuple[Target, DesiredGroup]],
    *,
    api_url: str,
    selection: Selection,
    key: Secret | None = None,
) -> None:
    salt = secrets.token_bytes(16)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_by": f"secretsync {__version__}",
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "selection": {"repos": selection.repos, "groups": selection.groups, "keys": selection.keys},
        **_plan_body(plan, api_url),
        "values": {
            "kdf": _KDF_PLAIN if key is None else _KDF_KEYED,
            **_SCRYPT,
            "salt": base64.b64encode(salt).decode(),
            "digest": base64.b64encode(values_digest(desired, selection, salt, key)).decode(),
        },
    }
    write_atomically(path, json.dumps(document, indent=2) + "\n")


class SavedPlan:
    """A plan file as read back, checked for shape."""

    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document
        sel = document["selection"]
        self.selection = Selection(
            repos=tuple(sel["repos"]), groups=tuple(sel["groups"]), keys=tuple(sel["keys"])
        )

    def verify(
        self,
        plan: Plan,
        desired: Sequence[tuple[Target, DesiredGroup]],
        *,
        api_url: str,
        key: Secret | None = None,
    ) -> None:
        """Raise PlanMismatchError unless targets, keys, actions and values are as reviewed."""
        reviewed = self.document
        keyed = reviewed["values"]["kdf"] == _KDF_KEYED
        if keyed and key is None:
            raise ConfigError(
                f"{self.path} was saved with {PLAN_KEY_ENV} set; apply needs the same key",
                hint=f"give the apply job the {PLAN_KEY_ENV} secret the plan job had",
            )
        now = _plan_body(plan, api_url)
        differences: list[str] = []
        if reviewed["api_url"] != now["api_url"]:
            differences.append(f"API URL was {reviewed['api_url']}, now {now['api_url']}")
        if reviewed["targets"] != now["targets"]:
            differences.append("the set of repositories and groups differs")
        names = {t[1]: t[0] for t in [*reviewed["targets"], *now["targets"]]}
        old = {tuple(c[:3]): c for c in reviewed["changes"]}
        new = {tuple(c[:3]): c for c in now["changes"]}
        for where in sorted(old.keys() | new.keys()):
            before, after = old.get(where), new.get(where)
            if before == after:
                continue
            label = f"{names.get(where[0], where[0])} · {where[1]} · {where[2]}"
            was = f"{before[3]} from {before[4]}" if before else "absent"
            now_ = f"{after[3]} from {after[4]}" if after else "absent"
            differences.append(f"{label}: reviewed {was}, now {now_}")
        values = reviewed["values"]
        salt = base64.b64decode(values["salt"])
        digest = values_digest(desired, self.selection, salt, key if keyed else None)
        if not hmac.compare_digest(digest, base64.b64decode(values["digest"])):
            differences.append("the secret values behind the plan changed since it was reviewed")
        if differences:
            shown = "; ".join(differences[:5])
            more = f" (+{len(differences) - 5} more)" if len(differences) > 5 else ""
            raise PlanMismatchError(
                f"{self.path} does not match what apply would do now: {shown}{more}; "
                "nothing was changed",
                hint="run `secretsync plan --out` again and have the new plan reviewed",
            )


def plan_key(environ: Mapping[str, str]) -> Secret | None:
    """SECRETSYNC_PLAN_KEY, when set and not empty."""
    raw = environ.get(PLAN_KEY_ENV, "")
    return Secret(raw.encode()) if raw else None


def load_plan(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable plan file ({type(exc).__name__})") from None
    try:
        if document["format"] != FORMAT or document["format_version"] != FORMAT_VERSION:
            raise ConfigError(f"{path}: not a secretsync plan file of format version 1")
        values = document["values"]
        if (
            values["kdf"] not in (_KDF_PLAIN, _KDF_KEYED)
            or {k: values[k] for k in _SCRYPT} != _SCRYPT
        ):
            raise ConfigError(f"{path}: unsupported value digest")
        base64.b64decode(values["salt"], validate=True)
        base64.b64decode(values["digest"], validate=True)
        saved = SavedPlan(path, document)
        for key in ("api_url", "targets", "changes", "filters"):
            document[key]  # presence check
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: malformed plan file ({type(exc).__name__})") from None
    return saved
