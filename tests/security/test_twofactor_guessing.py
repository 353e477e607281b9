"""Issue 19 item 6: wrong two-factor codes given to a session count as failed sign-ins.

Before: ``2fa/disable`` took 3,000 wrong codes at 313/s, uncounted, then a right code
turned two-factor off. A session thief could walk the code space.
"""

from __future__ import annotations

import time

import httpx
import pyotp

from tests.support import PASSWORD, Person, ServerProcess

ALLOWED = 10  # failed sign-ins per account in 15 minutes (the contract's number)


async def _enrol(person: Person) -> pyotp.TOTP:
    r = await person.http.post("/api/auth/2fa/setup", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    r = await person.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    assert r.status_code == 200, r.text
    return totp


def _wrong(totp: pyotp.TOTP, i: int) -> str:
    valid = {totp.at(time.time() + d) for d in (-30, 0, 30, 60)}
    code = f"{(int(totp.now()) + 1 + i) % 1_000_000:06d}"
    return code if code not in valid else f"{(int(code) + 500_000) % 1_000_000:06d}"


async def test_guessing_codes_at_disable_is_limited_and_locks_sign_in(
    server: ServerProcess, ana: Person
) -> None:
    totp = await _enrol(ana)
    for i in range(ALLOWED):
        r = await ana.http.post("/api/auth/2fa/disable", json={"otp": _wrong(totp, i)})
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "otp_invalid"
    # Past the limit even the right code is refused: the guesser must not learn it.
    r = await ana.http.post("/api/auth/2fa/disable", json={"otp": totp.at(time.time() + 30)})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 60
    assert (await ana.http.get("/api/me")).json()["totp_enabled"] is True
    # They were failed sign-ins: the account's sign-in form is locked too.
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        login = await http.post(
            "/api/auth/login",
            json={"username": ana.username, "password": PASSWORD, "otp": totp.now()},
        )
    assert login.status_code == 429


async def test_wrong_codes_at_enable_count_too(ana: Person) -> None:
    r = await ana.http.post("/api/auth/2fa/setup", json={"password": PASSWORD})
    totp = pyotp.TOTP(r.json()["secret"])
    for i in range(ALLOWED):
        r = await ana.http.post("/api/auth/2fa/enable", json={"otp": _wrong(totp, i)})
        assert r.status_code == 401
    r = await ana.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    assert r.status_code == 429
    assert (await ana.http.get("/api/me")).json()["totp_enabled"] is False
