"""The fast frame reader (realtime/wire.py) reads a client's bytes as websockets does.

The fast transport cuts simple text frames with FrameReader and gives every other byte
to websockets' parser. These properties hold that pair against websockets alone: for any
frame stream, split into chunks anywhere, the messages (and the close code of a
protocol error) are the same. Frames are serialized by websockets itself.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from parley.realtime.connection import framed
from parley.realtime.wire import (
    CLOSE_INVALID_DATA,
    FrameReader,
    OnText,
    ProtocolError,
    payloads,
)

Received = list[tuple[str, object]]


class Receiver:
    """What the fast transport does with received bytes, less the socket.

    With ``cutting`` False it is websockets alone (the reference).
    """

    def __init__(self, max_size: int | None, *, cutting: bool) -> None:
        self.ws = ServerProtocol(max_size=max_size, state=State.OPEN)
        self.reader = FrameReader(max_size) if cutting else None
        self.got: Received = []
        self.closed = False
        self._parts: list[bytes] = []
        self._kind = Opcode.TEXT

    def feed(self, data: bytes) -> None:
        if self.closed:
            return
        if self.reader is None:
            self._to_websockets(data)
            return
        try:
            rest = self.reader.feed(data, self._cut)
        except ProtocolError as exc:
            self._fail(exc.code)
            return
        if rest:
            self._to_websockets(rest)
            idle = self.ws.state is State.OPEN and self.ws.parser_exc is None
            if not self.closed and idle:
                self.reader.resume()

    def _cut(self, text: str) -> bool:
        self.got.append(("text", text))
        return True

    def _to_websockets(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            assert isinstance(event, Frame)
            self._frame(event)
            if self.closed:
                return
        if self.ws.parser_exc is not None:
            assert self.ws.close_sent is not None
            self._fail(self.ws.close_sent.code)
        elif self.ws.state is not State.OPEN:
            self.closed = True  # a close frame came: websockets discards the rest

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._kind = frame.opcode
            self._parts = [bytes(frame.data)]
        elif frame.opcode is Opcode.CONT:
            self._parts.append(bytes(frame.data))
        else:
            self.got.append((frame.opcode.name.lower(), bytes(frame.data)))
            return
        if not frame.fin:
            return
        data = b"".join(self._parts)
        if self._kind is Opcode.BINARY:
            self.got.append(("binary", data))
            return
        try:
            self.got.append(("text", data.decode()))
        except UnicodeDecodeError:
            self._fail(CLOSE_INVALID_DATA)  # what the transport does with such a text

    def _fail(self, code: int) -> None:
        self.got.append(("error", code))
        self.closed = True


def serialized(frame: Frame) -> bytes:
    return frame.serialize(mask=True)


def with_rsv1(frame: bytes) -> bytes:
    """The frame with a reserved bit set (which websockets will not serialize)."""
    return bytes([frame[0] | 0x40]) + frame[1:]


# Text sizes around the header's length forms (7-bit, 16-bit, 64-bit).
EDGE_SIZES = [0, 125, 126, 127, 1000, 65535, 65536]

texts = st.one_of(
    st.text(max_size=40),
    st.text(max_size=300),
    st.sampled_from(EDGE_SIZES).map(lambda n: "é" * (n // 2) + "x" * (n % 2)),
)
simple_text = texts.map(lambda t: serialized(Frame(Opcode.TEXT, t.encode())))
not_utf8_text = st.binary(min_size=1, max_size=20).map(
    lambda b: serialized(Frame(Opcode.TEXT, b"\xff" + b))
)
control = st.one_of(
    st.binary(max_size=125).map(lambda b: serialized(Frame(Opcode.PING, b))),
    st.binary(max_size=125).map(lambda b: serialized(Frame(Opcode.PONG, b))),
    st.sampled_from([1000, 1001, 4000]).map(
        lambda code: serialized(Frame(Opcode.CLOSE, Close(code, "bye").serialize()))
    ),
)
binary = st.binary(max_size=200).map(lambda b: serialized(Frame(Opcode.BINARY, b)))


@st.composite
def fragmented(draw: st.DrawFn) -> bytes:
    """A text message in 2-4 fragments, maybe with a ping between two of them."""
    parts = draw(st.lists(st.text(max_size=30), min_size=2, max_size=4))
    out = []
    for i, part in enumerate(parts):
        opcode = Opcode.TEXT if i == 0 else Opcode.CONT
        out.append(serialized(Frame(opcode, part.encode(), fin=i == len(parts) - 1)))
        if i < len(parts) - 1 and draw(st.booleans()):
            out.append(serialized(Frame(Opcode.PING, b"p")))
    return b"".join(out)


rule_breaking = st.one_of(
    st.text(max_size=10).map(lambda t: Frame(Opcode.TEXT, t.encode()).serialize(mask=False)),
    st.text(max_size=10).map(lambda t: with_rsv1(serialized(Frame(Opcode.TEXT, t.encode())))),
    st.text(max_size=10).map(lambda t: serialized(Frame(Opcode.CONT, t.encode()))),
    st.text(max_size=10).map(lambda t: serialized(Frame(Opcode.TEXT, t.encode(), fin=False))),
    st.binary(max_size=12),
)

valid_frames = st.lists(
    st.one_of(simple_text, simple_text, simple_text, control, binary, fragmented()),
    max_size=12,
)
any_frames = st.lists(
    st.one_of(
        simple_text, simple_text, control, binary, fragmented(), not_utf8_text, rule_breaking
    ),
    max_size=12,
)
max_sizes = st.sampled_from([None, 200, 70_000])


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def read(chunks: list[bytes], max_size: int | None, *, cutting: bool) -> Received:
    receiver = Receiver(max_size, cutting=cutting)
    for chunk in chunks:
        receiver.feed(chunk)
    return receiver.got


@settings(max_examples=200, deadline=None)
@given(valid_frames, st.lists(st.integers(min_value=0), max_size=20), max_sizes)
def test_any_split_of_a_valid_frame_stream_reads_as_websockets_reads_it(
    frames: list[bytes], cuts: list[int], max_size: int | None
) -> None:
    stream = b"".join(frames)
    expected = read([stream], max_size, cutting=False)
    receiver = Receiver(max_size, cutting=True)
    for chunk in split(stream, cuts):
        receiver.feed(chunk)
    assert receiver.got == expected
    if not receiver.closed:
        # Back at a boundary with websockets idle: the next frames are cut again.
        assert receiver.reader is not None and receiver.reader.cutting


@settings(max_examples=200, deadline=None)
@given(any_frames, st.lists(st.integers(min_value=0), max_size=20), max_sizes)
def test_a_stream_that_breaks_the_rules_fails_as_websockets_fails_it(
    frames: list[bytes], cuts: list[int], max_size: int | None
) -> None:
    stream = b"".join(frames)
    expected = read([stream], max_size, cutting=False)
    assert read(split(stream, cuts), max_size, cutting=True) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=40), max_size=20),
    st.lists(st.booleans(), max_size=20),
    max_sizes,
)
def test_random_bytes_raise_nothing_but_a_protocol_error(
    chunks: list[bytes], resumes: list[bool], max_size: int | None
) -> None:
    reader = FrameReader(max_size)
    for i, chunk in enumerate(chunks):
        try:
            rest = reader.feed(chunk, lambda _: True)
        except ProtocolError as exc:
            assert exc.code == CLOSE_INVALID_DATA
            return
        # What the full parser gets is the tail of what was read, never made-up bytes.
        assert chunk.endswith(rest) or rest.endswith(chunk)
        if i < len(resumes) and resumes[i]:
            reader.resume()


def collect(got: list[str]) -> OnText:
    def cut(text: str) -> bool:
        got.append(text)
        return True

    return cut


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=8), st.lists(st.integers(min_value=0), max_size=20))
def test_texts_framed_by_websockets_are_cut_back_whole(sent: list[str], cuts: list[int]) -> None:
    frames = [serialized(Frame(Opcode.TEXT, t.encode())) for t in sent]
    reader = FrameReader(None)
    got: list[str] = []
    leftover = b"".join(reader.feed(chunk, collect(got)) for chunk in split(b"".join(frames), cuts))
    # A 64-bit length is websockets' to parse: everything before it is cut, nothing after.
    big = [i for i, t in enumerate(sent) if len(t.encode()) > 65535]
    first_big = big[0] if big else len(sent)
    assert got == sent[:first_big]
    assert leftover == b"".join(frames[first_big:])


def test_a_frame_that_arrives_a_byte_at_a_time_is_cut_once_whole() -> None:
    data = serialized(Frame(Opcode.TEXT, b'{"type":"ping"}')) * 2
    reader = FrameReader(None)
    got: list[str] = []
    for i in range(len(data)):
        assert reader.feed(data[i : i + 1], collect(got)) == b""
    assert got == ['{"type":"ping"}'] * 2


def test_not_utf8_is_a_1007_after_the_frames_before_it() -> None:
    good = serialized(Frame(Opcode.TEXT, b"first"))
    bad = serialized(Frame(Opcode.TEXT, b"\xc3\x28"))
    got: list[str] = []
    with pytest.raises(ProtocolError) as raised:
        FrameReader(None).feed(good + bad + good, collect(got))
    assert raised.value.code == 1007
    assert got == ["first"]


def test_cutting_stops_where_the_handler_says_and_the_rest_goes_to_the_full_parser() -> None:
    frames = [serialized(Frame(Opcode.TEXT, f"m{i}".encode())) for i in range(3)]
    got: list[str] = []
    rest = FrameReader(None).feed(b"".join(frames), lambda t: got.append(t) or t != "m0")
    assert got == ["m0"]
    assert rest == frames[1] + frames[2]
    # Closing: nothing is cut, not even a frame whose start was held back.
    reader = FrameReader(None)
    assert reader.feed(frames[0][:3], lambda _: True) == b""
    assert reader.feed(frames[0][3:], lambda _: True, cut=False) == frames[0]


def test_after_a_ping_cutting_resumes_only_once_the_stream_is_at_a_boundary() -> None:
    ping = serialized(Frame(Opcode.PING, b"abc"))
    text = serialized(Frame(Opcode.TEXT, b"hi"))
    reader = FrameReader(None)
    assert reader.feed(ping[:3], lambda _: True) == ping[:3]
    assert not reader.resume()  # the ping's header is not complete yet
    assert reader.feed(ping[3:], lambda _: True) == ping[3:]
    assert reader.resume()
    got: list[str] = []
    assert reader.feed(text, collect(got)) == b""
    assert got == ["hi"]


def test_inside_a_fragmented_message_nothing_is_cut() -> None:
    first = serialized(Frame(Opcode.TEXT, b"a", fin=False))
    last = serialized(Frame(Opcode.CONT, b"b"))
    reader = FrameReader(None)
    assert reader.feed(first, lambda _: True) == first
    assert not reader.resume()
    assert reader.feed(last, lambda _: True) == last
    assert reader.resume()


@given(st.lists(texts, max_size=6))
def test_the_frames_the_server_writes_are_taken_apart_again(sent: list[str]) -> None:
    """The ASGI transport turns the gateway's pre-framed writes back into texts."""
    reference = ServerProtocol(state=State.OPEN)
    for text in sent:
        reference.send_text(text.encode())
    written = b"".join(reference.data_to_send())
    assert payloads(written) == [t.encode() for t in sent]
    assert payloads(b"".join(framed(t) for t in sent)) == [t.encode() for t in sent]
