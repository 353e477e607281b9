"""Deliveries per second and delivery latency with one Parley process and with three.

A bounded check, not the benchmark suite (that is bench/run.py): it starts N processes
on PostgreSQL and Redis (a fresh database and a Redis prefix of its own, both removed at
the end), spreads RECEIVERS sockets over them in one room, and has SENDERS post
MESSAGES messages each over WebSocket, first as fast as acks allow (throughput), then
at a fixed rate (latency). Latency is from the sender's send to each receiver's frame.

    python -m bench.scale_check --processes 1
    python -m bench.scale_check --processes 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import websockets

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "PARLEY_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STARTUP_TIMEOUT_S = 90.0
PHASE_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(port: int, env: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on {port} exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


async def sign_up(url: str, http: httpx.AsyncClient) -> dict[str, Any]:
    name = f"sc{secrets.token_hex(5)}"
    r = await http.post(
        f"{url}/api/auth/register", json={"username": name, "password": "bench-pass-" + name}
    )
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    data["url"] = url
    return data


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


async def run(
    processes: int, receivers: int, senders: int, messages: int, rate: float
) -> dict[str, Any]:
    db_name = f"parley_scale_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(POSTGRES)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    await admin.close()
    db_url = POSTGRES.rsplit("/", 1)[0] + "/" + db_name
    env = {
        "PARLEY_DATABASE_URL": db_url,
        "PARLEY_REDIS_URL": REDIS,
        "PARLEY_REDIS_PREFIX": f"parley_scale_{secrets.token_hex(4)}",
        "PARLEY_SECRET_KEY": secrets.token_urlsafe(32),
        "PARLEY_SEND_RATE": "0",
    }
    tmp = Path(tempfile.mkdtemp(prefix="parley-scale-"))
    procs = []
    try:
        ports = [free_port() for _ in range(processes)]
        for i, port in enumerate(ports):
            procs.append(start(port, env, tmp / f"node{i}"))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        async with httpx.AsyncClient(timeout=60) as http:
            people = [await sign_up(urls[i % processes], http) for i in range(receivers + senders)]
            owner = people[0]
            auth = {"Authorization": f"Bearer {owner['token']}"}
            r = await http.post(
                f"{owner['url']}/api/rooms",
                json={"name": "scale", "visibility": "public"},
                headers=auth,
            )
            room_id = r.json()["room"]["id"]
            for person in people[1:]:
                await http.post(
                    f"{person['url']}/api/rooms/{room_id}/join",
                    headers={"Authorization": f"Bearer {person['token']}"},
                )
            results = await measure(people, receivers, senders, messages, rate, room_id)
            results["gap_fills"] = 0
            for url in urls:
                text = (await http.get(f"{url}/metrics")).text
                for line in text.splitlines():
                    if line.startswith("parley_gap_fills_total "):
                        results["gap_fills"] += int(float(line.split()[1]))
        return results
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        admin = await asyncpg.connect(POSTGRES)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()


async def measure(
    people: list[dict[str, Any]],
    receivers: int,
    senders: int,
    messages: int,
    rate: float,
    room_id: int,
) -> dict[str, Any]:
    def ws_url(person: dict[str, Any]) -> str:
        return person["url"].replace("http://", "ws://") + "/ws?token=" + person["token"]

    recv_socks = [await websockets.connect(ws_url(p), max_size=2**22) for p in people[:receivers]]
    send_socks = [await websockets.connect(ws_url(p), max_size=2**22) for p in people[receivers:]]
    for sock in recv_socks + send_socks:
        await sock.recv()  # ready
    results = {
        phase: await run_phase(recv_socks, send_socks, room_id, messages, phase, pace)
        for phase, pace in (("burst", 0.0), ("paced", rate))
    }
    for sock in recv_socks + send_socks:
        await sock.close()
    return results


async def run_phase(
    recv_socks: list[Any],
    send_socks: list[Any],
    room_id: int,
    messages: int,
    phase: str,
    pace: float,
) -> dict[str, Any]:
    """Every sender sends ``messages`` (at ``pace`` messages/s in all, or at once)."""
    total = len(send_socks) * messages
    latencies: list[float] = []

    seen: list[list[int]] = [[] for _ in recv_socks]

    async def receive(sock: Any) -> None:
        mine = seen[recv_socks.index(sock)]
        while len(mine) < total:
            frame = orjson.loads(await sock.recv())
            if frame.get("type") == "message" and frame["message"]["room_id"] == room_id:
                latencies.append(time.time() - float(frame["message"]["body"].split()[1]))
                mine.append(frame["message"]["seq"])

    async def send(sock: Any, who: int) -> None:
        acks = 0
        for i in range(messages):
            body = f"{phase} {time.time():.6f} {who}:{i}"
            frame = {
                "type": "send",
                "room_id": room_id,
                "body": body,
                "client_id": secrets.token_hex(8),
            }
            await sock.send(orjson.dumps(frame).decode())
            if pace:
                await asyncio.sleep(len(send_socks) / pace)
        while acks < messages:
            reply = orjson.loads(await sock.recv())
            acks += reply.get("type") == "ack"

    readers = [asyncio.create_task(receive(s)) for s in recv_socks]
    began = time.perf_counter()
    await asyncio.gather(*(send(s, i) for i, s in enumerate(send_socks)))
    try:
        await asyncio.wait_for(asyncio.gather(*readers), PHASE_TIMEOUT_S)
    except TimeoutError:
        short = [
            (
                i,
                len(got),
                sorted(set(range(min(got, default=1), max(got, default=0) + 1)) - set(got))[:10],
                got[-3:],
            )
            for i, got in enumerate(seen)
            if len(got) < total
        ]
        raise SystemExit(f"{phase}: {len(short)} receivers incomplete: {short[:8]}") from None
    elapsed = time.perf_counter() - began
    return {
        "deliveries": len(latencies),
        "seconds": round(elapsed, 2),
        "deliveries_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--receivers", type=int, default=60)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--messages", type=int, default=100, help="per sender and phase")
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s in the paced phase")
    args = parser.parse_args()
    results = asyncio.run(
        run(args.processes, args.receivers, args.senders, args.messages, args.rate)
    )
    load = os.getloadavg()[0]
    print(
        orjson.dumps(
            {
                "processes": args.processes,
                "receivers": args.receivers,
                "senders": args.senders,
                "loadavg_1m": round(load, 1),
                **results,
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )


if __name__ == "__main__":
    main()
