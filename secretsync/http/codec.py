"""HTTP/1.1 on the wire for the lean transport: a request written as bytes, and an answer
parsed as its bytes arrive. A fenced fast path:

- Replaces h11 (`h11.Connection` for the client role, its `Request` validation, its reader
  and writer), which connection.py used until this module; h11codec.py keeps that path, small,
  for the benchmark's switch and the differential tests.
- Gains ~140 us of CPU per group listing, a quarter of what the client spent on one: with
  h11 in its place the client spends 614 us per listing, with this 450 us (2-core shared
  machine, 16 in flight, medians of 5 runs of 1,000 listings, the variants taking turns; the
  h11 row pays ~24 us per request for priming a fresh h11.Connection, see h11codec.py, which
  the h11 code before this module did not). Alone, writing one listing's request and parsing
  its answer costs ~34 us here against ~109 us through h11 (134 us less 24 us of priming;
  medians of 5 x 2,000, same machine). h11 turns every answer into event objects, runs a
  state machine per event and re-validates every header it parsed; here a typical answer is
  one search for the blank line, one regex per line and one slice for the body. Reproduce:
  `.venv/bin/python benchmarks/fast_paths.py --only http`, the rows "codec alone" and
  "codec off (h11)".
- Pinned to h11 by tests/http/test_codec_vs_h11.py, which feeds the same bytes to both (a
  hand-written corpus of hostile answers, each split at every byte boundary, and
  hypothesis-generated ones) and asserts the same status, reason, headers and body, or that
  both refuse; and writes the same requests through both (same bytes, or both refuse). The
  transport's own tests (tests/http/test_transport_*.py, test_hostile_server.py) run over it.
- Delete it when h11 (or a successor httpx uses) costs within ~20 us of it per request: re-run
  the benchmark after an h11 upgrade.

Where it deliberately differs from h11, the differential tests name the case:

- a request header value with a control byte other than tab (h11 lets \\x01-\\x08, \\x0e-\\x1f
  and \\x7f through) is refused: nothing a server might log or split on leaves this client;
- an answer head with more than `MAX_HEADERS` fields is refused (h11 bounds only the bytes of
  an incomplete head, 16 KiB, as this module does too);
- bytes after a complete answer (nothing was asked for them) end the connection's reuse,
  where h11 kept them as the start of the next answer.

Errors carry fixed messages: nothing here quotes a byte of a header or a body (the token and
values travel in them).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

__all__ = [
    "MAX_HEADERS",
    "MAX_INCOMPLETE_BYTES",
    "Answer",
    "Invalid",
    "TooLarge",
    "Unwritable",
    "encode_request",
]

MAX_INCOMPLETE_BYTES = 16 * 1024  # a head, chunk line or trailer still incomplete past this
MAX_HEADERS = 100  # fields in one head (http.client's bound too)

# RFC 9110 5.6.2: a token; method and field names are tokens.
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
# RFC 9112 3.2: a request target is visible ASCII (httpx sends it percent-encoded).
_TARGET = re.compile(rb"[\x21-\x7e]+")
# What a request header value may not hold: any control byte but tab, or whitespace at
# either end (RFC 9110 5.5: field-value; obs-text, bytes 0x80-0xff, is let through as h11 does).
_BAD_SENT_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\A[ \t]|[ \t]\Z")
# What a received value may not hold once stripped of spaces and tabs: NUL, CR, VT or FF (LF
# cannot occur: lines are split on it). h11 accepts the other control bytes; so do we.
_BAD_RECEIVED_VALUE = re.compile(rb"[\x00\r\x0b\x0c]")
_STATUS_LINE = re.compile(rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: ([^\x00\n\r\x0b\x0c]*))?")
# RFC 9112 7.1: chunk-size, extensions (not interpreted; anything but LF), trailing blanks.
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;[^\n]*)?[ \t]*")
_BLANK_LINE = re.compile(rb"\n\r?\n")  # the end of a head: LF-only line ends are tolerated
_DIGITS = re.compile(rb"[0-9]{1,20}")


class Unwritable(Exception):
    """The request cannot be written as HTTP/1.1; `framing` when its body does not match its
    Content-Length or Transfer-Encoding, else a method, target or header is invalid."""

    def __init__(self, framing: bool) -> None:
        super().__init__("framing" if framing else "head")
        self.framing = framing


class Invalid(Exception):
    """The answer is not valid HTTP/1.1."""


class TooLarge(Exception):
    """The answer's body grew past the bound it was given."""


class _Fields:
    """A head's fields as h11 hands them on (name as sent, value normalized), and what they
    say about framing and reuse."""

    __slots__ = ("chunked", "close", "content_length", "items", "upgrade")

    def __init__(self) -> None:
        self.items: list[tuple[bytes, bytes]] = []
        self.content_length: bytes | None = None
        self.chunked = False
        self.close = False
        self.upgrade = False

    def add(self, name: bytes, value: bytes) -> bool:
        """False when the field breaks a framing rule (RFC 9112 6.1, 6.3)."""
        lower = name.lower()
        if lower == b"content-length":
            # A list of one repeated value, or repeated fields with one value, is one length
            # (RFC 9110 8.6); anything else is a conflict a smuggler could exploit.
            lengths = {length.strip() for length in value.split(b",")}
            if len(lengths) != 1:
                return False
            value = lengths.pop()
            if not _DIGITS.fullmatch(value):
                return False
            if self.content_length is not None:
                return self.content_length == value  # a repeat is kept once
            self.content_length = value
        elif lower == b"transfer-encoding":
            # Only chunked, once: a coding we cannot undo is a body we cannot delimit.
            value = value.lower()
            if self.chunked or value != b"chunked":
                return False
            self.chunked = True
        elif lower == b"connection":
            self.close = self.close or b"close" in _comma_tokens(value)
        elif lower == b"upgrade":
            self.upgrade = self.upgrade or bool(_comma_tokens(value))
        self.items.append((name, value))
        return True


def _comma_tokens(value: bytes) -> list[bytes]:
    return [part for part in (p.strip() for p in value.lower().split(b",")) if part]


def encode_request(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[bytes, bool]:
    """The request's bytes (Host first, as RFC 9112 3.2 advises; then the other fields in
    order), and whether the connection may be reused after it (no `Connection: close`, no
    upgrade asked for). Unwritable as h11 refuses, and for control bytes in a value."""
    if not _TOKEN.fullmatch(method) or not _TARGET.fullmatch(target):
        raise Unwritable(framing=False)
    fields = _Fields()
    hosts = 0
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or _BAD_SENT_VALUE.search(value):
            raise Unwritable(framing=False)
        if not fields.add(name, value):
            raise Unwritable(framing=False)
        if len(name) == 4 and name.lower() == b"host":
            hosts += 1
    if hosts != 1:  # RFC 9112 3.2: exactly one
        raise Unwritable(framing=False)
    parts = [method, b" ", target, b" HTTP/1.1\r\n"]
    parts.extend(b"%s: %s\r\n" % item for item in fields.items if item[0].lower() == b"host")
    parts.extend(b"%s: %s\r\n" % item for item in fields.items if item[0].lower() != b"host")
    parts.append(b"\r\n")
    if fields.chunked:
        if body:
            parts.append(b"%x\r\n%s\r\n" % (len(body), body))
        parts.append(b"0\r\n\r\n")
    elif len(body) != int(fields.content_length or 0):
        raise Unwritable(framing=True)
    else:
        parts.append(body)
    reusable = not (fields.close or fields.upgrade or method == b"CONNECT")
    return b"".join(parts), reusable


# Answer states
_HEAD, _LENGTH, _CHUNK_LINE_STATE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _DONE = range(8)


class Answer:
    """One answer to a request of `method`, parsed from its bytes as they come (`feed`, then
    `eof` if the connection ends first). Informational (1xx) answers are skipped; `on_head`
    sees the final head's fields before any of its body is kept; TooLarge once the body
    passes `max_body` bytes. Once `feed` or `eof` has returned True: `status`, `reason`,
    `headers` (names as sent, Content-Length and Transfer-Encoding normalized), `body`, and
    `reusable` (the connection may carry another request)."""

    __slots__ = (
        "_body",
        "_buffer",
        "_left",
        "_max_body",
        "_method",
        "_on_head",
        "_size",
        "_state",
        "headers",
        "keep_alive",
        "leftover",
        "reason",
        "status",
        "version",
    )

    def __init__(
        self,
        method: bytes,
        max_body: int,
        on_head: Callable[[list[tuple[bytes, bytes]]], None] | None = None,
    ) -> None:
        self._method = method
        self._max_body = max_body
        self._on_head = on_head
        self._state = _HEAD
        self._buffer = b""
        self._left = 0  # bytes of the body (or of the current chunk) still to come
        self._size = 0
        # BytesIO, not a list joined at the end: getvalue() hands over its buffer without a
        # copy, so an answer of N bytes costs about N, never 2N, at its peak.
        self._body = io.BytesIO()
        self.status = 0
        self.reason = b""
        self.version = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.leftover = False

    @property
    def body(self) -> bytes:
        return self._body.getvalue()

    @property
    def reusable(self) -> bool:
        return self._state == _DONE and self.keep_alive and not self.leftover

    def feed(self, data: bytes) -> bool:
        """Take the next bytes; True once the answer is complete."""
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        pos = 0
        end = len(data)
        while True:
            state = self._state
            if state in (_LENGTH, _CHUNK_DATA):
                take = min(self._left, end - pos)
                if take:
                    self._keep(data, pos, take)
                    pos += take
                    self._left -= take
                if self._left:
                    return False
                self._state = _DONE if state == _LENGTH else _CHUNK_END
            elif state == _UNTIL_CLOSE:
                if pos < end:
                    self._keep(data, pos, end - pos)
                return False
            elif state == _HEAD:
                pos = self._head(data, pos)
                if pos < 0:
                    return False
            elif state == _CHUNK_LINE_STATE:
                nl = data.find(b"\r\n", pos)
                if nl < 0:
                    return self._wait(data, pos)
                match = _CHUNK_LINE.fullmatch(data, pos, nl)
                if match is None:
                    raise Invalid
                self._left = int(match[1], 16)
                pos = nl + 2
                self._state = _CHUNK_DATA if self._left else _TRAILER
            elif state == _CHUNK_END:
                tail = data[pos : pos + 2]
                if tail != b"\r\n"[: len(tail)]:
                    raise Invalid
                if len(tail) < 2:
                    self._buffer = tail
                    return False
                pos += 2
                self._state = _CHUNK_LINE_STATE
            elif state == _TRAILER:
                lines = self._lines(data, pos)
                if lines is None:
                    return self._wait(data, pos)
                pos, trailer = lines
                if self._fields(trailer) is None:
                    raise Invalid
                self._state = _DONE
            else:  # _DONE
                if pos < end:
                    self.leftover = True  # nothing was asked for them
                return True

    def eof(self) -> bool:
        """The connection ended: True when that ends the answer (no length was given)."""
        if self._state == _UNTIL_CLOSE:
            self._state = _DONE
            self.keep_alive = False
            return True
        if self._state == _DONE:
            return True
        raise Invalid  # cut short, or no final answer after an informational one

    def _wait(self, data: bytes, pos: int) -> bool:
        rest = data[pos:]
        if len(rest) > MAX_INCOMPLETE_BYTES:
            raise Invalid
        self._buffer = rest
        return False

    def _keep(self, data: bytes, pos: int, count: int) -> None:
        self._size += count
        if self._size > self._max_body:
            raise TooLarge
        if pos == 0 and count == len(data):
            self._body.write(data)
        else:
            with memoryview(data) as view:
                self._body.write(view[pos : pos + count])

    @staticmethod
    def _lines(data: bytes, pos: int) -> tuple[int, list[bytes]] | None:
        """Lines up to the first blank one (CRLF or LF endings), and where the rest begins."""
        if data.startswith(b"\n", pos):
            return pos + 1, []
        if data.startswith(b"\r\n", pos):
            return pos + 2, []
        blank = _BLANK_LINE.search(data, pos)
        if blank is None:
            return None
        lines = data[pos : blank.start()].split(b"\n")
        return blank.end(), [line[:-1] if line.endswith(b"\r") else line for line in lines]

    @staticmethod
    def _fields(lines: list[bytes]) -> _Fields | None:
        """Field lines, obsolete folding undone (RFC 9112 5.2: replaced by a space), or None."""
        if len(lines) > MAX_HEADERS:
            return None
        fields = _Fields()
        field: tuple[bytes, bytes] | None = None  # the last field, while folds may follow
        for line in lines:
            if line[:1] in (b" ", b"\t"):
                if field is None:
                    return None  # a continuation with nothing to continue
                field = (field[0], field[1] + b" " + line.lstrip(b" \t"))
                continue
            if field is not None and not _add_field(fields, *field):
                return None
            name, colon, value = line.partition(b":")
            if not colon:
                return None
            field = (name, value)
        if field is not None and not _add_field(fields, *field):
            return None
        return fields

    def _head(self, data: bytes, pos: int) -> int:
        """Parse a head at `pos`; the position after it, or -1 while it is incomplete."""
        found = self._lines(data, pos)
        if found is None:
            if data[pos : pos + 1] and data[pos] < 0x21:
                raise Invalid  # no status line starts with a blank or a control byte
            self._wait(data, pos)
            return -1
        after, lines = found
        if not lines:
            raise Invalid
        status_line = _STATUS_LINE.fullmatch(lines[0])
        fields = self._fields(lines[1:])
        if status_line is None or fields is None:
            raise Invalid
        status = int(status_line[2])
        if status < 200:
            if status < 100 or status == 101:  # nothing asked to switch protocols
                raise Invalid
            return after  # informational: the real answer follows
        version = status_line[1]
        if self._method == b"CONNECT" and status < 300:
            raise Invalid  # a tunnel was never asked for
        self.status = status
        self.reason = status_line[3] or b""
        self.version = version
        self.headers = fields.items
        self.keep_alive = version >= b"1.1" and not fields.close
        if self._on_head is not None:
            self._on_head(fields.items)
        if status in (204, 304) or self._method == b"HEAD":
            self._state = _DONE
        elif fields.chunked:
            self._state = _CHUNK_LINE_STATE
        elif fields.content_length is not None:
            self._left = int(fields.content_length)
            self._state = _LENGTH if self._left else _DONE
        else:
            self._state = _UNTIL_CLOSE
        return after


def _add_field(fields: _Fields, name: bytes, value: bytes) -> bool:
    value = value.strip(b" \t")
    return (
        _TOKEN.fullmatch(name) is not None
        and _BAD_RECEIVED_VALUE.search(value) is None
        and fields.add(name, value)
    )
