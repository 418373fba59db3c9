"""Shared data and helpers of the emulator tests."""

import base64

import httpx

from secretsync.emulator import Emulator

TOKEN = "emulator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BACKEND_ID = "6f1c2a3b-0000-4000-8000-000000000001"
SEED = {
    "orgs": [
        {
            "slug": "acme",
            "repos": [
                {
                    "slug": "backend",
                    "id": BACKEND_ID,
                    "visibility": "internal",
                    "secrets": {
                        "default": {
                            "API_KEY": "plain text value",
                            "BLOB": {"base64": "AAEC"},
                            "EXTERNAL": None,
                        },
                        "production": {"API_KEY": "prod value"},
                    },
                },
                {"slug": "web"},
                {"slug": "docs", "name": "Documentation", "visibility": "public"},
            ],
        },
        {"slug": "empty-org"},
    ]
}


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode()


class FakeClock:
    """The emulator's clock: operations and the per-second window move only when told."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def client_for(emulator: Emulator, **kwargs) -> httpx.Client:
    kwargs.setdefault("headers", AUTH)
    return httpx.Client(base_url=emulator.url, timeout=5, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message", "request_id", "details"}
    assert body["error_code"] == code
    assert body["request_id"]
    assert response.headers["X-Request-Id"] == body["request_id"]
    return body
