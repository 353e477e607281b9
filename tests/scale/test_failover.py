"""Processes that die and a Redis that restarts lose nothing acked; --workers N."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import websockets

from tests.scale.conftest import (
    PRESENCE_TTL_S,
    Backends,
    ClusterProcess,
    PrivateRedis,
    start_cluster,
)
from tests.scale.test_cluster import on
from tests.support import REPO_ROOT, Person, ServerProcess, Socket, sign_up

pytestmark = pytest.mark.scale

KILL_AFTER_ACKS = 10
SENDS = 30


async def frames_until(
    sock: Socket, room_id: int, last_seq: int, within: float = 30.0
) -> list[int]:
    """Seqs of the room's message frames, in arrival order, until ``last_seq`` arrives."""
    seqs: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not seqs or seqs[-1] < last_seq:
        frame = await sock.next(timeout=max(0.1, deadline - loop.time()))
        if frame.get("type") == "message" and frame["message"]["room_id"] == room_id:
            seqs.append(frame["message"]["seq"])
    return seqs


async def test_killing_a_process_mid_stream_loses_nothing_acked_and_its_clients_resume_elsewhere(
    backends: Backends, cluster: list[ServerProcess], tmp_path: Path
) -> None:
    survivor = cluster[0]
    (victim,) = start_cluster(tmp_path / "victim", backends.env(), 1)
    try:
        ana = await sign_up(victim.url)
        ben = await sign_up(survivor.url)
        room = await ana.create_room("failover", "private")
        await ana.add(room["id"], ben)
        sent: list[str] = []
        acked: dict[str, int] = {}
        async with ben.socket() as b:
            async with ana.socket() as a:

                async def send_stream() -> None:
                    for i in range(SENDS):
                        cid = f"f{i}-{uuid.uuid4().hex[:8]}"
                        sent.append(cid)
                        await a.send(
                            {
                                "type": "send",
                                "room_id": room["id"],
                                "body": f"m{i}",
                                "client_id": cid,
                            }
                        )
                        await asyncio.sleep(0.02)

                async def read_acks() -> None:
                    while True:
                        frame = await a.next(timeout=30)
                        if frame["type"] == "ack":
                            acked[frame["client_id"]] = frame["message"]["seq"]
                            if len(acked) == KILL_AFTER_ACKS:
                                victim.kill()  # SIGKILL, mid-stream

                sender = asyncio.create_task(send_stream())
                with pytest.raises(websockets.ConnectionClosed):
                    await read_acks()
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
            assert len(acked) >= KILL_AFTER_ACKS

            # Ana's client reconnects to the survivor, resumes and sends what was unacked.
            ana_again = on(ana, survivor)
            async with ana_again.socket() as a2:
                await a2.send({"type": "resume", "cursors": {str(room["id"]): 0}})
                await a2.expect("resumed", timeout=30)
                for cid in sent:
                    if cid not in acked:
                        body = f"m{sent.index(cid)}"
                        ack = await a2.send_message(room["id"], body, cid)
                        acked[cid] = ack["message"]["seq"]
            last = max(acked.values())
            history = await ana_again.history(room["id"], limit=200)
            by_cid = {m["client_id"]: m["seq"] for m in history}
            assert all(by_cid.get(cid) == seq for cid, seq in acked.items()), "acked = stored"
            assert [m["seq"] for m in history] == list(range(1, last + 1))
            assert len(history) == len(set(sent)), "one message per client_id"
            # Ben, on the survivor all along, saw every message once, in order.
            assert await frames_until(b, room["id"], last) == list(range(1, last + 1))
        await ana.http.aclose()
        await ben.http.aclose()
        await ana_again.http.aclose()
    finally:
        victim.stop()


async def test_the_users_of_a_killed_process_go_offline_for_everyone(
    backends: Backends, cluster: list[ServerProcess], tmp_path: Path
) -> None:
    (victim,) = start_cluster(tmp_path / "victim", backends.env(), 1)
    try:
        ana = await sign_up(cluster[0].url)
        cat = await sign_up(victim.url)
        room = await ana.create_room("presence-crash", "private")
        await ana.add(room["id"], cat)
        async with ana.socket() as a:
            cat_socket = cat.socket()
            await cat_socket.__aenter__()
            assert (await a.expect("presence", user_id=cat.id, timeout=10))["status"] == "online"
            victim.kill()
            gone = await a.expect("presence", user_id=cat.id, timeout=10 * PRESENCE_TTL_S)
            assert gone["status"] == "offline"
            r = await ana.http.get(f"/api/rooms/{room['id']}/members")
            status = {m["username"]: m.get("status") for m in r.json()["members"]}
            assert status[cat.username] == "offline"
            with contextlib.suppress(Exception):
                await cat_socket.__aexit__(None, None, None)
        await ana.http.aclose()
        await cat.http.aclose()
    finally:
        victim.stop()


async def test_after_redis_restarts_members_catch_up_on_what_was_sent_meanwhile(
    backends: Backends, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    env = backends.env(
        PARLEY_REDIS_URL=private_redis.url, PARLEY_REDIS_PREFIX=f"{backends.redis_prefix}_restart"
    )
    first, second = start_cluster(tmp_path, env, 2)
    people: list[Person] = []
    try:
        ana = await sign_up(first.url)
        ben = await sign_up(second.url)
        cat = await sign_up(second.url)
        people += [ana, ben, cat]
        room = await ana.create_room("redis-restart", "private")
        await ana.add(room["id"], ben)
        async with ben.socket() as b, cat.socket() as c:
            assert (await ana.post(room["id"], "before")).status_code == 201
            assert await frames_until(b, room["id"], 1) == [1]
            private_redis.kill()
            for body in ("during 1", "during 2"):
                r = await ana.post(room["id"], body)
                assert r.status_code == 201, "stored and acked while Redis is down"
            await ana.add(room["id"], cat)  # the join event is lost with Redis
            private_redis.start()
            # Ben's socket stayed open; his process catches up from the database.
            assert await frames_until(b, room["id"], 3, within=40) == [2, 3]
            joined = await c.expect("member_joined", room_id=room["id"], timeout=40)
            assert joined["user"]["id"] == cat.id
            assert (await ana.post(room["id"], "after")).status_code == 201
            assert await frames_until(b, room["id"], 4) == [4]
            assert await frames_until(c, room["id"], 4) == [4]
    finally:
        for person in people:
            await person.http.aclose()
        first.stop()
        second.stop()


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


async def test_serve_with_two_workers_answers_on_one_port_and_stops_cleanly(
    backends: Backends, tmp_path: Path
) -> None:
    server = ClusterProcess(
        tmp_path / "workers" / "data", env=backends.env(), args=["--workers", "2"]
    )
    try:
        server.start()
        assert server.proc is not None
        assert len(children_of(server.proc.pid)) == 2
        ana = await sign_up(server.url)
        ben = await sign_up(server.url)
        room = await ana.create_room("workers", "private")
        await ana.add(room["id"], ben)
        async with ben.socket() as b, ana.socket() as a:
            await a.send_message(room["id"], "hello from a worker")
            got = await b.expect("message", timeout=10)
            assert got["message"]["body"] == "hello from a worker"
        await ana.http.aclose()
        await ben.http.aclose()
        children = children_of(server.proc.pid)
        assert server.terminate() == 0
        assert all(_gone(child) for child in children)
    finally:
        server.stop()


def _gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped by its parent counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_serve_with_workers_but_no_redis_says_redis_is_needed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "serve",
            "--workers",
            "2",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"needs Redis" in done.stderr
