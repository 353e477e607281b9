"""Two-factor sign-in: enrolment, login with a code or a recovery code, no replays."""

from __future__ import annotations

import sqlite3
import time

import httpx
import pyotp

from tests.support import PASSWORD, Person, ServerProcess

# Setup and disable ask for the password again (a stolen session must not use them).
REAUTH = {"password": PASSWORD}


async def _enrol(person: Person) -> tuple[pyotp.TOTP, list[str]]:
    r = await person.http.post("/api/auth/2fa/setup", json=REAUTH)
    assert r.status_code == 200, r.text
    setup = r.json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    assert setup["secret"] in setup["otpauth_uri"]
    assert setup["qr_svg"].lstrip().startswith("<svg")
    totp = pyotp.TOTP(setup["secret"])
    r = await person.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    return totp, codes


async def _login(server: ServerProcess, person: Person, otp: str | None = None) -> httpx.Response:
    body = {"username": person.username, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/api/auth/login", json=body)


def _next_code(totp: pyotp.TOTP) -> str:
    # The next 30-second step: inside the accepted window, and newer than any used so far.
    return totp.at(time.time() + 30)


async def test_after_enrolment_login_needs_a_code(server: ServerProcess, ana: Person) -> None:
    totp, codes = await _enrol(ana)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    r = await _login(server, ana)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "otp_required"
    assert "token" not in r.json()
    r = await _login(server, ana, _next_code(totp))
    assert r.status_code == 200, r.text
    me = await ana.http.get("/api/me")
    assert me.json()["totp_enabled"] is True


async def test_a_wrong_code_is_refused(server: ServerProcess, ana: Person) -> None:
    await _enrol(ana)
    r = await _login(server, ana, "000000")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "otp_invalid"
    r = await _login(server, ana, "not a code at all")
    assert r.status_code == 401


async def test_the_same_code_cannot_be_used_twice(server: ServerProcess, ana: Person) -> None:
    totp, _ = await _enrol(ana)
    code = _next_code(totp)
    assert (await _login(server, ana, code)).status_code == 200
    replay = await _login(server, ana, code)
    assert replay.status_code == 401
    # Refused, and told why: the person only has to wait for the next code.
    assert replay.json()["error"]["code"] == "otp_reused"


async def test_the_enrolment_code_cannot_be_replayed_to_sign_in(
    server: ServerProcess, ana: Person
) -> None:
    r = await ana.http.post("/api/auth/2fa/setup", json=REAUTH)
    totp = pyotp.TOTP(r.json()["secret"])
    code = totp.now()
    assert (await ana.http.post("/api/auth/2fa/enable", json={"otp": code})).status_code == 200
    refused = await _login(server, ana, code)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "otp_reused"
    assert "next one" in refused.json()["error"]["message"]


async def test_a_recovery_code_signs_in_once(server: ServerProcess, ana: Person) -> None:
    _, codes = await _enrol(ana)
    r = await _login(server, ana, codes[3].upper())  # as typed from a printout
    assert r.status_code == 200, r.text
    again = await _login(server, ana, codes[3])
    assert again.status_code == 401
    status = await ana.http.get("/api/auth/2fa")
    assert status.json() == {"enabled": True, "recovery_codes_left": 9}


async def test_enable_without_a_valid_code_leaves_two_factor_off(
    server: ServerProcess, ana: Person
) -> None:
    r = await ana.http.post("/api/auth/2fa/enable", json={"otp": "123456"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "otp_not_set_up"
    await ana.http.post("/api/auth/2fa/setup", json=REAUTH)
    r = await ana.http.post("/api/auth/2fa/enable", json={"otp": "000000"})
    assert r.status_code == 401
    assert (await _login(server, ana)).status_code == 200


async def test_setup_again_while_enabled_is_a_conflict(ana: Person) -> None:
    await _enrol(ana)
    r = await ana.http.post("/api/auth/2fa/setup", json=REAUTH)
    assert r.status_code == 409
    assert "secret" not in r.text


async def test_disable_needs_a_valid_code_and_then_login_needs_none(
    server: ServerProcess, ana: Person
) -> None:
    totp, codes = await _enrol(ana)
    r = await ana.http.post("/api/auth/2fa/disable", json={**REAUTH, "otp": "000000"})
    assert r.status_code == 401
    assert (await _login(server, ana)).json()["error"]["code"] == "otp_required"
    r = await ana.http.post("/api/auth/2fa/disable", json={**REAUTH, "otp": _next_code(totp)})
    assert r.status_code == 204
    assert (await _login(server, ana)).status_code == 200
    # The old recovery codes are gone with the secret.
    assert (await ana.http.get("/api/auth/2fa")).json()["recovery_codes_left"] == 0
    assert codes


async def test_two_factor_routes_need_a_session(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for path in ("setup", "enable", "disable"):
            r = await http.post(f"/api/auth/2fa/{path}", json={**REAUTH, "otp": "123456"})
            assert r.status_code == 401, path


async def test_the_secret_is_stored_encrypted_and_codes_hashed(
    server: ServerProcess, ana: Person
) -> None:
    r = await ana.http.post("/api/auth/2fa/setup", json=REAUTH)
    secret = r.json()["secret"]
    enabled = await ana.http.post("/api/auth/2fa/enable", json={"otp": pyotp.TOTP(secret).now()})
    codes = enabled.json()["recovery_codes"]
    db = sqlite3.connect(f"file:{server.data_dir / 'parley.db'}?mode=ro", uri=True)
    try:
        stored = db.execute("SELECT totp_secret FROM users WHERE id = ?", (ana.id,)).fetchone()[0]
        hashes = [
            row[0]
            for row in db.execute(
                "SELECT code_hash FROM recovery_codes WHERE user_id = ?", (ana.id,)
            )
        ]
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert secret not in stored
    assert len(hashes) == 10
    for code in codes:
        assert code not in dump
        assert code.replace("-", "") not in dump
    assert secret not in dump


async def test_setup_with_a_wrong_or_malformed_password_gives_no_secret(ana: Person) -> None:
    # A password given is always checked, even where a recent sign-in would do.
    r = await ana.http.post("/api/auth/2fa/setup", json={"password": "not-the-password"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_credentials"
    assert "secret" not in r.text
    r = await ana.http.post("/api/auth/2fa/setup", json={"password": 12345678})
    assert r.status_code == 400
    assert "secret" not in r.text
    status = await ana.http.get("/api/auth/2fa")
    assert status.json() == {"enabled": False, "recovery_codes_left": 0}


async def test_disable_with_a_wrong_password_keeps_two_factor_on_and_the_code_unspent(
    server: ServerProcess, ana: Person
) -> None:
    totp, _ = await _enrol(ana)
    code = _next_code(totp)
    r = await ana.http.post(
        "/api/auth/2fa/disable", json={"password": "not-the-password", "otp": code}
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_credentials"
    assert (await ana.http.get("/api/auth/2fa")).json() == {
        "enabled": True,
        "recovery_codes_left": 10,
    }
    assert (await _login(server, ana)).json()["error"]["code"] == "otp_required"
    # The refused attempt did not spend the code: with the password it still works.
    r = await ana.http.post("/api/auth/2fa/disable", json={**REAUTH, "otp": code})
    assert r.status_code == 204, r.text


async def test_password_guesses_through_a_session_count_as_failed_sign_ins(
    server: ServerProcess, ana: Person
) -> None:
    # A session thief guessing the password at setup, disable or password change
    # runs into the same per-account limit as at the sign-in form (10 in 15 minutes).
    guesses = [
        ("/api/auth/2fa/setup", {"password": "guess-0"}),
        ("/api/auth/2fa/disable", {"password": "guess-1", "otp": "123456"}),
        ("/api/me/password", {"current_password": "guess-2", "new_password": "x" * 20}),
    ]
    for i in range(10):
        path, body = guesses[i % 3]
        r = await ana.http.post(path, json=body)
        assert r.status_code == 401, (i, r.text)
    for path, body in (*guesses, ("/api/auth/2fa/setup", REAUTH)):
        r = await ana.http.post(path, json=body)
        assert r.status_code == 429, (path, r.text)
        assert r.headers["Retry-After"]
    assert (await _login(server, ana)).status_code == 429


async def test_the_contracts_flow_needs_no_password_right_after_signing_in(ana: Person) -> None:
    setup = await ana.http.post("/api/auth/2fa/setup")
    assert setup.status_code == 200
    totp = pyotp.TOTP(setup.json()["secret"])
    enabled = await ana.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    assert len(enabled.json()["recovery_codes"]) == 10
    code = enabled.json()["recovery_codes"][0]
    assert (await ana.http.post("/api/auth/2fa/disable", json={"otp": code})).status_code == 204
