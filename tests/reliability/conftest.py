"""Fixtures for reliability tests: servers of their own, started with chosen settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess

pytestmark = pytest.mark.reliability


# Restarts happen while clients hammer the port, on a machine shared by several suites.
STARTUP_TIMEOUT_S = 120.0


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers of this test's own (stopped at the end); env adds PARLEY_* settings."""
    started: list[ServerProcess] = []

    def start(
        env: dict[str, str] | None = None, data_dir: Path | None = None, port: int | None = None
    ) -> ServerProcess:
        proc = ServerProcess(
            data_dir or tmp_path / "data",
            port=port,
            env=env,
            startup_timeout_s=STARTUP_TIMEOUT_S,
        )
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> bool:
    """True when the long variants were asked for with --soak."""
    return bool(request.config.getoption("--soak"))
