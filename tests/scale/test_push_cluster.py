"""Web Push across processes (PostgreSQL + Redis): the process that stores a message
pushes it, exactly once, and it knows whether its reader is looking on another process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.push_support import PushService
from tests.scale.conftest import Backends, start_cluster
from tests.scale.test_cluster import on
from tests.support import ServerProcess, sign_up

pytestmark = pytest.mark.scale

GRACE_S = 0.5
# Each process reads who has subscriptions this often (domain/push_sender.py).
SUBSCRIBERS_REFRESH_S = 5.0


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def pair(backends: Backends, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    env = backends.env(PARLEY_PUSH_ALLOW_HTTP="1", PARLEY_PUSH_GRACE_S=str(GRACE_S))
    procs = start_cluster(tmp_path, env, 2)
    yield procs
    for proc in procs:
        proc.stop()


async def test_each_message_is_pushed_once_by_the_process_that_stored_it(
    pair: list[ServerProcess], push_service: PushService
) -> None:
    first, second = pair
    ana = await sign_up(first.url)
    ben = await sign_up(first.url)
    ana_there = on(ana, second)
    keys = set()
    for proc in pair:
        async with httpx.AsyncClient(base_url=proc.url) as http:
            r = await http.get("/api/push/key", headers={"Authorization": f"Bearer {ben.token}"})
            keys.add(r.json()["public_key"])
    assert len(keys) == 1  # one key pair for the whole deployment
    push_service.server_key = keys.pop()
    phone = push_service.browser()
    r = await ben.http.post("/api/push/subscriptions", json=phone.subscription())
    assert r.status_code == 201, r.text
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await asyncio.sleep(SUBSCRIBERS_REFRESH_S + 0.5)  # the other process learns of it
    async with ben.socket() as tab:  # on the first process, shown
        for n in range(6):
            await (ana if n % 2 else ana_there).post(dm["id"], f"seen {n}")
        for _ in range(6):
            await tab.expect("message")
        await asyncio.sleep(0.5)
        assert push_service.to(phone) == []
        await tab.send({"type": "visibility", "visible": False})
        await tab.settle()
        await asyncio.sleep(GRACE_S + 0.5)
        sent = []
        for n in range(6):
            r = await (ana if n % 2 else ana_there).post(dm["id"], f"away {n}")
            sent.append(r.json()["message"]["id"])
        pushed = await push_service.wait_for(phone, 6)
        await asyncio.sleep(0.5)
    pushed = push_service.to(phone)
    assert [p.problems for p in pushed] == [[]] * 6
    assert sorted(p.payload["message_id"] for p in pushed if p.payload) == sorted(sent)
    for person in (ana, ben, ana_there):
        await person.http.aclose()
    async with httpx.AsyncClient() as http:
        total = 0.0
        for proc in pair:
            text = (await http.get(proc.url + "/metrics")).text
            total += next(
                float(line.split()[1])
                for line in text.splitlines()
                if line.startswith("parley_push_sent_total ")
            )
    assert total == 6
