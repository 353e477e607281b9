"""RFC 6455 section 5.4: fragmented messages, and frames that break them."""

from __future__ import annotations

import time

from tests.protocol.wire import BINARY, CONT, PING, PING_JSON, PONG, TEXT, Wire, frame


def test_a_message_in_two_fragments_is_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON[:5], TEXT, fin=False) + frame(PING_JSON[5:], CONT))
        ws.expect("pong")


def test_a_message_in_three_fragments_with_a_ping_between_is_answered(
    port: int, token: str
) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON[:3], TEXT, fin=False))
        time.sleep(0.02)
        ws.send(frame(PING_JSON[3:8], CONT, fin=False) + frame(b"mid", PING))
        assert ws.read_frame() == (True, PONG, b"mid")
        ws.send(frame(PING_JSON[8:], CONT))
        ws.expect("pong")


def test_fragments_of_one_byte_each_are_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        parts = [frame(PING_JSON[:1], TEXT, fin=False)]
        parts += [frame(PING_JSON[i : i + 1], CONT, fin=False) for i in range(1, 14)]
        parts.append(frame(PING_JSON[14:], CONT))
        ws.send(b"".join(parts))
        ws.expect("pong")


def test_a_continuation_with_no_message_open_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON, CONT))
        assert ws.close_code() == 1002


def test_a_new_text_frame_inside_an_open_message_closes_1002(port: int, token: str) -> None:
    """The second frame comes in its own read, after the fragment has been parsed."""
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":', TEXT, fin=False))
        time.sleep(0.05)
        ws.send(frame(PING_JSON))
        assert ws.close_code() == 1002


def test_a_new_text_frame_inside_an_open_message_in_one_write_closes_1002(
    port: int, token: str
) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":', TEXT, fin=False) + frame(PING_JSON))
        assert ws.close_code() == 1002


def test_a_binary_frame_inside_an_open_text_message_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":', TEXT, fin=False))
        time.sleep(0.05)
        ws.send(frame(b"\x00", BINARY))
        assert ws.close_code() == 1002


def test_a_fragmented_binary_message_gets_an_error_frame_and_lives(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"\x00", BINARY, fin=False) + frame(b"\x01", CONT))
        assert ws.expect("error")["code"] == "binary_not_supported"
        ws.alive()


def test_a_close_inside_an_open_message_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":', TEXT, fin=False))
        time.sleep(0.05)
        ws.send(frame(b"\x03\xe8", 0x8))
        assert ws.close_code() == 1002
