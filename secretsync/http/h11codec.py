"""codec.py's two entry points done by h11, the library codec.py replaces: kept so that
benchmarks/fast_paths.py can switch the fast path off (the row "codec off (h11)") and so that
tests/http/test_codec_vs_h11.py can hold codec.py to h11's behaviour. Not used in a run.

`Answer` reads with a fresh `h11.Connection` that has sent a request of the same method
(h11 frames an answer by the request it answers): that costs one more request head through
h11 per exchange than keeping h11's state per connection did, ~24 us of h11's ~134 us for a
group listing (benchmarks/fast_paths.py prints it beside the row "codec alone"; subtract it
when judging the row "codec off (h11)").
h11's errors quote the bytes they reject, so they become codec.py's own, which quote nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import h11

from secretsync.http.codec import Invalid, TooLarge, Unwritable

__all__ = ["Answer", "encode_request"]


def encode_request(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[bytes, bool]:
    state = h11.Connection(h11.CLIENT)
    framing = False
    try:
        head = h11.Request(method=method, target=target, headers=headers)
        framing = True
        wire = state.send(head) or b""
        if body:
            wire += state.send(h11.Data(data=body)) or b""
        wire += state.send(h11.EndOfMessage()) or b""
    except h11.LocalProtocolError:
        wire = None
    if wire is None:
        raise Unwritable(framing=framing)
    return wire, state.our_state is h11.DONE


class Answer:
    """codec.Answer's interface over h11."""

    def __init__(
        self,
        method: bytes,
        max_body: int,
        on_head: Callable[[list[tuple[bytes, bytes]]], None] | None = None,
    ) -> None:
        self._state = h11.Connection(h11.CLIENT)
        self._state.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"h")]))
        self._state.send(h11.EndOfMessage())
        self._max_body = max_body
        self._on_head = on_head
        self._parts: list[bytes] = []
        self._size = 0
        self._ended = False
        self.status = 0
        self.reason = b""
        self.version = b""
        self.headers: list[tuple[bytes, bytes]] = []

    @property
    def body(self) -> bytes:
        return b"".join(self._parts)

    @property
    def reusable(self) -> bool:
        state = self._state
        return (
            not self._ended
            and state.their_state is h11.DONE
            and state.our_state is h11.DONE
            and not state.trailing_data[0]
        )

    def feed(self, data: bytes) -> bool:
        self._state.receive_data(data)
        return self._events()

    def eof(self) -> bool:
        self._ended = True  # what h11 does not count: an ended connection carries nothing more
        self._state.receive_data(b"")
        return self._events()

    def _events(self) -> bool:
        while True:
            try:
                event = self._state.next_event()
            except h11.RemoteProtocolError:
                event = None
            if event is None:
                raise Invalid
            if event is h11.NEED_DATA:
                return False
            if isinstance(event, h11.Response):
                self.status = event.status_code
                self.reason = event.reason
                self.version = event.http_version
                self.headers = event.headers.raw_items()
                if self._on_head is not None:
                    self._on_head(self.headers)
            elif isinstance(event, h11.Data):
                self._size += len(event.data)
                if self._size > self._max_body:
                    raise TooLarge
                self._parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return True
            elif not isinstance(event, h11.InformationalResponse):
                # PAUSED (a protocol switch) or ConnectionClosed before the answer ended
                raise Invalid
