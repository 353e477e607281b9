"""Fixtures: a real Parley server on a free port, and signed-up people to use it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.databases import fresh_postgres_database, requested_database_server
from tests.support import REPO_ROOT, Person, ServerProcess, sign_up


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI the suite tests the installed wheel: make sure that is what it imports."""
    if os.environ.get("PARLEY_TEST_INSTALLED") != "1":
        return
    import parley

    location = Path(parley.__file__).resolve()
    if REPO_ROOT.resolve() in location.parents and "site-packages" not in location.parts:
        raise pytest.UsageError(f"PARLEY_TEST_INSTALLED=1 but parley is imported from {location}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for as long as
    its session fixture lives; an asyncio test scheduled after it could not start its own.
    """
    for item in items:
        # Going by the fixture, not only the marker: a browser test file that forgot its
        # marker would otherwise run early and break every asyncio test after it.
        if "playwright_instance" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="run the long soak variants")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One shared server for API tests (send limiting at its contract defaults).

    With PARLEY_TEST_DATABASE_URL set it stores in a fresh PostgreSQL database there.
    """
    data_dir = tmp_path_factory.mktemp("parley") / "data"
    pg_server = requested_database_server()
    if pg_server is None:
        proc = ServerProcess(data_dir).start()
        yield proc
        proc.stop()
        return
    with fresh_postgres_database(pg_server) as database_url:
        proc = ServerProcess(data_dir, env={"PARLEY_DATABASE_URL": database_url}).start()
        yield proc
        proc.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of this test's own, for tests that stop, kill or restart it."""
    proc = ServerProcess(tmp_path / "data")
    yield proc
    proc.stop()


@pytest.fixture
async def person_factory(server: ServerProcess) -> AsyncIterator[Callable[[], Awaitable[Person]]]:
    people: list[Person] = []

    async def make() -> Person:
        person = await sign_up(server.url)
        people.append(person)
        return person

    yield make
    for person in people:
        await person.http.aclose()


@pytest.fixture
async def ana(person_factory: Callable[[], Awaitable[Person]]) -> Person:
    return await person_factory()


@pytest.fixture
async def ben(person_factory: Callable[[], Awaitable[Person]]) -> Person:
    return await person_factory()


@pytest.fixture
async def cat(person_factory: Callable[[], Awaitable[Person]]) -> Person:
    return await person_factory()
