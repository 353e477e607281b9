"""Sessions end: after an idle timeout, at an absolute lifetime, and on request when
two-factor is turned on. ``last_seen_at`` follows use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
import websockets

from tests.security.helpers import sign_in
from tests.support import Person, ServerProcess, sign_up

DAY_S = 86400
# Short lifetimes so the test sees them pass: idle 2 s, absolute 5 s.
IDLE_S = 2.0
MAX_S = 5.0


async def _drain(ws: websockets.ClientConnection) -> None:
    """Read until the server closes the socket."""
    async with asyncio.timeout(30):
        while True:
            await ws.recv()


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir: Path = tmp_path_factory.mktemp("sessions") / "data"
    proc = ServerProcess(
        data_dir,
        env={
            "PARLEY_SESSION_IDLE_DAYS": str(IDLE_S / DAY_S),
            "PARLEY_SESSION_MAX_DAYS": str(MAX_S / DAY_S),
        },
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
async def people(short_server: ServerProcess) -> AsyncIterator[Callable[[], Awaitable[Person]]]:
    made: list[Person] = []

    async def make() -> Person:
        person = await sign_up(short_server.url)
        made.append(person)
        return person

    yield make
    for person in made:
        await person.http.aclose()


async def test_a_session_left_unused_past_the_idle_timeout_stops_working(
    short_server: ServerProcess, people: Callable[[], Awaitable[Person]]
) -> None:
    person = await people()
    assert (await person.http.get("/api/me")).status_code == 200
    await asyncio.sleep(IDLE_S + 0.5)
    r = await person.http.get("/api/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            short_server.ws_url, additional_headers={"Authorization": f"Bearer {person.token}"}
        )
    assert refused.value.response.status_code == 401


async def test_a_busy_session_still_ends_at_its_absolute_lifetime(
    people: Callable[[], Awaitable[Person]],
) -> None:
    person = await people()
    start = time.monotonic()
    answers: list[tuple[float, int]] = []
    while (elapsed := time.monotonic() - start) < MAX_S + 1.0:
        answers.append((elapsed, (await person.http.get("/api/me")).status_code))
        await asyncio.sleep(0.25)
    # Used every quarter second: never idle, yet over at the absolute lifetime.
    assert {code for at, code in answers if at < MAX_S - 1.0} == {200}
    assert {code for at, code in answers if at > MAX_S + 0.5} == {401}
    assert any(at > IDLE_S * 2 and code == 200 for at, code in answers)


async def test_last_seen_at_follows_use_and_expired_sessions_are_not_listed(
    short_server: ServerProcess, people: Callable[[], Awaitable[Person]]
) -> None:
    person = await people()
    other = await sign_in(short_server, person.username)
    listed = (await person.http.get("/api/sessions")).json()["sessions"]
    assert len(listed) == 2
    mine = next(s for s in listed if s["current"])
    await asyncio.sleep(IDLE_S / 2)
    listed = (await person.http.get("/api/sessions")).json()["sessions"]
    assert next(s for s in listed if s["current"])["last_seen_at"] > mine["last_seen_at"]
    # The other session stays unused until it idles out, while this one is kept alive.
    await asyncio.sleep(IDLE_S / 2 + 0.3)
    listed = (await person.http.get("/api/sessions")).json()["sessions"]
    assert [s["current"] for s in listed] == [True]
    assert (await other.http.get("/api/me")).status_code == 401
    await other.http.aclose()


async def test_bot_tokens_do_not_idle_out(
    short_server: ServerProcess, people: Callable[[], Awaitable[Person]]
) -> None:
    """A program cannot sign in again: its token ends with the bot or its owner."""
    owner = await people()
    r = await owner.http.post("/api/bots", json={"username": f"b{owner.username}"[:32]})
    assert r.status_code == 201, r.text
    await asyncio.sleep(IDLE_S + 0.5)
    async with httpx.AsyncClient(
        base_url=short_server.url,
        timeout=30,
        headers={"Authorization": f"Bearer {r.json()['token']}"},
    ) as bot:
        assert (await bot.get("/api/me")).status_code == 200


async def test_the_session_cookie_lasts_as_long_as_the_session_may(
    server: ServerProcess, ana: Person
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post(
            "/api/auth/login", json={"username": ana.username, "password": "a-long-enough-pass"}
        )
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("parley_session="))
    assert "Max-Age=7776000" in cookie  # 90 days, the default absolute lifetime


async def test_enabling_two_factor_offers_to_sign_out_the_other_sessions(
    server: ServerProcess, ana: Person
) -> None:
    thief = await sign_in(server, ana.username)
    r = await ana.http.post("/api/auth/2fa/setup", json={"password": "a-long-enough-pass"})
    assert r.status_code == 200, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    r = await ana.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    assert r.status_code == 200, r.text
    assert r.json()["other_sessions"] == 1
    # Taking the offer: every session but this one ends, its sockets with it.
    async with thief.socket() as sock:
        r = await ana.http.delete("/api/sessions")
        assert r.json() == {"revoked": 1}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _drain(sock.ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert (await thief.http.get("/api/me")).status_code == 401
    assert (await ana.http.get("/api/me")).status_code == 200
    await thief.http.aclose()


async def test_an_open_socket_keeps_its_session_in_use_until_the_absolute_lifetime(
    people: Callable[[], Awaitable[Person]],
) -> None:
    person = await people()
    start = time.monotonic()
    async with person.socket() as sock:
        await asyncio.sleep(IDLE_S + 0.6)  # nothing over HTTP: only the open socket
        assert (await person.http.get("/api/me")).status_code == 200
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _drain(sock.ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert MAX_S - 0.5 < time.monotonic() - start < MAX_S + 5
    assert (await person.http.get("/api/me")).status_code == 401
