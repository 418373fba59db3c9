"""A Retry-After the server gets wrong is ignored (None: the usual backoff), never a crash."""

from __future__ import annotations

import httpx
import pytest

from secretsync.sourcecraft.retry import retry_after_s


@pytest.mark.parametrize("header", ["²", "٣", "1²", "\u00b9\u00b2", "-1", "1.5", "soon"])
def test_a_retry_after_that_is_not_delta_seconds_or_a_date_is_ignored(header):
    # Bytes as a server sends them; httpx decodes what is not ASCII as UTF-8 or Latin-1.
    response = httpx.Response(429, headers=[(b"Retry-After", header.encode("utf-8"))])
    assert retry_after_s(response, wall_clock=0.0) is None


def test_ascii_delta_seconds_are_read():
    response = httpx.Response(429, headers={"Retry-After": " 7 "})
    assert retry_after_s(response, wall_clock=0.0) == 7.0
