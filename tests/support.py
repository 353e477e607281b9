"""Helpers for tests that talk to a real Parley server over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 60.0
PASSWORD = "a-long-enough-pass"
_names = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"


class ServerProcess:
    """A `parley serve` child process on a free port, with its own data folder."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.data_dir = data_dir
        self.startup_timeout_s = startup_timeout_s
        self.port = port or free_port()
        self.env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
        self.args = args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parley",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *self.args,
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.terminate()
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Person:
    """A signed-up user with an HTTP client authenticated by bearer token."""

    server_url: str
    username: str
    token: str
    user: dict[str, Any]
    http: httpx.AsyncClient = field(repr=False)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def ws_url(self) -> str:
        return self.server_url.replace("http://", "ws://") + "/ws"

    async def create_room(
        self, name: str = "general", visibility: str = "public", **extra: Any
    ) -> dict[str, Any]:
        r = await self.http.post(
            "/api/rooms", json={"name": name, "visibility": visibility, **extra}
        )
        assert r.status_code == 201, r.text
        return dict(r.json()["room"])

    async def add(self, room_id: int, other: Person) -> None:
        r = await self.http.post(f"/api/rooms/{room_id}/members", json={"username": other.username})
        assert r.status_code == 201, r.text

    async def post(self, room_id: int, body: str, client_id: str | None = None) -> httpx.Response:
        payload: dict[str, Any] = {"body": body}
        if client_id is not None:
            payload["client_id"] = client_id
        return await self.http.post(f"/api/rooms/{room_id}/messages", json=payload)

    async def history(self, room_id: int, **params: Any) -> list[dict[str, Any]]:
        r = await self.http.get(f"/api/rooms/{room_id}/messages", params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["messages"])

    @asynccontextmanager
    async def socket(self, query: str = "") -> AsyncIterator[Socket]:
        async with websockets.connect(
            self.ws_url + (f"?{query}" if query else ""),
            additional_headers={"Authorization": f"Bearer {self.token}"},
            max_size=2**22,
        ) as ws:
            sock = Socket(ws)
            sock.ready = await sock.expect("ready")
            yield sock


async def sign_up(server_url: str, username: str | None = None, password: str = PASSWORD) -> Person:
    name = username or unique_name()
    http = httpx.AsyncClient(base_url=server_url, timeout=30)
    r = await http.post("/api/auth/register", json={"username": name, "password": password})
    assert r.status_code == 201, r.text
    data = r.json()
    http.cookies.clear()  # this client speaks bearer, like an outside client would
    http.headers["Authorization"] = f"Bearer {data['token']}"
    return Person(server_url, name, data["token"], data["user"], http)


class Socket:
    """A WebSocket client that keeps frames it was not waiting for."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ready: dict[str, Any] = {}
        self.backlog: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        return dict(orjson.loads(raw))

    async def expect(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next frame of type ``kind`` (matching ``match``); others are kept."""
        for index, frame in enumerate(self.backlog):
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return self.backlog.pop(index)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no {kind} frame; got {self.backlog[-5:]}")
            raw = await asyncio.wait_for(self.ws.recv(), remaining)
            frame = dict(orjson.loads(raw))
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame
            self.backlog.append(frame)

    async def settle(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every frame the server sent this socket before it answered a ping.

        The server handles a connection's frames in order, so once the pong is here every
        frame caused by what this socket sent earlier has arrived: an absence check made
        on the result cannot pass just because the machine was slow. For frames caused by
        another socket, settle that socket first. A ``send`` is the exception: sends are
        pipelined, so wait for its ack or error instead. Earlier pongs must have been read.
        """
        got = list(self.backlog)
        self.backlog.clear()
        await self.send({"type": "ping"})
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no pong within {timeout} s; got {got[-5:]}")
            frame = dict(orjson.loads(await asyncio.wait_for(self.ws.recv(), remaining)))
            if frame.get("type") == "pong":
                return got
            got.append(frame)

    async def send_message(
        self,
        room_id: int,
        body: str,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        cid = client_id or uuid.uuid4().hex
        await self.send({"type": "send", "room_id": room_id, "body": body, "client_id": cid})
        return await self.expect("ack", client_id=cid)
