"""RFC 6455 section 5.2: frame lengths, masking, reserved bits and opcodes."""

from __future__ import annotations

import time

import pytest

from tests.protocol.wire import BINARY, PING_JSON, TEXT, Wire, frame

PADDED_PING = b'{"type":"ping"' + b" " * 300 + b"}"  # a 16-bit length, still JSON


def test_a_small_masked_text_frame_is_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON))
        assert ws.expect("pong") == {"type": "pong"}


def test_a_frame_with_a_16_bit_length_is_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PADDED_PING))
        ws.expect("pong")


def test_a_frame_with_a_64_bit_length_over_64_kib_gets_an_error_and_lives(
    port: int, token: str
) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":"ping"' + b" " * 70_000 + b"}"))
        assert ws.expect("error")["code"] == "frame_too_large"
        ws.alive()


def test_a_frame_sent_one_byte_at_a_time_is_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        for byte in frame(PADDED_PING):
            ws.send(bytes([byte]))
        ws.expect("pong")


def test_frames_split_across_writes_at_odd_places_are_each_answered(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        data = b"".join(frame(PING_JSON) for _ in range(5)) + frame(PADDED_PING)
        for cut in range(0, len(data), 7):
            ws.send(data[cut : cut + 7])
            time.sleep(0.001)
        for _ in range(6):
            ws.expect("pong")


def test_2001_frames_in_one_write_are_all_answered(port: int, token: str) -> None:
    """More frames in one read than the outbound frame bound (2,000): the answers are
    written as they are made, since the client reads; no close 4008."""
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON) * 2001)
        for _ in range(2001):
            ws.expect("pong")
        ws.alive()


def test_an_unmasked_client_frame_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON, masked=False))
        assert ws.close_code() == 1002


def test_a_frame_declared_over_1_mib_closes_1009(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"x" * 16, declared=2 * 1024 * 1024)[:14])
        assert ws.close_code() == 1009


def test_a_client_still_sending_a_too_big_frame_gets_the_close_frame_not_a_reset(
    port: int, token: str
) -> None:
    # The server refuses the frame from its header. The client goes on sending the rest
    # (as a client library does): that must not meet a reset (a broken pipe instead of
    # 1009), so the server reads and drops it, then the client sees the close frame.
    body = frame(b"x" * (1024 * 1024 + 1))
    with Wire(port) as ws:
        ws.open(token)
        ws.send(body[:14])
        time.sleep(0.3)  # the server has refused the frame by now
        for start in range(14, len(body), 1 << 16):
            ws.send(body[start : start + (1 << 16)])
        assert ws.close_code() == 1009


@pytest.mark.parametrize("rsv", [0b100, 0b010, 0b001])
def test_a_reserved_bit_on_a_text_frame_closes_1002(port: int, token: str, rsv: int) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON, rsv=rsv))
        assert ws.close_code() == 1002


def test_a_reserved_bit_on_a_ping_closes_1002(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"", 0x9, rsv=0b100))
        assert ws.close_code() == 1002


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
def test_a_reserved_opcode_closes_1002(port: int, token: str, opcode: int) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"", opcode))
        assert ws.close_code() == 1002


def test_a_reserved_opcode_after_good_frames_closes_1002_after_answering_them(
    port: int, token: str
) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(PING_JSON) + frame(PING_JSON) + frame(b"", 0x5))
        ws.expect("pong")
        ws.expect("pong")
        assert ws.close_code() == 1002


def test_a_binary_frame_gets_an_error_frame_and_lives(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"\x00\x01", BINARY))
        assert ws.expect("error")["code"] == "binary_not_supported"
        ws.alive()


def test_an_empty_text_frame_gets_an_error_frame_and_lives(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b"", TEXT))
        assert ws.expect("error")["code"] == "invalid_json"
        ws.alive()
