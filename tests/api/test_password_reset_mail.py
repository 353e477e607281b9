"""'Forgot password' by email (issue 24): a one-hour link to the verified address, the
same reply whether or not the account exists, and a reset that ends every session.

The mail goes through a real SMTP server inside the test (aiosmtpd).
"""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.mail_support import MailSink
from tests.support import Person, ServerProcess, sign_up, unique_name

NEW_PASSWORD = "a passphrase chosen by mail"


async def _verified(server: ServerProcess, sink: MailSink) -> tuple[Person, str]:
    person = await sign_up(server.url)
    address = f"{unique_name('eve')}@example.org"
    r = await person.http.put("/api/me/email", json={"email": address})
    assert r.status_code == 200, r.text
    text = (await sink.wait_for(address))[0].text
    token = re.search(r"#verify-email=([A-Za-z0-9_\-.]+)", text)
    assert token
    r = await person.http.post("/api/me/email/verify", json={"token": token.group(1)})
    assert r.status_code in (200, 204), r.text
    return person, address


async def test_a_forgotten_password_is_reset_by_the_mailed_link(
    mail_server: ServerProcess, sink: MailSink
) -> None:
    eve, address = await _verified(mail_server, sink)
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as anon:
        options = (await anon.get("/api/auth/options")).json()
        assert options["email_recovery"] is True
        for login in (eve.username, address.upper()):
            r = await anon.post("/api/auth/password-reset/request", json={"login": login})
            assert r.status_code == 202, r.text
        mails = await sink.wait_for(address, count=3)  # the check, then two resets
        link = re.search(r"(http\S+/reset-password#token=(\S+))", mails[-1].text)
        assert link, mails[-1].text
        assert mails[-1].message["Subject"] == "Reset your Parley password"
        older = re.search(r"#token=(\S+)", mails[-2].text)
        assert older
        r = await anon.post(
            "/api/auth/password-reset", json={"token": older.group(1), "password": NEW_PASSWORD}
        )
        assert r.status_code == 404  # the newer link voided it
        r = await anon.post(
            "/api/auth/password-reset", json={"token": link.group(2), "password": NEW_PASSWORD}
        )
        assert r.status_code == 204, r.text
    assert (await eve.http.get("/api/me")).status_code == 401
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as http:
        body = {"username": eve.username, "password": NEW_PASSWORD}
        assert (await http.post("/api/auth/login", json=body)).status_code == 200
    await eve.http.aclose()


async def test_the_reply_is_the_same_for_an_unknown_or_unverified_account(
    mail_server: ServerProcess, sink: MailSink
) -> None:
    plain = await sign_up(mail_server.url)  # no address at all
    before = len(sink.received)
    async with httpx.AsyncClient(base_url=mail_server.url, timeout=30) as anon:
        replies = [
            await anon.post("/api/auth/password-reset/request", json={"login": login})
            for login in ("nobody-at-all", "nobody@example.org", plain.username)
        ]
    assert {(r.status_code, r.text) for r in replies} == {(202, replies[0].text)}
    await asyncio.sleep(1)
    assert len(sink.received) == before
    await plain.http.aclose()


async def test_without_a_mail_server_the_request_says_so(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
        assert (await anon.get("/api/auth/options")).json()["email_recovery"] is False
        r = await anon.post("/api/auth/password-reset/request", json={"login": "someone"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "mail_disabled"
