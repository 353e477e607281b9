"""Whole text frames cut straight out of a client's bytes: RFC 6455 framing, no I/O.

Sans-I/O, as websockets keeps its own core: bytes in, texts out, and the bytes that a
full parser must see; no sockets, no asyncio, no clock. The fast WebSocket transport
(parley.realtime.fast_transport) feeds it every chunk it reads.

Nearly every frame a client sends is a whole masked text frame under 64 KiB, with no
extension bits: those are cut out here, unmasked and decoded. The first frame of any
other kind (a control frame, a fragment, a binary or unmasked frame, reserved bits, a
64-bit length, a frame over the size limit) and every byte after it in the chunk are
for the full parser (websockets'), which answers pings and closes and enforces the rest
of RFC 6455. While the full parser has the stream, the reader follows the frame headers
only; it cuts again from the first chunk that starts at a frame boundary outside a
fragmented message, once the transport says the full parser is idle (``resume``).

websockets' generator-based parser was a sixth of the server's CPU when ingesting
messages; this loop is a few slices and one ``apply_mask`` per frame.
"""

from __future__ import annotations

from collections.abc import Callable

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

# FIN and the text opcode, no extension bits; and the mask bit every client frame has.
_FIN_TEXT = 0x81
_MASKED = 0x80
_FIN = 0x80
_OPCODE = 0x0F
_CONT, _TEXT, _BINARY = 0x0, 0x1, 0x2
# The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask.
_MAX_HEADER = 14

CLOSE_INVALID_DATA = 1007

# Given each cut frame's text, in order; False stops the cutting (the socket is closing).
OnText = Callable[[str], bool]


class ProtocolError(Exception):
    """The client broke RFC 6455: the connection closes with ``code`` (``reason`` said)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class FrameReader:
    """The receiving side of one WebSocket, as far as the fast path goes.

    ``feed`` each chunk read, in order; what it returns goes to the full parser, in
    order, before the next chunk is fed; after the full parser took it, ``resume`` when
    that parser is idle (open, no error, nothing sent to close).
    """

    __slots__ = ("_boundary", "_cutting", "_max_size", "_partial", "_partial_need")

    def __init__(self, max_size: int | None) -> None:
        # Frames over this are the full parser's to refuse (1009).
        self._max_size = max_size
        # True while the bytes read so far end at a frame boundary that the full parser
        # is not waiting past: text frames are then cut out here.
        self._cutting = True
        # The start of a simple frame whose end has not arrived yet, and how long it must
        # grow before it is worth parsing again: a frame that arrives a byte at a time is
        # then copied once, not once per byte.
        self._partial: bytearray | None = None
        self._partial_need = 0
        # Where the full parser is in the frame stream, while it has it.
        self._boundary: FrameBoundary | None = None

    @property
    def cutting(self) -> bool:
        """Whether the next chunk's leading text frames are cut out here."""
        return self._cutting

    def feed(self, data: bytes, on_text: OnText, *, cut: bool = True) -> bytes:
        """Cut the whole simple text frames that start ``data``; return the rest.

        Each cut frame's text goes to ``on_text``. The bytes returned (``b""`` when
        none) are for the full parser. With ``cut`` False (the socket is closing) no
        frame is cut: everything from the next frame boundary is the full parser's.
        Raises ProtocolError for a cut frame that is not UTF-8: the frames before it
        were given to ``on_text``, nothing after it is read.
        """
        if not self._cutting:
            self._follow(data)
            return data
        if self._partial is not None:
            self._partial += data
            if len(self._partial) < self._partial_need:
                return b""
            data = bytes(self._partial)
            self._partial = None
        max_size = self._max_size
        end = len(data)
        pos = 0
        going = cut
        while going and pos < end:
            if end - pos < 2:
                return self._keep_partial(data, pos, 2)
            length = data[pos + 1] ^ _MASKED  # the mask bit set: the payload length
            if data[pos] != _FIN_TEXT or length > 126:
                break  # anything else: a control frame, a fragment, an unmasked frame...
            start = pos + 6
            if length == 126:
                if end - pos < 4:
                    return self._keep_partial(data, pos, 4)
                length = int.from_bytes(data[pos + 2 : pos + 4])
                start = pos + 8
            if max_size is not None and length > max_size:
                break  # the full parser closes with 1009
            stop = start + length
            if stop > end:
                return self._keep_partial(data, pos, stop - pos)  # the rest is on its way
            try:
                text = apply_mask(data[start:stop], data[start - 4 : start]).decode()
            except UnicodeDecodeError:
                self._cutting = False
                raise ProtocolError(CLOSE_INVALID_DATA, "invalid UTF-8") from None
            pos = stop
            going = on_text(text)
        if pos == end:
            return b""
        # The full parser takes over from this frame's first byte: a boundary.
        rest = data[pos:] if pos else data
        self._cutting = False
        self._boundary = FrameBoundary()
        self._follow(rest)
        return rest

    def resume(self) -> bool:
        """The full parser is idle: cut again if the stream is at a frame boundary."""
        boundary = self._boundary
        if boundary is not None and boundary.at_rest:
            self._boundary = None
            self._cutting = True
        return self._cutting

    def _follow(self, data: bytes) -> None:
        if self._boundary is not None:
            self._boundary.feed(data)

    def _keep_partial(self, data: bytes, pos: int, need: int) -> bytes:
        self._partial = bytearray(memoryview(data)[pos:])
        self._partial_need = need
        return b""


class FrameBoundary:
    """Follows the frames in a stream of received bytes, reading only their headers.

    ``at_rest``: the bytes so far end where a frame ends, outside a fragmented message,
    which is when a parser that has had them all holds nothing half-read.
    """

    __slots__ = ("_head", "_in_message", "_left")

    def __init__(self) -> None:
        self._left = 0  # bytes of the current frame still to come
        self._head = b""  # the start of a header cut off at the end of the last chunk
        # A data frame without FIN came, and no final continuation frame yet.
        self._in_message = False

    @property
    def at_rest(self) -> bool:
        return not self._left and not self._head and not self._in_message

    def feed(self, data: bytes) -> bool:
        """Follow ``data``; whether the stream now ends at a frame boundary."""
        pos = 0
        end = len(data)
        while True:
            if self._left:
                step = min(self._left, end - pos)
                self._left -= step
                pos += step
                if self._left:
                    return False
            if pos == end and not self._head:
                return True
            head = self._head + data[pos : pos + _MAX_HEADER]
            size = frame_size(head)
            if size is None:
                self._head = head  # the chunk ended inside this header
                return False
            opcode = head[0] & _OPCODE
            if opcode in (_TEXT, _BINARY):
                self._in_message = not head[0] & _FIN
            elif opcode == _CONT and head[0] & _FIN:
                self._in_message = False
            self._left = size - len(self._head)
            self._head = b""


def frame_size(head: bytes) -> int | None:
    """Header and payload length of the frame that starts ``head``; None if too short."""
    if len(head) < 2:
        return None
    length = head[1] & 0x7F
    size = 2 + (4 if head[1] & _MASKED else 0)
    if length == 126:
        if len(head) < 4:
            return None
        return size + 2 + int.from_bytes(head[2:4])
    if length == 127:
        if len(head) < 10:
            return None
        return size + 8 + int.from_bytes(head[2:10])
    return size + length


def payloads(data: bytes) -> list[bytes]:
    """The payloads of whole unmasked frames laid end to end, as the server writes them.

    The gateway writes its frames pre-framed (parley.realtime.connection.framed); the
    ASGI transport, which sends messages rather than bytes, takes them apart again.
    """
    out = []
    pos = 0
    end = len(data)
    while pos < end:
        length = data[pos + 1] & 0x7F
        start = pos + 2
        if length == 126:
            length = int.from_bytes(data[start : start + 2])
            start += 2
        elif length == 127:
            length = int.from_bytes(data[start : start + 8])
            start += 8
        pos = start + length
        out.append(data[start:pos])
    return out
