"""A Parley cluster for the scale tests: processes sharing PostgreSQL and Redis.

PostgreSQL (127.0.0.1:5432, or PARLEY_TEST_DATABASE_URL's server) gets a fresh database
per test session, dropped at the end; Redis (127.0.0.1:6379, or PARLEY_TEST_REDIS_URL)
gets a channel and key prefix of this session's own, so parallel runs never meet.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.databases import DEFAULT_POSTGRES_URL, fresh_postgres_database
from tests.support import Person, ServerProcess, free_port, sign_up

REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PROCESSES = 3
PRESENCE_TTL_S = 3
CLUSTER_STARTUP_TIMEOUT_S = 90.0


@dataclass
class Backends:
    database_url: str
    redis_url: str
    redis_prefix: str
    secret_key: str

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "PARLEY_DATABASE_URL": self.database_url,
            "PARLEY_REDIS_URL": self.redis_url,
            "PARLEY_REDIS_PREFIX": self.redis_prefix,
            # One key for the whole cluster, as an operator would configure it.
            "PARLEY_SECRET_KEY": self.secret_key,
            "PARLEY_SEND_RATE": "0",
            # Short, so that a killed process's users go offline within the test.
            "PARLEY_PRESENCE_TTL_S": str(PRESENCE_TTL_S),
            **overrides,
        }


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database of its own for one test."""
    server = os.environ.get("PARLEY_TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
    with fresh_postgres_database(server) as url:
        yield url


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    server = os.environ.get("PARLEY_TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
    with fresh_postgres_database(server) as database_url:
        yield Backends(
            database_url=database_url,
            redis_url=REDIS_URL,
            redis_prefix=f"parley_test_{secrets.token_hex(6)}",
            secret_key=secrets.token_urlsafe(32),
        )


class ClusterProcess(ServerProcess):
    """A server process given longer to start: CI machines run many suites at once."""

    def __init__(self, data_dir: Path, **options: Any) -> None:
        options.setdefault("startup_timeout_s", CLUSTER_STARTUP_TIMEOUT_S)
        super().__init__(data_dir, **options)


def start_cluster(root: Path, env: dict[str, str], count: int) -> list[ServerProcess]:
    """``count`` processes on ``count`` ports, started one after the other."""
    procs: list[ServerProcess] = [
        ClusterProcess(root / f"node{i}" / "data", env=env) for i in range(count)
    ]
    try:
        for proc in procs:
            proc.start()
    except BaseException:
        for proc in procs:  # none may outlive a failed start
            proc.stop()
        raise
    return procs


@pytest.fixture(scope="session")
def cluster(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    """Three processes acting as one, shared by the tests that leave them running."""
    procs = start_cluster(tmp_path_factory.mktemp("cluster"), backends.env(), PROCESSES)
    yield procs
    for proc in procs:
        proc.stop()


@pytest.fixture
async def people_on(
    cluster: list[ServerProcess],
) -> AsyncIterator[list[Person]]:
    """Six people, the i-th signed up through process i % 3 (their sockets go there too)."""
    people = [await sign_up(cluster[i % len(cluster)].url) for i in range(6)]
    yield people
    for person in people:
        await person.http.aclose()


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, which the test may kill and restart."""

    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            )
            if out.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis(free_port())
    redis.start()
    yield redis
    redis.kill()
