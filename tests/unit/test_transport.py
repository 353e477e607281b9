"""Frames Parley builds itself must be byte-for-byte what websockets would send."""

from __future__ import annotations

import pytest
from websockets.protocol import State
from websockets.server import ServerProtocol

from parley.realtime.connection import text_frame_header


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_header_matches_websockets_framing(size: int) -> None:
    payload = b"x" * size
    reference = ServerProtocol()
    reference.state = State.OPEN
    reference.send_text(payload)
    assert text_frame_header(size) + payload == b"".join(reference.data_to_send())
