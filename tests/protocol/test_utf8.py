"""RFC 6455 section 8.1: text frames must be UTF-8, checked over the whole message."""

from __future__ import annotations

import pytest

from tests.protocol.wire import CONT, TEXT, Wire, frame

BAD_UTF8 = [
    b"\xff",  # never valid
    b"\xc0\xaf",  # overlong "/"
    b"\xed\xa0\x80",  # a UTF-16 surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xe2\x82",  # cut short
]


def test_multibyte_text_is_read_whole(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame('{"type":"ping","note":"ünïcødé 🎉"}'.encode()))
        ws.expect("pong")


def test_a_character_split_across_fragments_is_read_whole(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        data = '{"type":"ping","note":"🎉"}'.encode()
        cut = data.index(b"\xf0") + 2  # inside the emoji's four bytes
        ws.send(frame(data[:cut], TEXT, fin=False) + frame(data[cut:], CONT))
        ws.expect("pong")


@pytest.mark.parametrize("bad", BAD_UTF8)
def test_invalid_utf8_in_a_text_frame_closes_1007(port: int, token: str, bad: bytes) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":"ping","note":"' + bad + b'"}'))
        assert ws.close_code() == 1007


def test_invalid_utf8_in_a_fragmented_message_closes_1007(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":"ping",', TEXT, fin=False) + frame(b'"x":"\xff"}', CONT))
        assert ws.close_code() == 1007


def test_invalid_utf8_after_good_frames_closes_1007_after_answering_them(
    port: int, token: str
) -> None:
    with Wire(port) as ws:
        ws.open(token)
        ws.send(frame(b'{"type":"ping"}') + frame(b"\xff"))
        ws.expect("pong")
        assert ws.close_code() == 1007
