"""Multi-host rehearsal: three Parley nodes, PostgreSQL and Redis on a lossy, slow network.

Run by hand, as root (it creates network namespaces), from the repository root:

    sudo .venv/bin/python -m bench.multihost            # about 3 minutes
    sudo .venv/bin/python -m bench.multihost --members 12 --cut-seconds 30

What it builds, all inside namespaces it creates and removes again (the host's own
interfaces, routes, PostgreSQL and Redis are never touched):

    pmh<id>-br  10.77.0.1   the WebSocket clients (this script's own process) run here
    pmh<id>-n1  10.77.0.11  parley serve  ─┐ each linked to the clients' namespace and
    pmh<id>-n2  10.77.0.12  parley serve   │ to each other, every link with 1-20 ms of
    pmh<id>-n3  10.77.0.13  parley serve   │ one-way delay (a quarter of it jitter) and
    pmh<id>-db  10.77.0.20  PostgreSQL    ─┘ 0.3 % loss, both ways
                            (a private cluster: initdb in a temp dir, run as the
                            postgres user) and a private redis-server

Links: where the kernel has sch_netem, a bridge br0 in the clients' namespace with a
veth pair per namespace and `tc qdisc add ... netem` on both ends; where it does not
(this project's CI box), bench/linkemu.py, which routes between TUN devices with the
same delay and loss (``--links`` chooses; the report says which one ran).

Then, with members each holding one WebSocket (``/ws?resume=1``, resume from the last
seq seen, unacked sends resent with the same client_id on every reconnect, as the web
client does):
1. baseline: every member on node 1, each sends --messages; delivery p50/p99;
2. spread: members over the three nodes, the same traffic; delivery p50/p99;
3. cut: while everyone keeps sending, node 3's link goes down (not the process) for
   --cut-seconds, then comes back; its members move to the other nodes meanwhile;
4. Redis restart: while everyone keeps sending, redis-server is stopped and started;
5. rehome: every member reconnects to its own node (node 3 included) and sends again.
After each room's traffic every guarantee of shared/contract.md is checked
(bench/ledger.py): each acked message stored once, seqs without gaps, delivered to every
member exactly once and in seq order, every send acked in the end.

Files: an upload on one node and a download on another need shared blob storage. By
default the rehearsal starts an S3 API (moto's standalone server, from the test tools in
requirements-ci.txt) in the database namespace, behind the same slow, lossy link, creates a
bucket there and gives every node PARLEY_BLOB_URL=s3://... with the AWS_* settings; then it
uploads on node 1 and downloads the same bytes, and the thumbnail of an image, from nodes 2
and 3. With PARLEY_BLOB_URL already set (and AWS_* for a real bucket) the nodes use that
bucket instead; ``--blobs local`` keeps each node's files on its own disk and skips the
check.

Everything is torn down on success, failure and Ctrl+C; every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

from bench.ledger import Ledger, check_room

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBNET = "10.77.0"  # only ever configured inside the namespaces made here
BRIDGE_IP = f"{SUBNET}.1"
DB_IP = f"{SUBNET}.20"
PORT = 8000
S3_PORT = 9000
S3_BUCKET = "parley-rehearsal"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal-secret"}
# One-way delay per link (ms); each crossing of the bridge pays both links' delays.
DELAYS_MS = {"br": 1, "n1": 2, "n2": 8, "n3": 15, "db": 5}
LOSS_PCT = "0.3%"
CLONE_NEWNET = 0x40000000
QUIET_TIMEOUT_S = 150.0
CONNECT_TIMEOUT_S = 5.0


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()}")
    return done


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


def enter_netns(name: str) -> None:
    """Move this (still single-threaded) process into a namespace: clients run there."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns failed")
    finally:
        os.close(fd)


class Lab:
    """The namespaces, links, databases and nodes; torn down by close() whatever happened."""

    def __init__(self, blob_url: str | None, links: str) -> None:
        """``blob_url``: an operator's bucket, "moto" for one started here, None for none."""
        self.links = links
        self.tag = f"pmh{secrets.token_hex(3)}"
        self.tmp = Path(tempfile.mkdtemp(prefix="parley-multihost-"))
        self.namespaces: list[str] = []
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.pgdata = self.tmp / "pg"
        self.blob_url = blob_url
        self.blob_env: dict[str, str] = {}
        self.secret = secrets.token_urlsafe(32)
        self.redis_prefix = "parley"

    def ns(self, short: str) -> str:
        return f"{self.tag}-{short}"

    def node_ip(self, i: int) -> str:
        return f"{SUBNET}.{11 + i}"

    def url(self, i: int) -> str:
        return f"http://{self.node_ip(i)}:{PORT}"

    # -- network ---------------------------------------------------------------------------

    def build_network(self) -> None:
        for short in ("br", "n1", "n2", "n3", "db"):
            sh("ip", "netns", "add", self.ns(short))
            self.namespaces.append(self.ns(short))
            sh("ip", "-n", self.ns(short), "link", "set", "lo", "up")
        self.links = self.links if self.links != "auto" else self.probe_netem()
        addrs = {f"n{i + 1}": self.node_ip(i) for i in range(3)} | {"db": DB_IP}
        if self.links == "netem":
            self.build_bridge(addrs)
        else:
            self.build_tun(addrs)

    def probe_netem(self) -> str:
        """'netem' where the kernel has sch_netem, else 'tun' (bench/linkemu.py)."""
        br = self.ns("br")
        sh("ip", "-n", br, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1")
        probe = sh("tc", "-n", br, "qdisc", "add", "dev", "probe0", "root", "netem", "delay",
                   "1ms", check=False)  # fmt: skip
        sh("ip", "-n", br, "link", "delete", "probe0")
        return "netem" if probe.returncode == 0 else "tun"

    def build_bridge(self, addrs: dict[str, str]) -> None:
        """A bridge in the clients' namespace, a veth pair per node, netem on both ends."""
        br = self.ns("br")
        sh("ip", "-n", br, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", br, "addr", "add", f"{BRIDGE_IP}/24", "dev", "br0")
        sh("ip", "-n", br, "link", "set", "br0", "up")
        for short, addr in addrs.items():
            inner = self.ns(short)
            # Created inside the bridge namespace, one end moved straight into the node's:
            # neither end ever exists in the host's namespace.
            peer = f"veth{short}"
            sh(
                "ip", "-n", br, "link", "add", f"v{short}", "type", "veth",
                "peer", "name", peer, "netns", inner,
            )  # fmt: skip
            sh("ip", "-n", br, "link", "set", f"v{short}", "master", "br0")
            sh("ip", "-n", br, "link", "set", f"v{short}", "up")
            sh("ip", "-n", inner, "link", "set", peer, "name", "eth0")
            sh("ip", "-n", inner, "addr", "add", f"{addr}/24", "dev", "eth0")
            sh("ip", "-n", inner, "link", "set", "eth0", "up")
            delay = DELAYS_MS[short]
            netem = ["netem", "delay", f"{delay}ms", f"{delay / 4:g}ms", "loss", LOSS_PCT]
            sh("tc", "-n", inner, "qdisc", "add", "dev", "eth0", "root", *netem)
            sh("tc", "-n", br, "qdisc", "add", "dev", f"v{short}", "root", *netem)

    def build_tun(self, addrs: dict[str, str]) -> None:
        """Without sch_netem: a TUN device per namespace, routed with delay and loss."""
        br = self.ns("br")
        links = [f"{BRIDGE_IP}={DELAYS_MS['br']}"]
        links += [f"{addr}={DELAYS_MS[short]}" for short, addr in addrs.items()]
        loss = str(float(LOSS_PCT.rstrip("%")) / 100)
        self.procs["linkemu"] = emu = subprocess.Popen(
            ["ip", "netns", "exec", br, sys.executable, "-m", "bench.linkemu", *links,
             "--loss", loss],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        assert emu.stdout is not None
        ready, _, _ = select.select([emu.stdout], [], [], 20)
        if not ready or emu.stdout.readline().strip() != b"ready":
            raise SystemExit("bench.linkemu did not start")
        sh("ip", "-n", br, "addr", "add", f"{BRIDGE_IP}/24", "dev", "tun0")
        sh("ip", "-n", br, "link", "set", "tun0", "up")
        for n, (short, addr) in enumerate(addrs.items(), 1):
            inner = self.ns(short)
            sh("ip", "-n", br, "link", "set", f"tun{n}", "netns", inner)
            sh("ip", "-n", inner, "link", "set", f"tun{n}", "name", "eth0")
            sh("ip", "-n", inner, "addr", "add", f"{addr}/24", "dev", "eth0")
            sh("ip", "-n", inner, "link", "set", "eth0", "up")

    def cut(self, short: str, down: bool) -> None:
        sh("ip", "-n", self.ns(short), "link", "set", "eth0", "down" if down else "up")
        if not down:  # the address's on-link route goes with the link: put it back
            sh("ip", "-n", self.ns(short), "route", "replace", f"{SUBNET}.0/24", "dev", "eth0")

    # -- PostgreSQL and Redis --------------------------------------------------------------

    def start_databases(self) -> None:
        self.pgdata.mkdir()
        shutil.chown(self.tmp, "postgres")
        shutil.chown(self.pgdata, "postgres")
        self.tmp.chmod(0o755)
        sh("runuser", "-u", "postgres", "--", "initdb", "-D", str(self.pgdata), "-A", "trust",
           "-U", "postgres", "--no-sync")  # fmt: skip
        with (self.pgdata / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")
        options = (
            f"-c listen_addresses={DB_IP} -p 5432 -c max_connections=200 "
            f"-c unix_socket_directories={self.pgdata}"  # never the machine's own socket dir
        )
        sh(
            "ip", "netns", "exec", self.ns("db"), "runuser", "-u", "postgres", "--",
            "pg_ctl", "-D", str(self.pgdata), "-o", options, "-l", str(self.tmp / "pg.log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self.start_redis()
        if self.blob_url == "moto":
            self.start_s3()

    def start_s3(self) -> None:
        """moto's S3 API in the database namespace: every node reaches it over its link."""
        log = (self.tmp / "s3.log").open("ab")
        self.procs["s3"] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("db"), sys.executable, "-m", "moto.server",
             "-H", DB_IP, "-p", str(S3_PORT)],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        endpoint = f"http://{DB_IP}:{S3_PORT}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                # A bucket is made with one PUT; moto needs no signature to make one.
                if httpx.put(f"{endpoint}/{S3_BUCKET}", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        else:
            raise SystemExit("moto's S3 server did not start (see s3.log)")
        self.blob_url = f"s3://{S3_BUCKET}/parley"
        self.blob_env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            **S3_KEYS,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def start_redis(self) -> None:
        log = (self.tmp / "redis.log").open("ab")
        self.procs["redis"] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("db"), "redis-server", "--bind", DB_IP,
             "--port", "6379", "--save", "", "--appendonly", "no", "--protected-mode", "no",
             "--dir", str(self.tmp)],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            probe = sh("redis-cli", "-h", DB_IP, "ping", check=False)
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.2)
        raise SystemExit("redis-server did not start (see redis.log)")

    def stop_redis(self) -> None:
        self.stop_proc("redis")

    # -- Parley nodes ----------------------------------------------------------------------

    def start_node(self, i: int) -> None:
        env = {
            **os.environ,
            "PARLEY_DATABASE_URL": f"postgresql://postgres@{DB_IP}:5432/postgres",
            "PARLEY_REDIS_URL": f"redis://{DB_IP}:6379/0",
            "PARLEY_REDIS_PREFIX": self.redis_prefix,
            "PARLEY_SECRET_KEY": self.secret,
            "PARLEY_PUBLIC_URL": "http://chat.example.invalid",
        }
        if self.blob_url:
            env["PARLEY_BLOB_URL"] = self.blob_url
            env.update(self.blob_env)
        data_dir = self.tmp / f"node{i + 1}"
        data_dir.mkdir()
        log = (self.tmp / f"node{i + 1}.log").open("ab")
        self.procs[f"n{i + 1}"] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(f"n{i + 1}"), sys.executable, "-m", "parley",
             "serve", "--host", self.node_ip(i), "--port", str(PORT), "--data-dir", str(data_dir)],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.wait_healthy(i, 120)

    def wait_healthy(self, i: int, timeout: float) -> float:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            proc = self.procs[f"n{i + 1}"]
            if proc.poll() is not None:
                raise SystemExit(f"node {i + 1} exited with {proc.returncode}: see its log")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url(i) + "/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - began
            time.sleep(0.3)
        raise SystemExit(f"node {i + 1} not healthy within {timeout:.0f} s")

    def stop_proc(self, key: str) -> None:
        proc = self.procs.pop(key, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def close(self) -> None:
        # Nodes first, while the database and the links still let them shut down cleanly.
        for key in sorted(self.procs, key=lambda k: (not k.startswith("n"), k == "linkemu")):
            with contextlib.suppress(Exception):
                self.stop_proc(key)
        if (self.pgdata / "postmaster.pid").exists():
            sh("runuser", "-u", "postgres", "--", "pg_ctl", "-D", str(self.pgdata), "-m", "fast",
               "-w", "-t", "30", "stop", check=False)  # fmt: skip
        for name in reversed(self.namespaces):
            sh("ip", "netns", "delete", name, check=False)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"logs kept in {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# -- members ---------------------------------------------------------------------------


@dataclass
class Member:
    """One person with one WebSocket that reconnects, resumes and resends like the web client."""

    name: str
    token: str
    room_id: int
    home: int
    lab: Lab
    ledger: Ledger = field(init=False)
    node: int = -1
    pending: dict[str, str] = field(default_factory=dict)  # client_id -> body, until acked
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[tuple[str, float]] = field(default_factory=list)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)
    retries: set[asyncio.Task[None]] = field(default_factory=set)
    ws: Any = None
    stopping: bool = False
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    moved: asyncio.Event = field(default_factory=asyncio.Event)
    target: int = -1

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.name)
        self.target = self.home

    async def run(self) -> None:
        """Stay connected until stopped: on any failure move on to the next node."""
        attempt = 0
        while not self.stopping:
            node = self.target if attempt == 0 else (self.node + 1) % 3
            with contextlib.suppress(OSError, TimeoutError, websockets.WebSocketException):
                await self.session(node)
            self.connected.clear()
            if self.stopping:
                return
            if self.moved.is_set():  # asked to reconnect to self.target
                self.moved.clear()
                attempt = 0
            else:
                attempt += 1
                self.reconnects += 1
                await asyncio.sleep(0.3)

    async def session(self, node: int) -> None:
        self.node = node
        url = self.lab.url(node).replace("http://", "ws://") + f"/ws?resume=1&token={self.token}"
        async with websockets.connect(
            url,
            open_timeout=CONNECT_TIMEOUT_S,
            ping_interval=2,  # a cut link shows as a missing pong within 2 + 4 s
            ping_timeout=4,
            close_timeout=2,
            max_size=2**22,
        ) as ws:
            self.ws = ws
            ready = orjson.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT_S))
            assert ready["type"] == "ready", ready
            cursors = {str(self.room_id): self.ledger.last_seq}
            await ws.send(orjson.dumps({"type": "resume", "cursors": cursors}).decode())
            resumed = False
            async for raw in ws:
                frame = orjson.loads(raw)
                kind = frame.get("type")
                if kind == "resumed" and not resumed:
                    resumed = True
                    for client_id, body in list(self.pending.items()):
                        await self.transmit(client_id, body)
                    self.connected.set()
                elif kind == "message" and frame["message"]["room_id"] == self.room_id:
                    message = frame["message"]
                    now = time.time()
                    if self.ledger.message(message["seq"], now) and resumed:
                        phase, stamp = message["body"].split()[:2]
                        self.latencies.append((phase, now - float(stamp)))
                elif kind == "ack":
                    self.pending.pop(frame["client_id"], None)
                    self.ledger.ack(frame["client_id"], frame["message"]["seq"])
                elif kind == "error":
                    # Not a broken guarantee (nothing was acked), but reported: a person
                    # would have seen it. The send is tried again, as the web client does.
                    self.errors.append(f"{frame.get('code')}: {frame.get('message')}")
                    ref = frame.get("ref")
                    if isinstance(ref, str) and ref in self.pending:
                        task = asyncio.create_task(self.retry(ref, 1.0))
                        self.retries.add(task)  # held until done: the loop keeps weak refs
                        task.add_done_callback(self.retries.discard)
        self.ws = None

    async def transmit(self, client_id: str, body: str) -> None:
        frame = {"type": "send", "room_id": self.room_id, "body": body, "client_id": client_id}
        with contextlib.suppress(websockets.WebSocketException, OSError):
            await self.ws.send(orjson.dumps(frame).decode())

    async def retry(self, client_id: str, after: float) -> None:
        await asyncio.sleep(after)
        if client_id in self.pending and self.connected.is_set() and self.ws is not None:
            await self.transmit(client_id, self.pending[client_id])

    async def send(self, phase: str, i: int) -> str:
        client_id = f"{self.name}-{phase}-{i}"
        body = f"{phase} {time.time():.6f} {self.name}:{i}"
        self.pending[client_id] = body
        if self.connected.is_set() and self.ws is not None:
            await self.transmit(client_id, body)
        return client_id

    async def move_to(self, node: int) -> None:
        self.target = node
        self.moved.set()
        if self.ws is not None:
            await self.ws.close()
        await asyncio.wait_for(self.connected.wait(), 30)

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


@dataclass
class Room:
    room_id: int
    members: list[Member]
    sent: dict[str, str] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(m.run()) for m in self.members]
        await asyncio.wait_for(asyncio.gather(*(m.connected.wait() for m in self.members)), 60)

    async def traffic(self, phase: str, messages: int, interval: float) -> None:
        async def one(member: Member) -> None:
            for i in range(messages):
                self.sent[await member.send(phase, i)] = member.name
                await asyncio.sleep(interval)

        await asyncio.gather(*(one(m) for m in self.members))

    async def quiet(self, http: httpx.AsyncClient, url: str) -> list[tuple[int, str | None]]:
        """Wait (bounded) until every send is acked and every member has every seq."""
        deadline = time.monotonic() + QUIET_TIMEOUT_S
        while time.monotonic() < deadline:
            done = all(not m.pending for m in self.members)
            if done:
                stored = await read_room(http, url, self.members[0].token, self.room_id)
                if all(not m.ledger.missing(len(stored)) for m in self.members):
                    return stored
            await asyncio.sleep(0.5)
        return await read_room(http, url, self.members[0].token, self.room_id)

    async def stop(self) -> None:
        for m in self.members:
            await m.stop()
        await asyncio.wait(self.tasks, timeout=10)
        for task in self.tasks:
            task.cancel()


async def read_room(
    http: httpx.AsyncClient, url: str, token: str, room_id: int
) -> list[tuple[int, str | None]]:
    out: list[tuple[int, str | None]] = []
    while True:
        r = await http.get(
            f"{url}/api/rooms/{room_id}/messages",
            params={"after_seq": out[-1][0] if out else 0, "limit": 200},
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
        page = r.json()["messages"]
        out += [(m["seq"], m.get("client_id")) for m in page]
        if len(page) < 200:
            return out


async def sign_up(http: httpx.AsyncClient, url: str, name: str) -> str:
    r = await http.post(
        f"{url}/api/auth/register", json={"username": name, "password": "rehearsal-" + name}
    )
    r.raise_for_status()
    return str(r.json()["token"])


async def make_room(http: httpx.AsyncClient, lab: Lab, tokens: list[str], name: str) -> int:
    r = await http.post(
        f"{lab.url(0)}/api/rooms",
        json={"name": name, "visibility": "public"},
        headers={"Authorization": f"Bearer {tokens[0]}"},
    )
    r.raise_for_status()
    room_id = int(r.json()["room"]["id"])
    for i, token in enumerate(tokens[1:], 1):
        r = await http.post(
            f"{lab.url(i % 3)}/api/rooms/{room_id}/join",
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
    return room_id


def latency_summary(members: list[Member], phase: str) -> dict[str, float | int]:
    values = [lat for m in members for p, lat in m.latencies if p == phase]
    return {
        "deliveries": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values, default=0) * 1000, 1),
    }


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (640, 480), (200, 60, 30)).save(buffer, "PNG")
    return buffer.getvalue()


async def file_check(http: httpx.AsyncClient, lab: Lab, token: str) -> str:
    """Upload on node 1; the same bytes, a Range of them and the thumbnail from 2 and 3."""
    if not lab.blob_url:
        return "skipped: each node keeps its files on its own disk (--blobs local)"
    auth = {"Authorization": f"Bearer {token}"}
    uploads = {"r.bin": secrets.token_bytes(9 * 1024 * 1024), "p.png": png_bytes()}
    checked = []
    for name, payload in uploads.items():
        began = time.monotonic()
        r = await http.post(
            f"{lab.url(0)}/api/files", files={"file": (name, payload)}, headers=auth
        )
        r.raise_for_status()
        up_s = time.monotonic() - began
        stored = r.json()["file"]
        for node in (1, 2):
            got = await http.get(lab.url(node) + stored["url"], headers=auth)
            if got.status_code != 200 or got.content != payload:
                raise SystemExit(f"{name} uploaded on node 1, node {node + 1}: {got.status_code}")
            part = await http.get(
                lab.url(node) + stored["url"], headers={**auth, "Range": "bytes=100-199"}
            )
            if part.status_code != 206 or part.content != payload[100:200]:
                raise SystemExit(f"{name}: a Range from node {node + 1}: {part.status_code}")
            if stored.get("thumbnail_url"):
                thumb = await http.get(lab.url(node) + stored["thumbnail_url"], headers=auth)
                if thumb.status_code != 200 or not thumb.content:
                    raise SystemExit(f"{name}: thumbnail from node {node + 1}: {thumb.status_code}")
        checked.append(f"{name} {len(payload):,} B up in {up_s:.1f} s")
    return (
        f"ok ({lab.blob_url}): uploaded on node 1; the same bytes, a Range and the thumbnail "
        "read from nodes 2 and 3: " + "; ".join(checked)
    )


async def rehearse(lab: Lab, args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        names = [f"m{i}{secrets.token_hex(3)}" for i in range(args.members)]
        tokens = [await sign_up(http, lab.url(i % 3), n) for i, n in enumerate(names)]

        # 1. Baseline: everyone on node 1.
        base_id = await make_room(http, lab, tokens, "baseline")
        base = Room(
            base_id, [Member(n, t, base_id, 0, lab) for n, t in zip(names, tokens, strict=True)]
        )
        await base.start()
        await base.traffic("baseline", args.messages, args.interval)
        stored = await base.quiet(http, lab.url(0))
        await base.stop()
        report["baseline_one_node"] = latency_summary(base.members, "baseline")
        problems = check_room([m.ledger for m in base.members], stored, base.sent)

        # 2-5. Spread over the three nodes.
        room_id = await make_room(http, lab, tokens, "spread")
        members = [
            Member(n, t, room_id, i % 3, lab)
            for i, (n, t) in enumerate(zip(names, tokens, strict=True))
        ]
        room = Room(room_id, members)
        await room.start()
        await room.traffic("spread", args.messages, args.interval)
        await room.quiet(http, lab.url(0))
        report["spread_three_nodes"] = latency_summary(members, "spread")

        cut_len = args.cut_seconds
        cut_messages = int((cut_len + 15) / 0.5)
        traffic = asyncio.create_task(room.traffic("cut", cut_messages, 0.5))
        await asyncio.sleep(3)
        print(f"node 3 cut off for {cut_len} s", file=sys.stderr)
        lab.cut("n3", down=True)
        await asyncio.sleep(cut_len)
        lab.cut("n3", down=False)
        back = await asyncio.to_thread(lab.wait_healthy, 2, 120)
        print(f"node 3 back; healthy again {back:.1f} s after its link", file=sys.stderr)
        await traffic
        await room.quiet(http, lab.url(0))
        report["cut"] = {
            "seconds": cut_len,
            "node3_healthy_after_s": round(back, 1),
            "reconnects": sum(m.reconnects for m in members),
            "messages": cut_messages * len(members),
            **latency_summary(members, "cut"),
        }

        traffic = asyncio.create_task(room.traffic("redis", args.messages, args.interval))
        await asyncio.sleep(2)
        print("restarting redis", file=sys.stderr)
        began = time.monotonic()
        await asyncio.to_thread(lab.stop_redis)
        await asyncio.sleep(2)
        await asyncio.to_thread(lab.start_redis)
        down_s = time.monotonic() - began
        await traffic
        await room.quiet(http, lab.url(0))
        report["redis_restart"] = {
            "down_s": round(down_s, 1),
            **latency_summary(members, "redis"),
        }

        for m in members:
            if m.node != m.home:
                await m.move_to(m.home)
        await room.traffic("rehome", 5, args.interval)
        stored = await room.quiet(http, lab.url(2))
        report["rehome_on_own_node"] = latency_summary(members, "rehome")
        problems += check_room([m.ledger for m in members], stored, room.sent)
        await room.stop()

        report["stored_messages"] = len(stored) + len(base.sent)
        report["files"] = await file_check(http, lab, tokens[0])
    errors = [e for room in (base, room) for m in room.members for e in m.errors]
    report["error_frames"] = {"count": len(errors), "first": sorted(set(errors))[:5]}
    report["guarantees"] = "all held" if not problems else problems[:30]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=9, help="spread round robin over nodes")
    parser.add_argument("--messages", type=int, default=40, help="per member and phase")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between sends")
    parser.add_argument("--cut-seconds", type=float, default=30.0)
    parser.add_argument(
        "--delay-scale",
        type=float,
        default=1.0,
        help="multiply every link delay (0: no delay, to see what the links themselves cost)",
    )
    parser.add_argument(
        "--delay",
        action="append",
        default=[],
        metavar="LINK=MS",
        help="one link's one-way delay after --delay-scale (br, n1, n2, n3, db); repeatable",
    )
    parser.add_argument(
        "--blobs",
        choices=("s3", "local"),
        default="s3",
        help="s3: the nodes share a bucket (PARLEY_BLOB_URL if set, else moto's S3 server "
        "started in the database namespace); local: each node's own disk",
    )
    parser.add_argument(
        "--links",
        choices=("auto", "netem", "tun"),
        default="auto",
        help="how links get delay and loss: tc netem, or bench/linkemu.py where the kernel "
        "lacks sch_netem (auto: netem if it is there)",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: it creates network namespaces (ip netns, tc netem)")
    for link in DELAYS_MS:
        DELAYS_MS[link] = round(DELAYS_MS[link] * args.delay_scale)
    for setting in args.delay:
        link, ms = setting.split("=")
        if link not in DELAYS_MS:
            raise SystemExit(f"--delay {setting}: the links are {', '.join(DELAYS_MS)}")
        DELAYS_MS[link] = int(ms)
    blob_url = None if args.blobs == "local" else os.environ.get("PARLEY_BLOB_URL", "moto")
    lab = Lab(blob_url, args.links)

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # into the finally below, whatever is running

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    ok = False
    try:
        lab.build_network()
        enter_netns(lab.ns("br"))  # before any thread exists: they all follow
        lab.start_databases()
        for i in range(3):
            lab.start_node(i)
        report = asyncio.run(asyncio.wait_for(rehearse(lab, args), 900))
        report["links"] = {
            "emulated_by": "tc netem" if lab.links == "netem" else "bench/linkemu.py (TUN)",
            "one_way_delay_ms": DELAYS_MS,
            "jitter": "a quarter of the delay",
            "loss": LOSS_PCT,
        }
        report["loadavg_1m"] = round(os.getloadavg()[0], 1)
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        ok = report["guarantees"] == "all held"
    finally:
        lab.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
