"""Issue 19 item 9: per-address limits see addresses, not strings.

Before: 25 failed logins from 25 addresses of one IPv6 /64, or from 4 spellings of
one IPv6 address, were never limited, and with PARLEY_TRUST_PROXY any peer could
name its own address in X-Forwarded-For.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from tests.support import PASSWORD, ServerProcess, sign_up, unique_name

FREE_FAILURES = 20  # per address, before the waits start (docs/security.md)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Behind a (pretend) reverse proxy on loopback, the default trusted proxy."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("proxied") / "data", env={"PARLEY_TRUST_PROXY": "1"}
    ).start()
    yield proc
    proc.stop()


async def _fail_login(http: httpx.AsyncClient, address: str) -> httpx.Response:
    # A new junk username each time: only the address's count can stop these.
    return await http.post(
        "/api/auth/login",
        json={"username": unique_name("nobody"), "password": "wrong-guess"},
        headers={"X-Forwarded-For": f"10.1.2.3, {address}"},
    )


async def _failures_until_limited(http: httpx.AsyncClient, addresses: Iterator[str]) -> int:
    for attempt in range(FREE_FAILURES + 5):
        r = await _fail_login(http, next(addresses))
        if r.status_code == 429:
            assert r.json()["error"]["code"] == "rate_limited"
            assert int(r.headers["Retry-After"]) >= 1
            return attempt
        assert r.status_code == 401, r.text
    return -1


async def test_addresses_of_one_ipv6_64_share_one_limit(proxied: ServerProcess) -> None:
    spread = (f"2001:db8:19:1:{i:x}:{i:x}:0:{i:x}" for i in itertools.count(1))
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as http:
        assert await _failures_until_limited(http, spread) == FREE_FAILURES
        # Another /64 is someone else.
        assert (await _fail_login(http, "2001:db8:19:2::1")).status_code == 401


async def test_spellings_of_one_address_are_one_address(proxied: ServerProcess) -> None:
    spellings = itertools.cycle(
        [
            "::ffff:198.51.100.19",
            "198.51.100.19",
            "::FFFF:c633:6413",
            "0:0:0:0:0:ffff:198.51.100.19",
        ]
    )
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as http:
        assert await _failures_until_limited(http, spellings) == FREE_FAILURES


async def test_the_session_records_the_canonical_client_address(proxied: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as http:
        person = await sign_up(proxied.url)
        r = await http.post(
            "/api/auth/login",
            json={"username": person.username, "password": PASSWORD},
            headers={"X-Forwarded-For": "2001:0DB8:0019:0000:0000:0000:0000:0042"},
        )
        assert r.status_code == 200
        sessions = (await person.http.get("/api/sessions")).json()["sessions"]
        assert "2001:db8:19::42" in {s["ip"] for s in sessions}
        await person.http.aclose()


def test_the_startup_log_names_the_trusted_proxies(proxied: ServerProcess) -> None:
    assert "X-Forwarded-For trusted only from proxies at 127.0.0.0/8, ::1" in proxied.log()


async def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    proc = ServerProcess(
        tmp_path_factory.mktemp("untrusted") / "data",
        env={"PARLEY_TRUST_PROXY": "1", "PARLEY_TRUSTED_PROXIES": "192.0.2.10/32"},
    ).start()
    try:
        assert "trusted only from proxies at 192.0.2.10/32" in proc.log()
        async with httpx.AsyncClient(base_url=proc.url, timeout=30) as http:
            person = await sign_up(proc.url)
            r = await http.post(
                "/api/auth/login",
                json={"username": person.username, "password": PASSWORD},
                headers={"X-Forwarded-For": "198.51.100.77"},
            )
            assert r.status_code == 200
            sessions = (await person.http.get("/api/sessions")).json()["sessions"]
            ips = {s["ip"] for s in sessions}
            assert "198.51.100.77" not in ips
            assert ips == {"127.0.0.1"}
            await person.http.aclose()
    finally:
        proc.stop()
