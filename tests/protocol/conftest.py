"""One server for the conformance suite, with bounds small enough to reach quickly."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support import PASSWORD, ServerProcess, unique_name

# Small on purpose: a test waits for the header deadline, and fills the per-user cap.
HEADER_TIMEOUT_S = 1.0
WEBSOCKETS_PER_USER = 3


@pytest.fixture(scope="package")
def protocol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("protocol") / "data",
        env={
            "PARLEY_HEADER_TIMEOUT": str(HEADER_TIMEOUT_S),
            "PARLEY_MAX_WEBSOCKETS_PER_USER": str(WEBSOCKETS_PER_USER),
        },
    ).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="package")
def port(protocol_server: ServerProcess) -> int:
    return protocol_server.port


@pytest.fixture
def token(protocol_server: ServerProcess) -> str:
    """A new account's bearer token: each test has its own WebSockets to count."""
    r = httpx.post(
        protocol_server.url + "/api/auth/register",
        json={"username": unique_name("p"), "password": PASSWORD},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])
