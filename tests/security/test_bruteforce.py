"""Password guessing: limits per account and per address, proxies, password rules."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from tests.support import PASSWORD, ServerProcess, sign_up, unique_name

ATTACKER = "203.0.113.66"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    """A server behind a (pretend) reverse proxy: it believes X-Forwarded-*."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("proxied") / "data", env={"PARLEY_TRUST_PROXY": "1"}
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
async def http(proxied: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as client:
        yield client


def _from(address: str, proto: str = "http") -> dict[str, str]:
    # What our proxy would append after whatever the client itself claimed.
    return {"X-Forwarded-For": f"10.9.9.9, {address}", "X-Forwarded-Proto": proto}


async def _login(
    http: httpx.AsyncClient, username: str, password: str, address: str
) -> httpx.Response:
    return await http.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=_from(address)
    )


async def test_an_account_locks_after_ten_failures_from_many_addresses(
    proxied: ServerProcess, http: httpx.AsyncClient
) -> None:
    victim = await sign_up(proxied.url)
    for i in range(10):
        r = await _login(http, victim.username, f"wrong-guess-{i}", f"198.51.100.{i + 1}")
        assert r.status_code == 401
    r = await _login(http, victim.username, PASSWORD, "198.51.100.200")
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 60
    await victim.http.aclose()


async def test_one_address_guessing_many_accounts_meets_growing_delays(
    proxied: ServerProcess, http: httpx.AsyncClient
) -> None:
    address = "203.0.113.77"
    for i in range(20):  # twenty mistakes are free (one office, one NAT)
        r = await _login(http, unique_name("nobody"), "wrong-guess", address)
        assert r.status_code == 401, (i, r.text)
    first = await _login(http, unique_name("nobody"), "wrong-guess", address)
    assert first.status_code == 429
    first_wait = int(first.headers["Retry-After"])
    assert first_wait >= 1
    # Even a correct password waits: the guesser must not learn it is right.
    real = await sign_up(proxied.url)
    assert (await _login(http, real.username, PASSWORD, address)).status_code == 429
    # Another address is not affected.
    assert (await _login(http, real.username, PASSWORD, "198.51.100.7")).status_code == 200
    await asyncio.sleep(first_wait + 0.2)
    r = await _login(http, unique_name("nobody"), "wrong-guess", address)
    assert r.status_code == 401
    second = await _login(http, unique_name("nobody"), "wrong-guess", address)
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > first_wait
    await real.http.aclose()


async def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        name = unique_name("spoof")
        r = await http.post(
            "/api/auth/register",
            json={"username": name, "password": PASSWORD},
            headers=_from("203.0.113.5", "https"),
        )
        assert r.status_code == 201
        # A client claiming https over plain http does not get Secure cookies it
        # could then not send back; only a trusted proxy's word counts.
        assert "secure" not in r.headers["set-cookie"].lower()
        sessions = await http.get(
            "/api/sessions", headers={"Authorization": f"Bearer {r.json()['token']}"}
        )
        assert sessions.json()["sessions"][0]["ip"] == "127.0.0.1"


async def test_behind_a_trusted_https_proxy_cookies_are_secure(
    proxied: ServerProcess, http: httpx.AsyncClient
) -> None:
    r = await http.post(
        "/api/auth/register",
        json={"username": unique_name("tls"), "password": PASSWORD},
        headers=_from("198.51.100.20", "https"),
    )
    assert r.status_code == 201
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 2
    for cookie in cookies:
        assert "; secure" in cookie.lower()
    session = next(c for c in cookies if c.startswith("parley_session="))
    assert "httponly" in session.lower()
    assert "samesite=lax" in session.lower()
    sessions = await http.get(
        "/api/sessions", headers={"Authorization": f"Bearer {r.json()['token']}"}
    )
    assert sessions.json()["sessions"][0]["ip"] == "198.51.100.20"


@pytest.mark.parametrize(
    "password", ["password123", "iloveyou2", "qwertyuiop", "1q2w3e4r5t", "Sunshine1", "short"]
)
async def test_common_and_short_passwords_are_refused(server: ServerProcess, password: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post(
            "/api/auth/register", json={"username": unique_name("weak"), "password": password}
        )
        assert r.status_code == 400, password
        assert r.json()["error"]["code"] == "weak_password"


async def test_the_password_may_not_be_the_username(server: ServerProcess) -> None:
    name = unique_name("same")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post("/api/auth/register", json={"username": name, "password": name})
        assert r.status_code == 400


async def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(server: ServerProcess) -> None:
    person = await sign_up(server.url)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    db_path = Path(server.data_dir) / "parley.db"

    def set_and_read(value: str | None) -> str:
        db = sqlite3.connect(db_path, timeout=30)
        try:
            if value is not None:
                db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (value, person.id))
                db.commit()
            return str(
                db.execute("SELECT password_hash FROM users WHERE id = ?", (person.id,)).fetchone()[
                    0
                ]
            )
        finally:
            db.close()

    assert "m=8192,t=1" in await asyncio.to_thread(set_and_read, weak)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post(
            "/api/auth/login", json={"username": person.username, "password": PASSWORD}
        )
        assert r.status_code == 200
    upgraded = await asyncio.to_thread(set_and_read, None)
    assert "m=19456,t=2,p=1" in upgraded
    await person.http.aclose()
