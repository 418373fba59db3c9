"""What one answer may cost, and the errors that say it cost too much.

`MAX_ANSWER_BYTES` caps an answer's body as it arrives, counted after any decoding (secretsync
asks for `Accept-Encoding: identity` and refuses any other encoding, so what is counted is
what is kept): a 1 MB gzip answer can inflate to 1 GiB, and the cap must hold before that
memory exists. The API's answers are kilobytes, except a group's listing, which carries every
value of the group base64-encoded: 100 secrets of 48 KiB (GitHub's limit per secret; a
generous guess for SourceCraft, whose limit is not documented) come to ~6.5 MiB. 16 MiB leaves
room for twice that and bounds what a broken or hostile server can make one answer cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

__all__ = ["MAX_ANSWER_BYTES", "AnswerRefused", "AnswerTimeout", "refuse_head"]

MAX_ANSWER_BYTES = 16 * 1024 * 1024


class AnswerRefused(httpx.TransportError):
    """An answer refused for its shape (too large, an encoding not asked for). Asking again
    would cost the same, so it is not retried. The message is ours: it quotes nothing the
    server sent."""


class AnswerTimeout(httpx.TimeoutException):
    """No complete answer within the request's total deadline (connect, send, wait, read):
    a server that drips one byte at a time never trips a per-read timeout."""


_PLAIN_TOKEN = re.compile(rb"[A-Za-z0-9._-]{1,32}")


def refuse_head(
    headers: Iterable[tuple[bytes, bytes]], max_bytes: int, request: httpx.Request
) -> None:
    """AnswerRefused for an answer in an encoding other than identity, or announcing a body
    larger than `max_bytes`: decided on the head, before one byte of the body is read."""
    for name, value in headers:
        name = name.lower()
        if name == b"content-encoding":
            encoding = value.strip()
            if encoding and encoding.lower() != b"identity":
                shown = encoding.decode() if _PLAIN_TOKEN.fullmatch(encoding) else "an encoding"
                raise AnswerRefused(
                    f"the answer is compressed ({shown}), which was not asked for",
                    request=request,
                )
        elif name == b"content-length" and value.isdigit() and int(value) > max_bytes:
            raise AnswerRefused(f"the answer is larger than {max_bytes} bytes", request=request)
