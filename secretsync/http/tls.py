"""Which certificate authorities secretsync trusts: exactly what httpx's own transport trusts.

That is `SSL_CERT_FILE` when set, else `SSL_CERT_DIR` when set, else certifi's bundle (httpx's
`create_ssl_context()`, which both transports use, so a run through a proxy and a direct one
trust the same authorities). A self-hosted SourceCraft behind a private CA is reached by
pointing `SSL_CERT_FILE` at a PEM file holding that CA, as with curl, gh or Terraform.

The operating system's store (the `truststore` package, as pip uses) was considered and left
out: it would add a dependency and make the trusted set differ between the two transports and
between machines, while the CI runners secretsync targets are configured with SSL_CERT_FILE.
"""

from __future__ import annotations

import os
import ssl

import httpx

__all__ = ["TrustStoreError", "custom_trust", "trust_context", "trust_source"]


class TrustStoreError(Exception):
    """SSL_CERT_FILE or SSL_CERT_DIR names certificates that cannot be loaded."""


def custom_trust() -> bool:
    """Whether the environment names its own certificate authorities."""
    return bool(os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"))


def trust_source() -> str:
    """Where the trusted authorities come from, for messages."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if os.environ.get(name):
            return f"{name}={os.environ[name]}"
    return "certifi's CA bundle"


def trust_context() -> ssl.SSLContext:
    """A verifying client context that trusts what httpx's own transport trusts."""
    try:
        return httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or "unreadable"
        raise TrustStoreError(
            f"cannot load the certificate authorities of {trust_source()}: {reason}"
        ) from exc
