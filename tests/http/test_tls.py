"""Private certificate authorities: secretsync trusts what httpx's own transport trusts
(SSL_CERT_FILE, else SSL_CERT_DIR, else certifi), in both transports, and a certificate it
cannot verify fails at once with one line that says so, for which host, and what to do.

The server is real TLS on 127.0.0.1 with a CA made by the test (the `openssl` command line).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretsync.errors import ConfigError, TransportError
from secretsync.http.client import LeanAsyncClient
from secretsync.models import Secret
from secretsync.sourcecraft.client import SourceCraftClient, build_http_client
from tests.hostile import HostileServer, json_answer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
# httpx's own transport: a proxy variable is set, and NO_PROXY sends 127.0.0.1 direct
HTTPX_TRANSPORT = {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"}
TRANSPORTS = [pytest.param({}, id="lean"), pytest.param(HTTPX_TRANSPORT, id="httpx")]


@dataclass(frozen=True)
class PrivateCA:
    ca: Path  # the CA's certificate (PEM)
    ca_dir: Path  # a hashed folder holding it, as SSL_CERT_DIR expects
    server_cert: Path
    server_key: Path
    other_cert: Path  # signed by the CA for another name only
    other_key: Path

    def server_context(self, *, other: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if other:
            context.load_cert_chain(self.other_cert, self.other_key)
        else:
            context.load_cert_chain(self.server_cert, self.server_key)
        return context


def openssl(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def leaf(root: Path, name: str, san: str) -> tuple[Path, Path]:
    key, csr, cert, ext = (root / f"{name}.{x}" for x in ("key", "csr", "pem", "ext"))
    ext.write_text(
        f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key.name,
            "-out", csr.name, "-subj", f"/CN={name}", cwd=root)  # fmt: skip
    openssl("x509", "-req", "-in", csr.name, "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", cert.name, "-days", "2", "-sha256",
            "-extfile", ext.name, cwd=root)  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory) -> PrivateCA:
    root = tmp_path_factory.mktemp("private-ca")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-sha256", "-subj", "/CN=secretsync test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=root)  # fmt: skip
    server_cert, server_key = leaf(root, "server", "IP:127.0.0.1,DNS:localhost")
    other_cert, other_key = leaf(root, "other", "DNS:other.test")
    ca_dir = root / "certs"
    ca_dir.mkdir()
    digest = openssl("x509", "-hash", "-noout", "-in", "ca.pem", cwd=root).strip()
    shutil.copy(root / "ca.pem", ca_dir / f"{digest}.0")
    return PrivateCA(root / "ca.pem", ca_dir, server_cert, server_key, other_cert, other_key)


@pytest.fixture
def clean_environment(monkeypatch):
    for name in (*TRUST_VARIABLES, *PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def get_user(url: str) -> tuple[object, int, type]:
    """GET /user through a fresh client: (answer or error, attempts made, client class)."""

    async def main():
        async with build_http_client(parallelism=2) as http:
            client = SourceCraftClient(http, base_url=url, token=Secret(b"tok"))
            try:
                result: object = await client.get_user()
            except TransportError as exc:
                result = exc
            return result, client.stats.requests, type(http)

    return asyncio.run(main())


def user_answer(seen):
    return json_answer(200, {"login": "me"})


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("variable", TRUST_VARIABLES)
def test_a_private_ca_named_by_the_environment_is_trusted(
    private_ca, clean_environment, transport, variable
):
    for name, value in transport.items():
        clean_environment.setenv(name, value)
    where = private_ca.ca if variable == "SSL_CERT_FILE" else private_ca.ca_dir
    clean_environment.setenv(variable, str(where))
    with HostileServer(user_answer, tls=private_ca.server_context()) as server:
        result, attempts, kind = get_user(server.url)
    assert result == {"login": "me"}
    assert attempts == 1
    assert (kind is LeanAsyncClient) == (not transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unknown_ca_fails_at_once_and_says_how_to_trust_it(
    private_ca, clean_environment, transport
):
    for name, value in transport.items():
        clean_environment.setenv(name, value)
    with HostileServer(user_answer, tls=private_ca.server_context()) as server:
        error, attempts, _ = get_user(server.url)
    assert isinstance(error, TransportError)
    assert attempts == 1  # not retried: asking again cannot change the certificate
    message = str(error)
    assert "\n" not in message and error.hint is None
    assert "certificate problem" in message
    assert f"127.0.0.1:{server.port}" in message
    assert "SSL_CERT_FILE" in message
    assert "certifi" in message  # what is trusted now
    assert server.seen == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_certificate_for_another_name_is_a_certificate_problem_too(
    private_ca, clean_environment, transport
):
    for name, value in transport.items():
        clean_environment.setenv(name, value)
    clean_environment.setenv("SSL_CERT_FILE", str(private_ca.ca))
    with HostileServer(user_answer, tls=private_ca.server_context(other=True)) as server:
        error, attempts, _ = get_user(server.url)
    assert isinstance(error, TransportError)
    assert attempts == 1
    assert "certificate problem" in str(error)
    assert "mismatch" in str(error)
    assert f"SSL_CERT_FILE={private_ca.ca}" in str(error)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unreadable_ssl_cert_file_is_a_config_error_before_any_request(
    tmp_path, clean_environment, transport
):
    for name, value in transport.items():
        clean_environment.setenv(name, value)
    clean_environment.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="SSL_CERT_FILE"):
        build_http_client(parallelism=1)


def test_the_cli_prints_one_line_for_a_certificate_problem(private_ca, tmp_path):
    (tmp_path / "secretsync.yaml").write_text(
        "version: 1\nrepos:\n  - repo: acme/app\n    groups:\n      default:\n"
        "        secrets:\n          K: {env: K}\n"
    )
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    with HostileServer(user_answer, tls=private_ca.server_context()) as server:
        env |= {"SOURCECRAFT_TOKEN": "tok", "SOURCECRAFT_API_URL": server.url, "K": "v"}
        done = subprocess.run(
            [sys.executable, "-m", "secretsync", "plan"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: GET /repos/acme/app: certificate problem")
    assert "SSL_CERT_FILE" in done.stderr
