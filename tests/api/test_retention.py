"""Retention (issue 24): messages older than a room's period are deleted by the job."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.config import Settings
from parley.domain.models import NewMessage, User
from parley.store import open_store
from tests.databases import DEFAULT_POSTGRES_URL, fresh_postgres_database
from tests.support import Person, ServerProcess, sign_up


def _days_ago(days: float) -> str:
    moment = datetime.now(UTC) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _write_old(
    server: ServerProcess, messages: list[tuple[int, Person, str, float]]
) -> list[int]:
    """Store messages with old timestamps through the store, as an import would."""
    settings = Settings(
        data_dir=server.data_dir, database_url=server.env.get("PARLEY_DATABASE_URL", "")
    )
    store = await open_store(settings.effective_database_url)
    try:
        ids = []
        for room_id, author, body, days in messages:
            user = User(author.id, author.username, author.username, author.user["created_at"])
            outcome = await store.messages.append(
                NewMessage(room_id, user, body, None, _days_ago(days))
            )
            ids.append(outcome.message.id)
        return ids
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path).effective_database_url
        return
    with fresh_postgres_database(DEFAULT_POSTGRES_URL) as url:
        yield Settings(database_url=url).effective_database_url


async def test_old_messages_become_tombstones_and_members_see_it_live(
    fresh_server: ServerProcess, database_url: str
) -> None:
    if database_url.startswith("postgresql"):
        fresh_server.env["PARLEY_DATABASE_URL"] = database_url
    fresh_server.env.update({"PARLEY_RETENTION_INTERVAL_S": "1", "PARLEY_RETENTION_DAYS": "30"})
    fresh_server.start()
    ana, ben = await sign_up(fresh_server.url), await sign_up(fresh_server.url)
    try:
        short = await ana.create_room("short", "public")
        default = await ana.create_room("default", "public")
        for room in (short, default):
            await ana.add(room["id"], ben)
        # Only the room's managers set it; at least a day.
        r = await ben.http.patch(f"/api/rooms/{short['id']}", json={"retention_days": 1})
        assert r.status_code == 403
        for bad in (0, -1, "1", 1.5, 10**6):
            r = await ana.http.patch(f"/api/rooms/{short['id']}", json={"retention_days": bad})
            assert r.status_code in (400, 422), (bad, r.text)
        r = await ana.http.patch(f"/api/rooms/{short['id']}", json={"retention_days": 1})
        assert r.status_code == 200, r.text
        assert r.json()["room"]["retention_days"] == 1
        async with ben.socket() as sock:
            old_short_1, old_short_2, recent_default, old_default = await _write_old(
                fresh_server,
                [
                    (short["id"], ana, "two days old", 2),
                    (short["id"], ben, "36 hours old", 1.5),
                    (default["id"], ana, "two days old, kept for 30", 2),
                    (default["id"], ana, "forty days old", 40),
                ],
            )
            fresh = (await ana.post(short["id"], "just now")).json()["message"]
            for message_id in (old_short_1, old_short_2, old_default):
                frame = await sock.expect("message_deleted", message_id=message_id, timeout=30)
                assert frame["seq"] >= 1
        short_history = {m["id"]: m for m in await ben.history(short["id"])}
        assert short_history[old_short_1]["deleted"] and short_history[old_short_1]["body"] == ""
        assert short_history[old_short_2]["deleted"]
        assert short_history[fresh["id"]]["body"] == "just now"
        assert [m["seq"] for m in short_history.values()] == [1, 2, 3]
        default_history = {m["id"]: m for m in await ben.history(default["id"])}
        assert default_history[recent_default]["body"] == "two days old, kept for 30"
        assert default_history[old_default]["deleted"]
        metrics = await ana.http.get("/metrics")
        expired = next(
            line
            for line in metrics.text.splitlines()
            if line.startswith("parley_messages_expired_total ")
        )
        assert int(expired.split()[1]) >= 3
        # Back to the server's default: null.
        r = await ana.http.patch(f"/api/rooms/{short['id']}", json={"retention_days": None})
        assert r.status_code == 200 and r.json()["room"]["retention_days"] is None
    finally:
        await ana.http.aclose()
        await ben.http.aclose()


async def test_only_one_process_holds_the_retention_lease(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        leases = store.lifecycle
        now, later = _days_ago(0), _days_ago(-1 / 24)
        assert await leases.take_lease("retention", "a", now, later)
        assert not await leases.take_lease("retention", "b", now, later)
        assert await leases.take_lease("retention", "a", now, later)  # renewed by its holder
        # Once it has expired another process takes it over.
        assert await leases.take_lease("retention", "b", _days_ago(-2 / 24), _days_ago(-3 / 24))
        results = await asyncio.gather(
            *(leases.take_lease("other", f"p{i}", now, later) for i in range(5))
        )
        assert sum(results) == 1
    finally:
        await store.close()
