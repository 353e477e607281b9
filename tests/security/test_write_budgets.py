"""Issue 19 item 7: every write a person can repeat has a budget.

Before: 1,000 edits of a 99 KB body in 12 s sent 99 MB to one member; reactions were
free; 600 public rooms in 3 s pushed every other room out of the directory; 300
uploads of 1 MiB, never attached, were kept for a day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from tests.support import Person, ServerProcess, sign_up

MESSAGE_BURST = 100  # the contract's per-user message bucket: bursts of 100,
SEND_RATE = 20  # and 20 a second sustained
ROOMS_BURST = 10
UPLOADS_BURST = 20


def _assert_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1


async def _until_limited(
    action: Callable[[int], Coroutine[Any, Any, httpx.Response]], most: int
) -> tuple[int, httpx.Response]:
    for i in range(most):
        r = await action(i)
        if r.status_code == 429:
            return i, r
        assert r.status_code < 300, r.text
    raise AssertionError(f"still not limited after {most}")


async def _flood(
    action: Callable[[int], Coroutine[Any, Any, httpx.Response]], count: int
) -> tuple[int, httpx.Response]:
    """``count`` at once: checks that no more passed than the bucket's burst plus what it
    refilled meanwhile (SEND_RATE a second), and returns how many passed and a refusal."""
    started = time.monotonic()
    answers = await asyncio.gather(*(action(i) for i in range(count)))
    elapsed = time.monotonic() - started
    assert all(r.status_code in (200, 201, 204, 429) for r in answers)
    refused = [r for r in answers if r.status_code == 429]
    assert refused, "never limited"
    passed = count - len(refused)
    assert passed <= MESSAGE_BURST + SEND_RATE * elapsed + 1
    return passed, refused[0]


async def test_edits_share_the_message_budget(ana: Person, ben: Person) -> None:
    room = await ana.create_room()
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "first")).json()["message"]
    _, refused = await _flood(
        lambda i: ana.http.patch(f"/api/messages/{message['id']}", json={"body": f"x{i}" * 500}),
        MESSAGE_BURST * 3,
    )
    _assert_limited(refused)
    # Ben's budget is his own.
    assert (await ben.post(room["id"], "hello")).status_code == 201


async def test_reactions_share_the_message_budget(ana: Person, ben: Person) -> None:
    room = await ana.create_room()
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "react to me")).json()["message"]
    url = f"/api/messages/{message['id']}/reactions/thumbsup"

    async def toggle(i: int) -> httpx.Response:
        return await (ben.http.put(url) if i % 2 == 0 else ben.http.delete(url))

    _, refused = await _flood(toggle, MESSAGE_BURST * 3)
    _assert_limited(refused)


async def test_room_creation_is_limited(ana: Person) -> None:
    done, refused = await _until_limited(
        lambda i: ana.http.post("/api/rooms", json={"name": f"flood {i}", "visibility": "public"}),
        ROOMS_BURST + 5,
    )
    assert done == ROOMS_BURST
    _assert_limited(refused)
    assert int(refused.headers["Retry-After"]) > 60


async def test_a_flood_of_rooms_does_not_push_a_living_room_out_of_the_directory(
    fresh_server: ServerProcess,
) -> None:
    server = fresh_server.start()
    ana, ben = await sign_up(server.url), await sign_up(server.url)
    living = await ana.create_room("book club")
    assert (await ben.http.post(f"/api/rooms/{living['id']}/join")).status_code == 200
    assert (await ana.post(living["id"], "chapter one tonight")).status_code == 201
    flooders = await asyncio.gather(*(sign_up(server.url) for _ in range(51)))

    async def flood(person: Person) -> None:
        for i in range(ROOMS_BURST):
            await person.create_room(f"spam {person.username} {i}")

    await asyncio.gather(*(flood(p) for p in flooders))  # 510 new rooms > 500 listed
    directory = (await ana.http.get("/api/rooms", params={"scope": "public"})).json()["rooms"]
    assert len(directory) == 500
    assert directory[0]["id"] == living["id"]
    for person in (ana, ben, *flooders):
        await person.http.aclose()


async def _upload(person: Person, size: int, name: str = "blob.bin") -> httpx.Response:
    return await person.http.post("/api/files", files={"file": (name, b"\x07" * size)})


async def test_uploads_are_limited_in_number(ana: Person) -> None:
    done, refused = await _until_limited(lambda i: _upload(ana, 10), UPLOADS_BURST + 5)
    assert done == UPLOADS_BURST
    _assert_limited(refused)


@pytest.fixture
def small_quota(tmp_path_factory: pytest.TempPathFactory) -> Any:
    proc = ServerProcess(
        tmp_path_factory.mktemp("quota") / "data", env={"PARLEY_UPLOAD_QUOTA_MB": "1"}
    ).start()
    yield proc
    proc.stop()


async def test_uploads_have_a_daily_byte_quota(small_quota: ServerProcess) -> None:
    ana = await sign_up(small_quota.url)
    ben = await sign_up(small_quota.url)
    part = 400 * 1024
    assert (await _upload(ana, part)).status_code == 201
    assert (await _upload(ana, part)).status_code == 201
    over = await _upload(ana, part)  # 1.2 MiB > 1 MiB: stopped as the bytes pass it
    _assert_limited(over)
    assert 3600 < int(over.headers["Retry-After"]) <= 24 * 3600
    assert "frame-ancestors 'none'" in over.headers["Content-Security-Policy"]
    # The refused upload was not kept and does not count; what was stored does.
    assert (await _upload(ana, 200 * 1024)).status_code == 201
    _assert_limited(await _upload(ana, 100 * 1024))
    assert (await _upload(ben, part)).status_code == 201  # quotas are per person
    await ana.http.aclose()
    await ben.http.aclose()
