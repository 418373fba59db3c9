"""LeanAsyncTransport over TLS: a verifying context, a round trip, verification failures."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess

import httpx
import pytest

from secretsync.http.transport import LeanAsyncTransport
from tests.http.helpers import Server, answer_ok, client


def test_https_uses_a_verifying_context():
    context = LeanAsyncTransport(max_connections=1).ssl_context
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED


def self_signed(tmp_path):
    """A server context with a fresh self-signed certificate for `localhost`, and its PEM."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, cert.read_text()


def test_tls_round_trip_and_verification_failures(tmp_path):
    server_context, ca_pem = self_signed(tmp_path)
    trusting = ssl.create_default_context(cadata=ca_pem)

    async def main():
        async with Server(answer_ok, tls=server_context) as server:
            async with client(ssl_context=trusting) as http:
                good = await http.get(f"https://localhost:{server.port}/tls")
                assert good.json() == {"path": "/tls"}
                with pytest.raises(httpx.ConnectError):  # the name does not match
                    await http.get(f"https://127.0.0.1:{server.port}/tls")
            async with client() as http:  # certifi's CAs do not know this certificate
                with pytest.raises(httpx.ConnectError):
                    await http.get(f"https://localhost:{server.port}/tls")
            return server

    server = asyncio.run(main())
    assert [s.target for s in server.seen] == ["/tls"]
