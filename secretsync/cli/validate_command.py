"""`secretsync validate`: check the manifest offline (no token is read or sent)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from secretsync.cli.options import check_api_url, common_options
from secretsync.cli.output import err, out, setup_logging
from secretsync.errors import EXIT_OK

if TYPE_CHECKING:
    from secretsync.sources.allow import EnvAllowlist

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@click.command(context_settings=CONTEXT)
@common_options
@click.option("--no-env", is_flag=True, help="Don't require env variables (laptops, pre-commit).")
@click.option(
    "--api-url",
    envvar="SOURCECRAFT_API_URL",
    metavar="URL",
    callback=check_api_url,
    help="Check this API URL as the pipeline would set it.",
)
def validate(
    manifest: Path,
    file_roots: tuple[Path, ...],
    quiet: bool,
    verbose: bool,
    debug: bool,
    color: bool | None,
    no_env: bool,
    api_url: str | None,
    token_env: str | None,
    allow_env: EnvAllowlist | None,
) -> int:
    """Check the manifest offline: schema, names, files, .env keys, env variables.

    \b
    Examples:
      secretsync validate
      secretsync validate -f infra/secretsync.yaml --no-env
    """
    setup_logging(verbose=verbose, debug=debug)
    from secretsync.manifest.loader import load_manifest
    from secretsync.sourcecraft.endpoint import (
        UnpinnedTokenEnvError,
        UnpinnedUrlError,
        choose_api_url,
        choose_token_env,
    )
    from secretsync.sources.resolve import check_sources

    loaded = load_manifest(manifest, extra_roots=file_roots)
    try:
        choose_api_url(manifest_url=loaded.api_url, pipeline_url=api_url)
    except UnpinnedUrlError as exc:
        # validate sends no token, so a self-hosted api.url is no error here (the pre-commit
        # hook has no pipeline to pin it); plan and apply still refuse it unpinned.
        if not quiet:
            err(f"note: {exc.message}; plan and apply need it pinned")
            err(f"hint: {exc.hint}")
    try:
        choose_token_env(
            manifest_env=loaded.token_env, written_at=loaded.token_env_at, pipeline_env=token_env
        )
    except UnpinnedTokenEnvError as exc:
        # Likewise: validate reads no token; plan and apply refuse the variable unpinned.
        if not quiet:
            err(f"note: {exc.message}; plan and apply need it pinned")
            err(f"hint: {exc.hint}")
    check_sources(loaded, None if no_env else os.environ, allow_env=allow_env)
    groups = sum(len(r.groups) for r in loaded.repos)
    if not quiet:
        skipped = " (env variables not checked)" if no_env else ""
        entries = f"{_count(len(loaded.repos), 'repository entry', 'repository entries')}, "
        entries += _count(groups, "group", "groups")
        out(f"{manifest}: valid, {entries}{skipped}.\n")
    return EXIT_OK
