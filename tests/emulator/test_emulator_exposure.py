"""The emulator on a developer's machine: its state (every value) and config (which can add
tokens) answer only to one of its tokens, and nothing answers to a foreign Host (DNS
rebinding: a web page whose own name resolves to 127.0.0.1)."""

import socket

import httpx
import pytest

from tests.emulator.helpers import AUTH


def _raw(emulator, request: bytes) -> bytes:
    host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(request)
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                length = next(
                    (
                        int(v)
                        for k, _, v in (line.partition(b":") for line in head.split(b"\r\n"))
                        if k.lower() == b"content-length"
                    ),
                    0,
                )
                if len(rest) >= length:
                    break
        return b"".join(chunks)


@pytest.mark.parametrize("name", ["state", "config", "log", "stats"])
def test_control_routes_need_a_token(emu, name):
    with httpx.Client(base_url=emu.url, timeout=5) as c:
        anonymous = c.get(f"/_emulator/{name}")
        wrong = c.get(f"/_emulator/{name}", headers={"Authorization": "Bearer nope"})
        right = c.get(f"/_emulator/{name}", headers=AUTH)
    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "AAEC" not in anonymous.text  # no stored value in the refusal


def test_config_cannot_be_changed_without_a_token(emu):
    with httpx.Client(base_url=emu.url, timeout=5) as c:
        refused = c.post("/_emulator/config", json={"tokens": ["attacker"]})
        after = c.get("/user", headers={"Authorization": "Bearer attacker"})
    assert refused.status_code == 401
    assert after.status_code == 401


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}", "127.0.0.1:1"]
)
def test_a_foreign_host_header_is_refused_everywhere(emu, host):
    port = emu.url.rsplit(":", 1)[1]
    shown = host.format(port=port)
    for path in ("/_emulator/state", "/user", "/repos/acme/backend/secrets"):
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {shown}\r\nAuthorization: Bearer emulator-token\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        answer = _raw(emu, request)
        assert answer.startswith(b"HTTP/1.1 421 "), (shown, path, answer[:60])
        assert b"AAEC" not in answer


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "127.0.0.1", "localhost"])
def test_loopback_names_are_served(emu, host):
    port = emu.url.rsplit(":", 1)[1]
    request = (
        f"GET /user HTTP/1.1\r\nHost: {host.format(port=port)}\r\n"
        "Authorization: Bearer emulator-token\r\nConnection: close\r\n\r\n"
    ).encode()
    assert _raw(emu, request).startswith(b"HTTP/1.1 200 ")


def test_a_request_without_host_is_refused(emu):
    answer = _raw(emu, b"GET /user HTTP/1.0\r\nAuthorization: Bearer emulator-token\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 421 ") or answer.startswith(b"HTTP/1.0 421 ")
