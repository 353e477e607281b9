"""RFC 6455 section 4: the opening handshake, and frames that do not wait for it."""

from __future__ import annotations

import orjson

from tests.protocol.wire import PING_JSON, Wire, frame, upgrade_request


def test_a_valid_upgrade_gets_101_then_ready(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token))
        reply = ws.reply()
        assert reply.status == 101
        assert reply.headers["upgrade"].lower() == "websocket"
        assert ws.expect("ready")["type"] == "ready"


def test_an_upgrade_without_a_session_gets_401_json(port: int) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, None))
        reply = ws.reply()
        assert reply.status == 401
        assert orjson.loads(reply.body)["error"]["code"] == "unauthorized"


def test_websocket_version_8_gets_426_naming_version_13(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token, version="8"))
        reply = ws.reply()
        assert reply.status == 426
        assert reply.headers["sec-websocket-version"] == "13"
        assert orjson.loads(reply.body)["error"]["code"] == "unsupported_websocket_version"


def test_an_upgrade_without_a_version_is_refused(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token, version=""))
        assert ws.reply().status == 400


def test_an_http_1_0_upgrade_gets_400(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token, http="HTTP/1.0"))
        reply = ws.reply()
        assert reply.status == 400
        assert orjson.loads(reply.body)["error"]["code"] == "bad_upgrade"


def test_an_upgrade_without_host_gets_400(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token, host=None))
        reply = ws.reply()
        assert reply.status == 400
        assert orjson.loads(reply.body)["error"]["code"] == "bad_upgrade"


def test_an_upgrade_with_two_host_headers_gets_400(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token, extra="Host: example.invalid\r\n"))
        assert ws.reply().status == 400


def test_an_upgrade_without_a_key_is_refused(port: int, token: str) -> None:
    request = upgrade_request(port, token).replace(b"Sec-WebSocket-Key", b"X-Not-The-Key")
    with Wire(port) as ws:
        ws.send(request)
        assert ws.reply().status == 400


def test_a_frame_sent_right_after_the_upgrade_request_is_answered(port: int, token: str) -> None:
    """In its own write, before the 101 could arrive: it is read once the socket opens,
    and the socket keeps reading afterwards."""
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token))
        ws.send(frame(PING_JSON))
        assert ws.reply().status == 101
        ws.expect("ready")
        ws.expect("pong")
        ws.alive()


def test_a_frame_in_the_same_write_as_the_upgrade_request_is_answered(
    port: int, token: str
) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token) + frame(PING_JSON) + frame(PING_JSON))
        assert ws.reply().status == 101
        ws.expect("ready")
        ws.expect("pong")
        ws.expect("pong")
        ws.alive()


def test_a_frame_before_a_refused_upgrade_is_never_read(port: int) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, "not-a-token") + frame(PING_JSON))
        assert ws.reply().status == 401
        assert ws.ended()
        assert ws.buf == b""
