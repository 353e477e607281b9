"""Starting, stopping and crashing the server: what survives and how clients are told."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import orjson
import websockets

from tests.support import ServerProcess, sign_up


async def test_sigterm_closes_websockets_with_1001_and_exits_0(
    fresh_server: ServerProcess,
) -> None:
    fresh_server.start()
    ana = await sign_up(fresh_server.url)
    async with websockets.connect(f"{fresh_server.ws_url}?token={ana.token}") as ws:
        assert orjson.loads(await ws.recv())["type"] == "ready"
        code = await asyncio.to_thread(fresh_server.terminate)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1001
    assert code == 0
    await ana.http.aclose()


async def test_acked_messages_and_sessions_survive_kill_9(fresh_server: ServerProcess) -> None:
    fresh_server.env["PARLEY_SEND_RATE"] = "0"  # a fast pipeline, not a flood to refuse
    fresh_server.start()
    ana = await sign_up(fresh_server.url)
    room = await ana.create_room("durable")
    acked: dict[str, int] = {}
    async with ana.socket() as sock:
        # Pipeline sends and kill the server while acks are still arriving.
        for i in range(300):
            await sock.send(
                {"type": "send", "room_id": room["id"], "body": f"d{i}", "client_id": f"d{i}"}
            )
        try:
            while len(acked) < 300:
                frame = await sock.next(timeout=5)
                if frame["type"] == "ack":
                    acked[frame["client_id"]] = frame["message"]["seq"]
                    if len(acked) == 120:
                        fresh_server.kill()
        except (websockets.ConnectionClosed, TimeoutError):
            pass
    assert len(acked) >= 120
    fresh_server.start()
    # The same token still works after the restart.
    stored: dict[str, int] = {}
    before = None
    while True:
        page = await ana.history(
            room["id"], **({"before_seq": before} if before else {}), limit=200
        )
        stored.update({m["client_id"]: m["seq"] for m in page})
        if len(page) < 200:
            break
        before = page[0]["seq"]
    for client_id, seq in acked.items():
        assert stored.get(client_id) == seq, client_id
    seqs = sorted(stored.values())
    assert seqs == list(range(1, len(seqs) + 1))
    await ana.http.aclose()


async def test_healthz_and_unknown_routes_answer_json(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        missing = await http.get(f"/api/{uuid.uuid4().hex}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        wrong_method = await http.put("/api/rooms")
        assert wrong_method.status_code == 405
        assert "error" in wrong_method.json()


async def test_every_response_carries_the_security_headers(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/", "/healthz", "/api/me", "/api/nope"):
            r = await http.get(path)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert r.headers["x-content-type-options"] == "nosniff"


async def test_openapi_document_is_published(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        doc = (await http.get("/openapi.json")).json()
    assert "/api/auth/register" in doc["paths"]
    assert "/api/rooms/{room_id}/messages" in doc["paths"]


async def test_the_server_runs_on_uvloop(fresh_server: ServerProcess) -> None:
    fresh_server.start()
    assert fresh_server.proc is not None
    maps = Path(  # noqa: ASYNC240 - /proc is not a disk
        f"/proc/{fresh_server.proc.pid}/maps"
    ).read_text()
    assert "uvloop" in maps


async def test_the_writer_process_is_up_before_the_first_message(
    fresh_server: ServerProcess,
) -> None:
    """Started with the server, not by the first send, which would wait for it to start
    (0.2 s on SQLite, 0.6 s and a connection on PostgreSQL)."""
    fresh_server.start()
    assert fresh_server.proc is not None
    server_pid = str(fresh_server.proc.pid)
    children = [
        stat
        for stat in Path("/proc").glob("[0-9]*/stat")  # noqa: ASYNC240 - /proc is not a disk
        if _parent_of(stat) == server_pid
    ]
    commands = [(stat.parent / "cmdline").read_bytes() for stat in children]
    assert any(b"parley.store.writer_process" in command for command in commands), commands


def _parent_of(stat: Path) -> str | None:
    try:
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        return stat.read_text().rsplit(")", 1)[1].split()[1]
    except (OSError, IndexError):
        return None  # gone meanwhile
