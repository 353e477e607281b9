"""Client worker processes: each holds many lean connections and sends on an open-loop schedule.

The parent talks to a worker over a Pipe with commands:
``("connect", specs)`` -> ``("connected", ok, failed, first_error)``;
``("run", plan)`` -> ``("result", dict)``; ``("stop",)`` -> ``("stopped",)``.
A spec is ``(token, src_ip, sid, room_id_or_None)``: a connection with a room sends there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.lean import LeanWS, Stats, body_for, mono_ns, open_ws


def prioritise() -> None:
    """Raise the file limit and, when BENCH_NICE is set (e.g. -10, needs root), the priority.

    On a shared machine a negative nice value shields the server and the generator from
    neighbours' CPU load; both targets get the same treatment.
    """
    raise_nofile()
    nice = int(os.environ.get("BENCH_NICE", "0"))
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice - os.nice(0))


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Target:
    kind: str  # "parley" | "sio"
    host: str
    port: int

    def path(self, token: str) -> str:
        if self.kind == "parley":
            return f"/ws?token={token}"
        return "/socket.io/?EIO=4&transport=websocket"

    def sio_auth(self, token: str) -> bytes | None:
        if self.kind == "sio":
            return json.dumps({"token": token}).encode()
        return None


class Sender:
    __slots__ = ("conn", "n", "prefix", "room", "sid")

    def __init__(self, conn: LeanWS, room_id: Any, kind: str) -> None:
        self.conn = conn
        self.sid = conn.sid
        self.n = 0
        self.room = json.dumps(room_id).encode()
        self.prefix = kind

    def send(self, ts: int) -> None:
        self.n += 1
        body = body_for(ts, self.sid)
        if self.prefix == "parley":
            payload = b'{"type":"send","room_id":%s,"body":"%s","client_id":"b%d-%d"}' % (
                self.room,
                body.encode(),
                self.sid,
                self.n,
            )
        else:
            payload = b'42%d["send",{"room_id":%s,"body":"%s","client_id":"b%d-%d"}]' % (
                self.n,
                self.room,
                body.encode(),
                self.sid,
                self.n,
            )
        self.conn.send_raw(payload)


async def _connect_all(
    target: Target, specs: list, stats: Stats, conns: list, senders: list, concurrency: int
) -> tuple[int, int, str]:
    sem = asyncio.Semaphore(concurrency)
    failed = 0
    first_error = ""

    async def one(spec: tuple) -> None:
        nonlocal failed, first_error
        token, src_ip, sid, room_id = spec
        async with sem:
            for attempt in range(3):
                try:
                    c = await open_ws(
                        target.kind,
                        target.host,
                        target.port,
                        target.path(token),
                        stats,
                        sid,
                        src_ip,
                        target.sio_auth(token),
                    )
                except (TimeoutError, OSError) as e:
                    if attempt == 2:
                        failed += 1
                        first_error = first_error or repr(e)
                    else:
                        await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                conns.append(c)
                if room_id is not None:
                    senders.append(Sender(c, room_id, target.kind))
                return

    await asyncio.gather(*(one(s) for s in specs))
    return len(specs) - failed, failed, first_error


async def _sleep_until(t_ns: int) -> None:
    d = (t_ns - mono_ns()) / 1e9
    if d > 0:
        await asyncio.sleep(d)


async def _run(plan: dict, stats: Stats, senders: list[Sender]) -> dict:
    """Open loop: message i is due at t0 + i/rate and carries that time as its timestamp."""
    t0, t_stop, t_end = plan["t0"], plan["t_stop"], plan["t_end"]
    stats.reset(plan["w_start"], plan["w_end"])
    if plan.get("track_per_msg"):
        stats.per_msg = {}
    rate = plan["rate"]
    await _sleep_until(t0)
    if rate > 0 and senders:
        step_ns = 1e9 / rate
        i = 0
        ns = len(senders)
        while True:
            now = mono_ns()
            if now >= t_stop:
                break
            due = int((now - t0) / step_ns) + 1
            while i < due:
                ts = t0 + int(i * step_ns)
                if ts >= t_stop:
                    break
                senders[i % ns].send(ts)
                stats.sent += 1
                if stats.w_start <= ts < stats.w_end:
                    stats.sent_in_window += 1
                i += 1
            await asyncio.sleep(0.001)
    await _sleep_until(t_end)
    return {
        "frames": stats.frames,
        "arrived_in_window": stats.arrived_in_window,
        "lat_us": stats.lat_us.tobytes(),
        "acks": stats.acks,
        "acks_in_window": stats.acks_in_window,
        "ack_lat_us": stats.ack_lat_us.tobytes(),
        "errors": stats.errors,
        "closed": stats.closed,
        "sent": stats.sent,
        "sent_in_window": stats.sent_in_window,
        "per_msg": stats.per_msg,
    }


async def _main(pipe: Connection, target: Target, concurrency: int) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    conns: list[LeanWS] = []
    senders: list[Sender] = []
    while True:
        cmd = await loop.run_in_executor(None, pipe.recv)
        if cmd[0] == "connect":
            ok, failed, err = await _connect_all(target, cmd[1], stats, conns, senders, concurrency)
            pipe.send(("connected", ok, failed, err))
        elif cmd[0] == "run":
            pipe.send(("result", await _run(cmd[1], stats, senders)))
        elif cmd[0] == "stop":
            for c in conns:
                if c.transport:
                    c.transport.close()
            await asyncio.sleep(0.2)
            pipe.send(("stopped",))
            return


def worker_main(pipe: Connection, target: Target, concurrency: int) -> None:
    # Its own session, so its own scheduler autogroup: the kernel then shares the CPU
    # between the server, each client process and the neighbours, instead of making the
    # server and its load generator split one share.
    os.setsid()
    prioritise()
    try:
        import uvloop

        uvloop.run(_main(pipe, target, concurrency))
    except ImportError:  # pragma: no cover
        asyncio.run(_main(pipe, target, concurrency))


class Workers:
    """A pool of worker processes, driven in lock step by the parent."""

    def __init__(self, target: Target, n: int, concurrency: int = 64) -> None:
        ctx = mp.get_context("fork")
        self.pipes: list[Connection] = []
        self.procs: list[mp.Process] = []
        for _ in range(n):
            a, b = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(b, target, concurrency), daemon=True)
            p.start()
            self.pipes.append(a)
            self.procs.append(p)

    def _all(self, cmds: list[tuple], timeout: float) -> list[tuple]:
        for pipe, cmd in zip(self.pipes, cmds, strict=True):
            pipe.send(cmd)
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError("worker did not answer")
            out.append(pipe.recv())
        return out

    def connect(self, specs: list, timeout: float = 600) -> tuple[int, int, str]:
        n = len(self.pipes)
        parts = [specs[i::n] for i in range(n)]
        res = self._all([("connect", p) for p in parts], timeout)
        ok = sum(r[1] for r in res)
        failed = sum(r[2] for r in res)
        err = next((r[3] for r in res if r[3]), "")
        return ok, failed, err

    def run(self, plans: list[dict], timeout: float) -> list[dict]:
        return [r[1] for r in self._all([("run", p) for p in plans], timeout)]

    def stop(self) -> None:
        with contextlib.suppress(TimeoutError, OSError, EOFError):
            self._all([("stop",)] * len(self.pipes), 30)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
