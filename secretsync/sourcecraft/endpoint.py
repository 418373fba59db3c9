"""Where the token may go, and where it comes from. `plan` runs on unreviewed pull requests, so
the manifest alone must never be able to point the token at another host: only the default API
host, or a URL that the pipeline itself sets (`--api-url` / `SOURCECRAFT_API_URL`), ever
receives it. Nor may it choose which variable is the token (it could name another CI secret,
sent as the bearer token to an API that logs it): only `SOURCECRAFT_TOKEN`, or a variable the
pipeline names (`--token-env` / `SECRETSYNC_TOKEN_ENV`). The one home of the default URL, the
token variable's name and the token check."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from secretsync.errors import ConfigError
from secretsync.models import Location, Secret
from secretsync.names import KEY_RE, quote

DEFAULT_API_URL = "https://api.sourcecraft.tech"
API_URL_ENV = "SOURCECRAFT_API_URL"
# SourceCraft CI predefines this variable with a token; a variable's name, not a token.
DEFAULT_TOKEN_ENV = "SOURCECRAFT_TOKEN"  # noqa: S105
TOKEN_ENV_ENV = "SECRETSYNC_TOKEN_ENV"  # noqa: S105


def read_token(token_env: str, environ: Mapping[str, str]) -> Secret:
    """The token from `token_env`, refused when missing, empty, or not a header's characters."""
    raw = environ.get(token_env, "").strip()
    if not raw:
        state = "is not set" if token_env not in environ else "is empty"
        raise ConfigError(
            f"environment variable {token_env} {state}",
            hint=f"export {token_env} with a SourceCraft personal access token "
            f"(SourceCraft CI predefines {DEFAULT_TOKEN_ENV})",
        )
    if not is_header_safe(raw.encode()):
        raise ConfigError(
            f"environment variable {token_env} holds characters a token cannot have "
            "(whitespace, control or non-ASCII characters)"
        )
    return Secret(raw.encode())


def is_header_safe(raw: bytes) -> bool:
    """Printable ASCII with no space: what an Authorization header may carry unquoted (h11
    would quote the value in its error message otherwise)."""
    return bool(raw) and all(0x21 <= b <= 0x7E for b in raw)


class UnpinnedTokenEnvError(ConfigError):
    """The manifest names another token variable and the pipeline did not pin one: plan and
    apply stop here; validate, which reads no token, only notes it."""


def choose_token_env(
    *, manifest_env: str, written_at: Location | None, pipeline_env: str | None
) -> str:
    """The variable holding the token: the pipeline's if it named one, else the default. A
    manifest naming another variable is refused unless the pipeline pinned one."""
    if pipeline_env:
        if not KEY_RE.fullmatch(pipeline_env):
            raise ConfigError(
                f"--token-env / {TOKEN_ENV_ENV}: {quote(pipeline_env)} is not a variable name"
            )
        return pipeline_env
    if manifest_env != DEFAULT_TOKEN_ENV:
        where = f"{written_at}: api.token_env: " if written_at is not None else "api.token_env: "
        raise UnpinnedTokenEnvError(
            f"{where}the manifest names {quote(manifest_env)} as the token's variable, but only "
            "the pipeline may choose it (a pull request could name another CI secret)",
            hint=f"pin it in the pipeline: --token-env {manifest_env} "
            f"(or set {TOKEN_ENV_ENV}={manifest_env})",
        )
    return DEFAULT_TOKEN_ENV


class UnpinnedUrlError(ConfigError):
    """The manifest names another host and the pipeline did not pin it: plan and apply stop
    here; validate, which sends no token, only notes it."""


def choose_api_url(*, manifest_url: str | None, pipeline_url: str | None) -> str:
    """The URL to talk to: the pipeline's if it set one, else the manifest's (default host
    only), else the default."""
    if pipeline_url:
        return check_url(pipeline_url, origin="--api-url / " + API_URL_ENV)
    if manifest_url:
        url = check_url(manifest_url, origin="api.url in the manifest")
        if origin(url) != origin(DEFAULT_API_URL):
            host = urlsplit(url).netloc
            raise UnpinnedUrlError(
                f"the manifest's api.url names {host}, but a manifest may not send the token "
                f"to any host other than {urlsplit(DEFAULT_API_URL).netloc}",
                hint=f"pin the URL in the pipeline instead: --api-url {url} (or set {API_URL_ENV})",
            )
        return url
    return DEFAULT_API_URL


def check_url(url: str, *, origin: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port that is not 0-65535
    except ValueError:
        message = f"{origin}: {quote(url)} is not a valid URL (check its host and port)"
        raise ConfigError(message) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{origin}: {quote(url)} is not an http(s) URL")
    if parts.username or parts.password:
        raise ConfigError(f"{origin}: credentials in the URL are not allowed; use the token")
    if parts.query or parts.fragment:
        raise ConfigError(f"{origin}: the API URL may not have a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{origin}: plain http is allowed only on loopback (127.0.0.1, ::1, localhost); "
            f"use https://{parts.netloc}{parts.path}"
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Origin = tuple[str, str, int]


def origin(url: str) -> Origin | None:
    """(scheme, host in lower case, port with the scheme's default filled in): what decides
    whether two URLs reach the same server. None for a URL whose port cannot be read."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    default = 443 if parts.scheme == "https" else 80
    return (parts.scheme, (parts.hostname or "").lower(), port or default)
