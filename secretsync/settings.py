"""What a run is asked to do: `JobSettings`, built from the command line in one place
(`cli/options.py: job_settings`) and read by the pipeline. Light: no httpx."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from secretsync.defaults import (
    DEFAULT_MAX_DELETES,
    DEFAULT_OPERATION_TIMEOUT_S,
    DEFAULT_PARALLELISM,
    DEFAULT_REQUEST_TIMEOUT_S,
)
from secretsync.plan.planner import Selection
from secretsync.sources.allow import EnvAllowlist


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSettings:
    """What the command line asks for: manifest, API, parallelism, selection, limits."""

    manifest_path: Path
    pipeline_api_url: str | None = None  # --api-url / SOURCECRAFT_API_URL
    # Where pipeline_api_url came from, for messages: "--api-url" or "SOURCECRAFT_API_URL".
    pipeline_api_url_from: str = "--api-url"
    pipeline_token_env: str | None = None  # --token-env / SECRETSYNC_TOKEN_ENV
    file_roots: tuple[Path, ...] = ()  # --file-root / SECRETSYNC_FILE_ROOTS
    allow_env: EnvAllowlist | None = None  # --allow-env / SECRETSYNC_ALLOW_ENV; None: any
    parallelism: int = DEFAULT_PARALLELISM
    selection: Selection = field(default_factory=Selection)
    overwrite_unknown: bool = False
    operation_timeout_s: float = DEFAULT_OPERATION_TIMEOUT_S
    max_deletes: int | None = DEFAULT_MAX_DELETES  # None: no limit
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S  # --request-timeout: one attempt
