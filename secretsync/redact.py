"""Defence in depth for diagnostics: mask any known secret value or the token in text bound
for stderr (errors, warnings, log lines, tracebacks under --debug).

Reports are built without ever touching a value, so they do not need this; diagnostics can
carry text from libraries and exceptions, so they go through it. Values shorter than
MIN_LENGTH are not masked: masking "1" or "on" would garble every message while protecting
nothing a reader could not guess.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from secretsync.models import Secret

MIN_LENGTH = 4
MASK = "***"


class Redactor:
    def __init__(self) -> None:
        self._needles: set[str] = set()
        self._ordered: list[str] = []
        self._pending: list[Secret] = []

    def add(self, secrets: Iterable[Secret]) -> None:
        # Spellings are worked out on first use: a run that prints no diagnostics (the common
        # case, and every benchmark) never pays for 10,000 values x 10 spellings.
        self._pending.extend(secrets)

    def _ready(self) -> list[str]:
        if self._pending:
            for secret in self._pending:
                self._needles.update(_forms(secret.reveal()))
            self._pending = []
            self._ordered = sorted(self._needles, key=len, reverse=True)
        return self._ordered

    def __call__(self, text: str) -> str:
        for needle in self._ready():
            if needle in text:
                text = text.replace(needle, MASK)
        return text


def _forms(raw: bytes) -> set[str]:
    """The spellings a value may take in text: raw, base64, percent-encoded, JSON, by line."""
    out = {
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
    }
    text = raw.decode("utf-8", errors="replace")
    out |= {text, quote(text, safe=""), quote_plus(text), json.dumps(text)[1:-1], repr(text)[1:-1]}
    out |= {line.strip() for line in text.splitlines()}
    return {form for form in out if len(form) >= MIN_LENGTH}


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's final message (args already merged)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        return True
