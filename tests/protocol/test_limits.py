"""What one client can hold: request heads, their deadline, WebSockets per user."""

from __future__ import annotations

import socket
import time

import httpx
import orjson

from parley.web.http_protocol import MAX_HEAD_BYTES
from tests.protocol.conftest import HEADER_TIMEOUT_S, WEBSOCKETS_PER_USER
from tests.protocol.wire import Wire, upgrade_request
from tests.support import ServerProcess


def _get(port: int, extra: str = "") -> bytes:
    return f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


def test_headers_just_under_the_bound_are_served(port: int) -> None:
    with Wire(port) as ws:
        ws.send(_get(port, f"X-Pad: {'a' * (MAX_HEAD_BYTES - 200)}\r\n"))
        assert ws.reply().status == 200


def test_headers_over_the_bound_get_431(port: int) -> None:
    with Wire(port) as ws:
        ws.send(_get(port, f"X-Pad: {'a' * MAX_HEAD_BYTES}\r\n"))
        reply = ws.reply()
        assert reply.status == 431
        assert orjson.loads(reply.body)["error"]["code"] == "headers_too_large"


def test_many_small_headers_over_the_bound_get_431(port: int) -> None:
    headers = "".join(f"X-H{i}: {'b' * 60}\r\n" for i in range(MAX_HEAD_BYTES // 60))
    with Wire(port) as ws:
        ws.send(_get(port, headers))
        assert ws.reply().status == 431


def test_an_upgrade_with_headers_over_the_bound_gets_431(port: int, token: str) -> None:
    with Wire(port) as ws:
        ws.send(upgrade_request(port, token, extra=f"X-Pad: {'c' * MAX_HEAD_BYTES}\r\n"))
        assert ws.reply().status == 431


def test_a_header_that_never_ends_is_cut_off_early(port: int) -> None:
    """The server answers 431 and closes long before the client has sent 1 MiB."""
    with Wire(port) as ws:
        ws.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 1024 * 1024:
                ws.send(b"z" * 4096)
                sent += 4096
        except (BrokenPipeError, ConnectionResetError):
            pass
        ws.sock.settimeout(5)
        try:
            reply = ws.reply()
        except ConnectionResetError:
            reply = None
        assert sent < 1024 * 1024 or reply is not None
        if reply is not None:
            assert reply.status == 431


def test_a_half_sent_head_gets_408_at_the_deadline(port: int) -> None:
    with Wire(port) as ws:
        start = time.monotonic()
        ws.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        reply = ws.reply()
        waited = time.monotonic() - start
        assert reply.status == 408
        assert orjson.loads(reply.body)["error"]["code"] == "request_timeout"
        assert HEADER_TIMEOUT_S * 0.9 <= waited < HEADER_TIMEOUT_S + 2
        assert ws.ended()


def test_a_head_sent_a_byte_at_a_time_still_meets_the_deadline(port: int) -> None:
    with Wire(port) as ws:
        start = time.monotonic()
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100:
            try:
                ws.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            if time.monotonic() - start > HEADER_TIMEOUT_S + 2:
                break
            time.sleep(0.02)
        assert ws.reply().status == 408
        assert time.monotonic() - start < HEADER_TIMEOUT_S + 2


def test_a_silent_connection_is_closed_at_the_deadline(port: int) -> None:
    with Wire(port) as ws:
        assert ws.reply().status == 408


def test_a_keep_alive_connection_gets_the_deadline_for_each_head(port: int) -> None:
    with Wire(port) as ws:
        ws.send(_get(port))
        assert ws.reply().status == 200
        ws.send(b"GET /healthz HTTP/1.1\r\n")
        assert ws.reply().status == 408


def test_websockets_per_user_are_capped_with_429(port: int, token: str) -> None:
    sockets = [Wire(port) for _ in range(WEBSOCKETS_PER_USER)]
    try:
        for ws in sockets:
            ws.open(token)
        with Wire(port) as extra:
            extra.send(upgrade_request(port, token))
            reply = extra.reply()
            assert reply.status == 429
            assert reply.headers["retry-after"]
            assert orjson.loads(reply.body)["error"]["code"] == "too_many_connections"
        sockets.pop().sock.close()
        deadline = time.monotonic() + 5
        while True:  # the server learns of the close asynchronously
            with Wire(port) as again:
                again.send(upgrade_request(port, token))
                reply = again.reply()
                if reply.status == 101 or time.monotonic() > deadline:
                    break
            time.sleep(0.05)
        assert reply.status == 101
    finally:
        for ws in sockets:
            ws.sock.close()


def test_the_cap_is_per_user(port: int, token: str, protocol_server: ServerProcess) -> None:
    sockets = [Wire(port) for _ in range(WEBSOCKETS_PER_USER)]
    try:
        for ws in sockets:
            ws.open(token)
        r = httpx.post(
            protocol_server.url + "/api/auth/register",
            json={"username": f"other{time.time_ns()}", "password": "a-long-enough-pass"},
        )
        with Wire(port) as other:
            other.open(r.json()["token"])
            other.alive()
    finally:
        for ws in sockets:
            ws.sock.close()


def test_healthz_answers_while_clients_hold_unfinished_heads(port: int) -> None:
    held = []
    try:
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert r.status_code == 200
    finally:
        for sock in held:
            sock.close()
