"""`secretsync import`: write a starting manifest for secrets that already exist."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import click

from secretsync.cli.options import check_api_url
from secretsync.cli.output import REDACT, err, setup_logging
from secretsync.errors import EXIT_OK, ConfigError
from secretsync.names import GROUP, SLUG, UUID, quote
from secretsync.sourcecraft.endpoint import DEFAULT_TOKEN_ENV


def _check_repo(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """org/repo, a UUID, or id:UUID (the form plan and apply print): the latter as a UUID."""
    text = value.strip()
    bare = text[3:] if text.startswith("id:") else text
    if re.fullmatch(UUID, bare):
        return bare
    if re.fullmatch(SLUG, text):
        return text
    raise click.BadParameter(
        f"{quote(value)} is not org/repo or a repository id (UUID or id:UUID)",
        ctx=ctx,
        param=param,
    )


def _check_groups(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    for group in value:
        if not re.fullmatch(GROUP, group):
            raise click.BadParameter(f"{quote(group)} is not a secret group name", ctx=ctx)
    return value


@click.command("import", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--repo",
    required=True,
    metavar="ORG/REPO|ID",
    callback=_check_repo,
    help="The repository to read: org/repo, or its id (UUID or id:UUID, as plan prints it).",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    default=("default",),
    show_default=True,
    callback=_check_groups,
    help="Secret groups to read; repeatable (the API cannot list groups).",
)
@click.option(
    "-o",
    "--output",
    default="secretsync.yaml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the manifest.",
)
@click.option(
    "--env-template",
    default="secretsync.env.example",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the variable names (no values).",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--api-url",
    envvar="SOURCECRAFT_API_URL",
    metavar="URL",
    callback=check_api_url,
    help="API base URL. [env: SOURCECRAFT_API_URL]",
)
@click.option(
    "--token-env",
    default=DEFAULT_TOKEN_ENV,
    envvar="SECRETSYNC_TOKEN_ENV",
    show_default=True,
    help="Variable holding the token. [env: SECRETSYNC_TOKEN_ENV]",
)
@click.option("-v", "--verbose", is_flag=True, help="Log retries and waits.")
@click.option(
    "--debug", is_flag=True, help="Debug logging; tracebacks for errors (values stay masked)."
)
def import_command(
    repo: str,
    groups: tuple[str, ...],
    output: Path,
    env_template: Path,
    force: bool,
    api_url: str | None,
    token_env: str,
    verbose: bool,
    debug: bool,
) -> int:
    """Write a starting manifest for secrets that already exist (key names only, no values).

    \b
    Examples:
      secretsync import --repo acme/backend
      secretsync import --repo acme/backend --group default --group production \
          -o infra/secretsync.yaml
    """
    setup_logging(verbose=verbose, debug=debug)
    from secretsync.importer import (
        ImportedRepo,
        fetch_existing,
        render_env_template,
        render_manifest,
    )
    from secretsync.safefile import write_atomically
    from secretsync.sourcecraft.client import SourceCraftClient, build_http_client
    from secretsync.sourcecraft.endpoint import choose_api_url, read_token

    for path in (output, env_template):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; pass --force to overwrite it")
    url = choose_api_url(manifest_url=None, pipeline_url=api_url)
    token = read_token(token_env, os.environ)
    REDACT.add([token])

    async def go() -> ImportedRepo:
        async with build_http_client(parallelism=4) as http:
            client = SourceCraftClient(
                http, base_url=url, token=token, token_env=token_env, parallelism=4
            )
            return await fetch_existing(client, repo, groups)

    imported = asyncio.run(go())
    write_atomically(output, render_manifest(imported))
    write_atomically(env_template, render_env_template(imported))
    total = sum(len(keys) for _, keys in imported.groups)
    err(f"wrote {output} ({total} secrets in {len(groups)} group(s)) and {env_template}")
    for group, keys in imported.groups:
        if not keys:
            # The API lists a group that does not exist as an empty one: a typo looks alike.
            err(
                f"warning: group {quote(group)} of {repo} has no secrets; check its name "
                "(the API cannot tell a missing group from an empty one)"
            )
    if imported.skipped:
        err(
            f"warning: {imported.skipped} stored key(s) are not valid secret names "
            "(letters, digits, '_'; not starting with a digit) and were left out"
        )
    return EXIT_OK
