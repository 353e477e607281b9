"""RFC 6455 sections 5.5 and 7: ping, pong and the closing handshake."""

from __future__ import annotations

import struct

import pytest

from tests.protocol.wire import CLOSE, PING, PING_JSON, PONG, Wire, close_payload, frame


def test_a_ping_is_answered_with_a_pong_carrying_its_payload(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"hello", PING))
        assert ws.read_frame() == (True, PONG, b"hello")


def test_a_ping_with_the_largest_control_payload_is_echoed(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        payload = bytes(range(125))
        ws.send(frame(payload, PING))
        assert ws.read_frame() == (True, PONG, payload)


def test_a_ping_over_125_bytes_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"x" * 126, PING))
        assert ws.close_code() == 1002


def test_a_fragmented_ping_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"x", PING, fin=False))
        assert ws.close_code() == 1002


def test_an_unsolicited_pong_is_ignored(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"unasked", PONG))
        ws.alive()


def test_pings_between_text_frames_keep_their_order(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"a", PING) + frame(PING_JSON) + frame(b"b", PING))
        assert ws.read_frame() == (True, PONG, b"a")
        ws.expect("pong")


def test_a_close_1000_is_echoed_and_the_socket_ends(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(close_payload(1000, b"bye"), CLOSE))
        assert ws.close_code() == 1000
        assert ws.ended()


def test_an_empty_close_is_answered_with_an_empty_close(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"", CLOSE))
        assert ws.close_code() == 1005  # no status in the echo
        assert ws.ended()


def test_an_application_close_code_is_echoed(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(close_payload(4000, b"app"), CLOSE))
        assert ws.close_code() == 4000


def test_a_close_with_a_one_byte_payload_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"\x03", CLOSE))
        assert ws.close_code() == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])
def test_a_close_with_a_code_no_one_may_send_closes_1002(port: int, token: str, code: int) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(struct.pack("!H", code), CLOSE))
        assert ws.close_code() == 1002


def test_a_close_reason_that_is_not_utf8_closes_1007(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(close_payload(1000, b"\xff\xfe"), CLOSE))
        assert ws.close_code() == 1007


def test_frames_after_a_close_are_not_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(close_payload(1000), CLOSE) + frame(PING_JSON))
        _, opcode, _ = ws.read_frame()
        assert opcode == CLOSE, "the close echo comes first, and no pong"
        assert ws.ended()
        assert ws.buf == b""
