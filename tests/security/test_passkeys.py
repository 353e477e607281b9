"""Passkeys over the API, with a software authenticator: registration, sign-in with a
passkey alone or as the second factor, and the answers that must be refused (another
account's passkey, another origin or RP ID, a replay, a stale challenge, a counter
that goes back, a forged signature)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from tests.security.passkey_authenticator import SoftAuthenticator, b64url, unb64url
from tests.support import PASSWORD, Person, ServerProcess, free_port, sign_up

REFUSED = "passkey_invalid"


@pytest.fixture(scope="module")
def rp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose public address is http://localhost:<port>, as set behind a proxy."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("passkeys") / "data"
    proc = ServerProcess(
        data_dir, port=port, env={"PARLEY_PUBLIC_URL": f"http://localhost:{port}/"}
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
async def people(rp_server: ServerProcess) -> AsyncIterator[list[Person]]:
    made: list[Person] = []
    for _ in range(2):
        made.append(await sign_up(rp_server.url))
    yield made
    for person in made:
        await person.http.aclose()


def authenticator(server: ServerProcess) -> SoftAuthenticator:
    return SoftAuthenticator(origin=f"http://localhost:{server.port}", rp_id="localhost")


async def register(person: Person, device: SoftAuthenticator, name: str | None = None) -> dict:
    r = await person.http.post("/api/auth/passkeys/register/options")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = {"credential": device.create(r.json())}
    if name is not None:
        body["name"] = name
    r = await person.http.post("/api/auth/passkeys/register", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json()["passkey"])


async def login_options(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post("/api/auth/passkeys/login/options")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def passkey_login(server: ServerProcess, credential: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/api/auth/passkeys/login", json={"credential": credential})


def assert_refused(r: httpx.Response, code: str = REFUSED, status: int = 401) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert "token" not in r.json()


# -- what a person does ------------------------------------------------------------------


async def test_register_name_list_and_sign_in_with_the_passkey_alone(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    r = await ana.http.post("/api/auth/passkeys/register/options")
    options = r.json()
    assert options["rp"] == {"id": "localhost", "name": "Parley"}
    assert options["user"]["name"] == ana.username
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert len(unb64url(options["challenge"])) == 32
    r = await ana.http.post(
        "/api/auth/passkeys/register",
        json={"credential": device.create(options), "name": "Laptop"},
    )
    assert r.status_code == 201, r.text
    created = r.json()["passkey"]
    assert created["name"] == "Laptop" and created["last_used_at"] is None
    assert set(created) == {"id", "name", "created_at", "last_used_at"}

    options = await login_options(rp_server)
    assert options["rpId"] == "localhost"
    assert options["allowCredentials"] == []  # discoverable: no username asked for
    r = await passkey_login(rp_server, device.get(options))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == ana.id
    assert "parley_session" in r.headers.get("set-cookie", "")
    async with httpx.AsyncClient(base_url=rp_server.url, timeout=30) as http:
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["user"]["username"] == ana.username

    r = await ana.http.patch(f"/api/auth/passkeys/{created['id']}", json={"name": "Work laptop"})
    assert r.status_code == 200 and r.json()["passkey"]["name"] == "Work laptop"
    listed = (await ana.http.get("/api/auth/passkeys")).json()["passkeys"]
    assert [(p["id"], p["name"]) for p in listed] == [(created["id"], "Work laptop")]
    assert listed[0]["last_used_at"] is not None


async def test_several_passkeys_each_sign_in_and_a_deleted_one_stops(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    phone, laptop = authenticator(rp_server), authenticator(rp_server)
    first = await register(ana, phone, "Phone")
    second = await register(ana, laptop)
    assert second["name"] == "Passkey"
    for device in (phone, laptop):
        r = await passkey_login(rp_server, device.get(await login_options(rp_server)))
        assert r.status_code == 200, r.text
    assert (await ana.http.delete(f"/api/auth/passkeys/{first['id']}")).status_code == 204
    r = await passkey_login(rp_server, phone.get(await login_options(rp_server)))
    assert_refused(r)
    names = [p["name"] for p in (await ana.http.get("/api/auth/passkeys")).json()["passkeys"]]
    assert names == ["Passkey"]


async def test_a_passkey_is_the_second_factor_instead_of_a_code(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, ben = people
    device = authenticator(rp_server)
    await register(ana, device)
    setup = (await ana.http.post("/api/auth/2fa/setup", json={"password": PASSWORD})).json()
    otp = pyotp.TOTP(setup["secret"]).now()
    assert (await ana.http.post("/api/auth/2fa/enable", json={"otp": otp})).status_code == 200

    async with httpx.AsyncClient(base_url=rp_server.url, timeout=30) as http:
        body: dict[str, Any] = {"username": ana.username, "password": PASSWORD}
        r = await http.post("/api/auth/login", json=body)
        assert_refused(r, "otp_required")
        # Ben's passkey is no second factor for Ana's password.
        ben_device = authenticator(rp_server)
        await register(ben, ben_device)
        r = await http.post(
            "/api/auth/login",
            json={**body, "passkey": ben_device.get(await login_options(rp_server))},
        )
        assert_refused(r)
        # A wrong password with Ana's passkey is still a wrong password.
        r = await http.post(
            "/api/auth/login",
            json={
                **body,
                "password": "wrong-password-1",
                "passkey": device.get(await login_options(rp_server)),
            },
        )
        assert_refused(r, "invalid_credentials")
        r = await http.post(
            "/api/auth/login", json={**body, "passkey": device.get(await login_options(rp_server))}
        )
        assert r.status_code == 200, r.text
        assert r.json()["user"]["id"] == ana.id


async def test_registration_needs_a_session_and_a_challenge_of_ones_own(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, ben = people
    async with httpx.AsyncClient(base_url=rp_server.url, timeout=30) as http:
        r = await http.post("/api/auth/passkeys/register/options")
        assert_refused(r, "unauthorized")
        assert_refused(await http.get("/api/auth/passkeys"), "unauthorized")
    # A challenge issued to Ana does not register a passkey on Ben's account.
    options = (await ana.http.post("/api/auth/passkeys/register/options")).json()
    credential = authenticator(rp_server).create(options)
    r = await ben.http.post("/api/auth/passkeys/register", json={"credential": credential})
    assert_refused(r, REFUSED, 400)
    assert (await ben.http.get("/api/auth/passkeys")).json()["passkeys"] == []
    # Nor does a login challenge, or one answered for another site.
    options = (await ana.http.post("/api/auth/passkeys/register/options")).json()
    options["challenge"] = (await login_options(rp_server))["challenge"]
    credential = authenticator(rp_server).create(options)
    r = await ana.http.post("/api/auth/passkeys/register", json={"credential": credential})
    assert_refused(r, REFUSED, 400)
    options = (await ana.http.post("/api/auth/passkeys/register/options")).json()
    credential = authenticator(rp_server).create(options, origin="https://evil.example")
    r = await ana.http.post("/api/auth/passkeys/register", json={"credential": credential})
    assert_refused(r, REFUSED, 400)
    assert (await ana.http.get("/api/auth/passkeys")).json()["passkeys"] == []


async def test_an_old_session_must_give_the_password_to_add_a_passkey(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    signed_in = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    db = sqlite3.connect(rp_server.data_dir / "parley.db")
    with db:
        db.execute("UPDATE sessions SET created_at = ? WHERE user_id = ?", (signed_in, ana.id))
    db.close()
    r = await ana.http.post("/api/auth/passkeys/register/options")
    assert_refused(r, "password_required")
    r = await ana.http.post("/api/auth/passkeys/register/options", json={"password": "nope-nope"})
    assert_refused(r, "invalid_credentials")
    r = await ana.http.post("/api/auth/passkeys/register/options", json={"password": PASSWORD})
    assert r.status_code == 200, r.text


# -- break-ins ---------------------------------------------------------------------------


async def test_a_forged_answer_for_another_accounts_passkey_is_refused(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, ben = people
    victim = authenticator(rp_server)
    await register(ana, victim)
    thief = authenticator(rp_server)
    await register(ben, thief)
    # The thief's key signing for Ana's credential id: the signature does not verify.
    r = await passkey_login(
        rp_server, thief.get(await login_options(rp_server), credential_id=victim.credential_id)
    )
    assert_refused(r)
    # The thief's own credential claiming Ana's user handle: not the credential's user.
    r = await passkey_login(
        rp_server, thief.get(await login_options(rp_server), user_handle=victim.user_handle)
    )
    assert_refused(r)
    # A discoverable sign-in must say whose passkey it is.
    answer = victim.get(await login_options(rp_server))
    answer["response"]["userHandle"] = None
    assert_refused(await passkey_login(rp_server, answer))


async def test_an_answer_made_for_another_origin_or_rp_id_is_refused(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    for lie in (
        {"origin": "https://evil.example"},
        {"origin": f"http://127.0.0.1:{rp_server.port}"},  # the server, by another name
        {"rp_id": "evil.example"},
        {"rp_id": "127.0.0.1"},
    ):
        r = await passkey_login(rp_server, device.get(await login_options(rp_server), **lie))
        assert_refused(r)
    r = await passkey_login(rp_server, device.get(await login_options(rp_server)))
    assert r.status_code == 200, r.text


async def test_a_replayed_answer_is_refused(rp_server: ServerProcess, people: list[Person]) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    options = await login_options(rp_server)
    answer = device.get(options)
    assert (await passkey_login(rp_server, answer)).status_code == 200
    assert_refused(await passkey_login(rp_server, answer))
    # A fresh signature (a higher counter) over the spent challenge: still refused.
    assert_refused(await passkey_login(rp_server, device.get(options)))
    # A challenge the server never gave.
    assert_refused(await passkey_login(rp_server, device.get({"challenge": b64url(b"x" * 32)})))


async def test_a_refused_answer_spends_its_challenge(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    options = await login_options(rp_server)
    assert_refused(await passkey_login(rp_server, device.get(options, origin="https://x.example")))
    assert_refused(await passkey_login(rp_server, device.get(options)))


async def test_a_stale_challenge_is_refused(rp_server: ServerProcess, people: list[Person]) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    options = await login_options(rp_server)
    db = sqlite3.connect(rp_server.data_dir / "parley.db")
    with db:  # two minutes pass
        changed = db.execute(
            "UPDATE passkey_challenges SET expires_at = '2000-01-01T00:00:00.000000Z'"
        ).rowcount
    db.close()
    assert changed >= 1
    assert_refused(await passkey_login(rp_server, device.get(options)))
    assert (
        await passkey_login(rp_server, device.get(await login_options(rp_server)))
    ).status_code == 200


async def test_a_signature_counter_that_goes_back_is_refused(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    r = await passkey_login(rp_server, device.get(await login_options(rp_server), count=5))
    assert r.status_code == 200, r.text
    # A clone of the authenticator, behind the original: the same count, then a lower one.
    for count in (5, 4, 0):
        r = await passkey_login(rp_server, device.get(await login_options(rp_server), count=count))
        assert_refused(r)
    r = await passkey_login(rp_server, device.get(await login_options(rp_server), count=6))
    assert r.status_code == 200, r.text


async def test_sign_in_alone_needs_the_user_verified(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    r = await passkey_login(rp_server, device.get(await login_options(rp_server), verified=False))
    assert_refused(r)


async def test_failed_passkey_sign_ins_count_like_wrong_passwords(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    for _ in range(10):  # the contract's 10 failures in 15 minutes
        r = await passkey_login(
            rp_server, device.get(await login_options(rp_server), origin="https://evil.example")
        )
        assert_refused(r)
    r = await passkey_login(rp_server, device.get(await login_options(rp_server)))
    assert r.status_code == 429, r.text
    assert r.headers["Retry-After"]
    async with httpx.AsyncClient(base_url=rp_server.url, timeout=30) as http:
        r = await http.post(
            "/api/auth/login", json={"username": ana.username, "password": PASSWORD}
        )
    assert r.status_code == 429


async def test_bad_input_is_a_json_error_never_a_500(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    device = authenticator(rp_server)
    await register(ana, device)
    good = device.get(await login_options(rp_server))
    broken: list[Any] = [
        {},
        {"credential": "text"},
        {"credential": []},
        {"credential": {}},
        {"credential": {**good, "rawId": "***"}},
        {"credential": {**good, "type": "other"}},
        {"credential": {**good, "response": {**good["response"], "clientDataJSON": "e30"}}},
        {"credential": {**good, "response": {**good["response"], "authenticatorData": "AA"}}},
        {"credential": {**good, "response": {**good["response"], "signature": ""}}},
        {"credential": {**good, "response": {**good["response"], "userHandle": 5}}},
        {"credential": {**good, "id": "x" * 5000, "rawId": "x" * 5000}},
    ]
    async with httpx.AsyncClient(base_url=rp_server.url, timeout=30) as http:
        for body in broken:
            r = await http.post("/api/auth/passkeys/login", json=body)
            assert r.status_code in (400, 401), (body, r.text)
            assert r.json()["error"]["code"] in ("invalid_request", REFUSED)
            r = await http.post(
                "/api/auth/login",
                json={
                    "username": "nobody-here",
                    "password": "x",
                    "passkey": body.get("credential", 1),
                },
            )
            assert r.status_code in (400, 401), r.text
        r = await http.post("/api/auth/passkeys/login", content=b"{not json")
        assert r.status_code == 400
    for body in broken:
        r = await ana.http.post("/api/auth/passkeys/register", json=body)
        assert r.status_code == 400, (body, r.text)
    options = (await ana.http.post("/api/auth/passkeys/register/options")).json()
    created = authenticator(rp_server).create(options)
    created["response"]["attestationObject"] = b64url(b"\xa1\x63fmt\x64none")
    r = await ana.http.post("/api/auth/passkeys/register", json={"credential": created})
    assert_refused(r, REFUSED, 400)
    for name in ("", " ", "x" * 65, "a\nb"):
        r = await ana.http.patch("/api/auth/passkeys/1", json={"name": name})
        assert r.status_code == 400, r.text
    assert (
        await ana.http.patch("/api/auth/passkeys/99999999999999999999", json={"name": "a"})
    ).status_code == 404


# -- managing ----------------------------------------------------------------------------


async def test_nobody_renames_or_deletes_another_persons_passkey(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, ben = people
    mine = await register(ana, authenticator(rp_server), "Mine")
    r = await ben.http.patch(f"/api/auth/passkeys/{mine['id']}", json={"name": "Ben's now"})
    assert_refused(r, "passkey_not_found", 404)
    assert_refused(
        await ben.http.delete(f"/api/auth/passkeys/{mine['id']}"), "passkey_not_found", 404
    )
    listed = (await ana.http.get("/api/auth/passkeys")).json()["passkeys"]
    assert [p["name"] for p in listed] == ["Mine"]


async def test_the_same_credential_is_registered_once(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, ben = people
    device = authenticator(rp_server)
    await register(ana, device)
    options = (await ana.http.post("/api/auth/passkeys/register/options")).json()
    assert options["excludeCredentials"][0]["id"] == b64url(device.credential_id)
    r = await ana.http.post(
        "/api/auth/passkeys/register", json={"credential": device.create(options)}
    )
    assert_refused(r, "passkey_exists", 409)
    # Nor can Ben claim Ana's credential as his.
    options = (await ben.http.post("/api/auth/passkeys/register/options")).json()
    r = await ben.http.post(
        "/api/auth/passkeys/register", json={"credential": device.create(options)}
    )
    assert_refused(r, "passkey_exists", 409)


def _remove_password(server: ServerProcess, user_id: int) -> None:
    """An account with no password (as single sign-on makes them): passkeys are its way in."""
    db = sqlite3.connect(server.data_dir / "parley.db")
    with db:
        db.execute("UPDATE users SET password_hash = '!none' WHERE id = ?", (user_id,))
    db.close()


async def test_the_last_way_into_an_account_cannot_be_removed(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, ben = people
    first = await register(ana, authenticator(rp_server))
    second = await register(ana, authenticator(rp_server))
    _remove_password(rp_server, ana.id)
    assert (await ana.http.delete(f"/api/auth/passkeys/{first['id']}")).status_code == 204
    r = await ana.http.delete(f"/api/auth/passkeys/{second['id']}")
    assert_refused(r, "last_sign_in_method", 409)
    assert "only way into your account" in r.json()["error"]["message"]
    assert len((await ana.http.get("/api/auth/passkeys")).json()["passkeys"]) == 1
    # With a password to fall back on, the last passkey may go.
    only = await register(ben, authenticator(rp_server))
    assert (await ben.http.delete(f"/api/auth/passkeys/{only['id']}")).status_code == 204


async def test_challenges_are_budgeted(rp_server: ServerProcess, people: list[Person]) -> None:
    ana, _ = people
    statuses = []
    for _ in range(25):
        r = await ana.http.post("/api/auth/passkeys/register/options")
        statuses.append(r.status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[-1] == 429


def test_the_relying_party_is_the_public_url_or_the_requests_host() -> None:
    from parley.domain.passkeys import RelyingParty, relying_party

    assert relying_party("https://chat.example.org", "evil.example", False) == RelyingParty(
        "chat.example.org", "https://chat.example.org"
    )
    assert relying_party("http://localhost:8000", "", False) == RelyingParty(
        "localhost", "http://localhost:8000"
    )
    assert relying_party("", "Chat.Example.org:443", True) == RelyingParty(
        "chat.example.org", "https://chat.example.org"
    )
    assert relying_party("", "localhost:8000", False) == RelyingParty(
        "localhost", "http://localhost:8000"
    )
    with pytest.raises(Exception, match="no host"):
        relying_party("", "", False)


async def test_bots_and_disabled_accounts_have_no_passkey_way_in(
    rp_server: ServerProcess, people: list[Person]
) -> None:
    ana, _ = people
    r = await ana.http.post("/api/bots", json={"username": f"pkbot{ana.id}"})
    token = r.json()["token"]
    async with httpx.AsyncClient(base_url=rp_server.url, timeout=30) as http:
        r = await http.post(
            "/api/auth/passkeys/register/options", headers={"Authorization": f"Bearer {token}"}
        )
    assert_refused(r, "bot_passkey", 403)
    # A disabled account's passkey opens nothing (the account is disabled in the database
    # here: making an admin of the test server is another test's business).
    device = authenticator(rp_server)
    await register(ana, device)
    db = sqlite3.connect(rp_server.data_dir / "parley.db")
    with db:
        db.execute("UPDATE users SET disabled = 1 WHERE id = ?", (ana.id,))
    db.close()
    assert_refused(await passkey_login(rp_server, device.get(await login_options(rp_server))))
