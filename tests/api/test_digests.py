"""Email digests: unread mentions and direct messages, mailed to a verified address.

A real SMTP server inside the test (aiosmtpd) receives them; the delays are shortened
(PARLEY_DIGEST_DELAY_MIN, PARLEY_DIGEST_INTERVAL_MIN). Runs on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.databases import fresh_postgres_database, requested_database_server
from tests.mail_support import MailSink, Received
from tests.push_support import PushService
from tests.support import PASSWORD, Person, ServerProcess, sign_up, unique_name

DELAY_MIN = 0.02  # 1.2 s
INTERVAL_MIN = 0.06  # 3.6 s


class DigestServer:
    def __init__(self, proc: ServerProcess, database_url: str | None) -> None:
        self.proc = proc
        self.database_url = database_url

    async def count(self, sql: str, user_id: int) -> int:
        """Rows a query finds for a user, read straight from the database."""
        if self.database_url is None:
            with sqlite3.connect(self.proc.data_dir / "parley.db") as db:
                return int(db.execute(sql.replace("$1", "?"), (user_id,)).fetchone()[0])
        conn = await asyncpg.connect(self.database_url)
        try:
            return int(await conn.fetchval(sql, user_id))
        finally:
            await conn.close()


@pytest.fixture(scope="module")
def pushes() -> Iterator[PushService]:
    push = PushService().start()
    yield push
    push.stop()


@pytest.fixture(scope="module")
def digest_server(
    tmp_path_factory: pytest.TempPathFactory, sink: MailSink
) -> Iterator[DigestServer]:
    env = {
        "PARLEY_SMTP_URL": sink.url,
        "PARLEY_MAIL_FROM": "chat@parley.test",
        "PARLEY_DIGEST_DELAY_MIN": str(DELAY_MIN),
        "PARLEY_DIGEST_INTERVAL_MIN": str(INTERVAL_MIN),
        "PARLEY_PUSH_ALLOW_HTTP": "1",
    }
    with ExitStack() as stack:
        database_url = None
        pg = requested_database_server()
        if pg is not None:
            database_url = stack.enter_context(fresh_postgres_database(pg))
            env["PARLEY_DATABASE_URL"] = database_url
        proc = ServerProcess(tmp_path_factory.mktemp("digest") / "data", env=env).start()
        stack.callback(proc.stop)
        yield DigestServer(proc, database_url)


async def _verified(server: DigestServer, sink: MailSink) -> tuple[Person, str]:
    person = await sign_up(server.proc.url)
    address = f"{unique_name('d')}@example.org"
    r = await person.http.put("/api/me/email", json={"email": address})
    assert r.status_code == 200, r.text
    [mail] = await sink.wait_for(address)
    token = re.search(r"#verify-email=([A-Za-z0-9_\-.]+)", mail.text)
    assert token
    r = await person.http.post("/api/me/email/verify", json={"token": token.group(1)})
    assert r.status_code == 204
    return person, address


@pytest.fixture
async def pair(
    digest_server: DigestServer, sink: MailSink
) -> AsyncIterator[tuple[Person, Person, str]]:
    ana = await sign_up(digest_server.proc.url)
    ben, address = await _verified(digest_server, sink)
    yield ana, ben, address
    await ana.http.aclose()
    await ben.http.aclose()


def _digests(sink: MailSink, address: str) -> list[Received]:
    return [m for m in sink.to(address) if "unread" in str(m.message["Subject"])]


async def _wait_digests(
    sink: MailSink, address: str, count: int, timeout: float = 15
) -> list[Received]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _digests(sink, address)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{len(_digests(sink, address))} of {count} digests to {address}")


async def test_unread_mentions_and_direct_messages_are_mailed_with_a_one_click_unsubscribe(
    pair: tuple[Person, Person, str], sink: MailSink, digest_server: DigestServer
) -> None:
    ana, ben, address = pair
    # Held back while the scene is set, so that one digest has all of it.
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 120))
    await ben.http.put("/api/me/notifications", json={"dnd_until": until})
    room = await ana.create_room("harbour", "public")
    await ana.add(room["id"], ben)
    await ana.post(room["id"], f"@{ben.username} the boat leaves at nine")
    await ana.post(room["id"], "not about ben")
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "bring the map")
    await asyncio.sleep(DELAY_MIN * 60 + 0.3)  # all of it due, then do not disturb ends
    await ben.http.put("/api/me/notifications", json={"dnd_until": None})
    [digest] = await _wait_digests(sink, address, 1)
    text = digest.text
    assert "the boat leaves at nine" in text and "#harbour" in text
    assert "bring the map" in text and "direct message" in text
    assert "not about ben" not in text
    assert ana.user["display_name"] in text
    assert str(digest.message["Subject"]).startswith("2 unread")
    assert f"/rooms/{room['id']}" in text
    unsubscribe = digest.message["List-Unsubscribe"].strip("<>")
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text
    # One click, signed out.
    async with httpx.AsyncClient() as anonymous:
        r = await anonymous.get(unsubscribe)
        assert r.status_code == 200 and "No more digests" in r.text
        forged = unsubscribe[:-3] + ("AAA" if not unsubscribe.endswith("AAA") else "BBB")
        assert (await anonymous.get(forged)).status_code == 400
        assert (await anonymous.post(unsubscribe)).status_code == 204  # RFC 8058, again
    prefs = (await ben.http.get("/api/me/notifications")).json()["notifications"]
    assert prefs["email_digest"] is False
    await ana.post(dm["id"], "are you there?")
    await asyncio.sleep(DELAY_MIN * 60 + 2)
    assert len(_digests(sink, address)) == 1


async def test_at_most_one_digest_per_interval_and_none_for_what_was_read(
    pair: tuple[Person, Person, str], sink: MailSink
) -> None:
    ana, ben, address = pair
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "first")
    [first] = await _wait_digests(sink, address, 1)
    # Read at once: never mailed.
    r = await ana.post(dm["id"], "read in time")
    await ben.http.post(f"/api/rooms/{dm['id']}/read", json={"seq": r.json()["message"]["seq"]})
    await ana.post(dm["id"], "second")
    second = (await _wait_digests(sink, address, 2))[1]
    assert second.at - first.at >= INTERVAL_MIN * 60 - 0.1
    assert "second" in second.text
    assert "first" not in second.text and "read in time" not in second.text


async def test_levels_and_do_not_disturb_hold_digests_back(
    pair: tuple[Person, Person, str], sink: MailSink
) -> None:
    ana, ben, address = pair
    room = await ana.create_room("ignored", "public")
    await ana.add(room["id"], ben)
    await ben.http.put(f"/api/rooms/{room['id']}/notifications", json={"level": "nothing"})
    await ana.post(room["id"], f"@{ben.username} in a room at nothing")
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4))
    await ben.http.put("/api/me/notifications", json={"dnd_until": until})
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "during do not disturb")
    started = time.time()
    [digest] = await _wait_digests(sink, address, 1)
    assert digest.at >= started + 3  # it waited for do not disturb to end
    assert "during do not disturb" in digest.text
    assert "room at nothing" not in digest.text


async def test_an_unverified_address_gets_no_digest(
    digest_server: DigestServer, sink: MailSink
) -> None:
    ana = await sign_up(digest_server.proc.url)
    ben = await sign_up(digest_server.proc.url)
    address = f"{unique_name('u')}@example.org"
    await ben.http.put("/api/me/email", json={"email": address})
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    await ana.post(dm["id"], "hello?")
    await asyncio.sleep(DELAY_MIN * 60 + 2)
    assert _digests(sink, address) == []
    await ana.http.aclose()
    await ben.http.aclose()


async def test_a_digest_arrives_soon_after_its_delay(
    pair: tuple[Person, Person, str], sink: MailSink, record_property: Any
) -> None:
    ana, ben, address = pair
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    async with ana.socket() as sock:
        ack = await sock.send_message(dm["id"], "measure me")
        acked = time.time()
    [digest] = await _wait_digests(sink, address, 1)
    seconds = digest.at - acked
    created = datetime.fromisoformat(ack["message"]["created_at"]).timestamp()
    record_property("ack_to_digest_s", round(seconds, 2))
    print(
        f"ack to digest: {seconds:.2f} s, created_at to digest {digest.at - created:.2f} s "
        f"(delay {DELAY_MIN * 60:.1f} s, ack came {acked - created:.2f} s after created_at)"
    )
    # created_at (the cutoff's clock) is taken a moment before the ack.
    assert DELAY_MIN * 60 - 0.5 <= seconds < DELAY_MIN * 60 + 3


async def test_deleting_an_account_removes_its_subscriptions_settings_and_address(
    digest_server: DigestServer, sink: MailSink, pushes: PushService
) -> None:
    ben, _ = await _verified(digest_server, sink)
    r = await ben.http.post("/api/push/subscriptions", json=pushes.browser().subscription())
    assert r.status_code == 201, r.text
    await ben.http.put("/api/me/notifications", json={"hide_content": True})
    queries = [
        "SELECT count(*) FROM push_subscriptions WHERE user_id = $1",
        "SELECT count(*) FROM notification_prefs WHERE user_id = $1",
        "SELECT count(*) FROM users WHERE id = $1 AND email IS NOT NULL",
    ]
    assert [await digest_server.count(q, ben.id) for q in queries] == [1, 1, 1]
    r = await ben.http.request("DELETE", "/api/me", json={"password": PASSWORD, "messages": "keep"})
    assert r.status_code == 204, r.text
    assert [await digest_server.count(q, ben.id) for q in queries] == [0, 0, 0]
    await ben.http.aclose()
