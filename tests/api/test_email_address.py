"""A person's email address: set it, verify it by the mailed link, see it in /api/me.

The mail goes through a real SMTP server inside the test (aiosmtpd).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.mail_support import MailSink
from tests.support import Person, ServerProcess, sign_up, unique_name


@pytest.fixture
async def dee(mail_server: ServerProcess) -> AsyncIterator[Person]:
    person = await sign_up(mail_server.url)
    yield person
    await person.http.aclose()


def _token(text: str) -> str:
    found = re.search(r"#verify-email=([A-Za-z0-9_\-.]+)", text)
    assert found, text
    return found.group(1)


async def test_an_address_is_verified_by_the_link_mailed_to_it(
    dee: Person, sink: MailSink, mail_server: ServerProcess
) -> None:
    me = (await dee.http.get("/api/me")).json()
    assert (me["email"], me["email_verified"], me["mail_enabled"]) == (None, False, True)
    address = f"{unique_name('dee')}@Example.ORG"
    r = await dee.http.put("/api/me/email", json={"email": address})
    assert r.status_code == 200, r.text
    assert r.json() == {"verification_sent": True}
    stored = address.split("@")[0] + "@example.org"
    me = (await dee.http.get("/api/me")).json()
    assert (me["email"], me["email_verified"]) == (stored, False)
    [mail] = await sink.wait_for(stored)
    assert mail.message["From"] == "chat@parley.test"
    assert mail.message["To"] == stored
    token = _token(mail.text)
    assert mail_server.url.replace("http://", "") in mail.text
    # The link works without a session (it may be opened on another device).
    async with httpx.AsyncClient(base_url=mail_server.url) as anonymous:
        r = await anonymous.post("/api/me/email/verify", json={"token": token})
    assert r.status_code == 204, r.text
    me = (await dee.http.get("/api/me")).json()
    assert (me["email"], me["email_verified"]) == (stored, True)
    # Setting the same verified address again sends nothing.
    r = await dee.http.put("/api/me/email", json={"email": stored})
    assert r.json() == {"verification_sent": False}


async def test_a_token_is_good_only_for_the_address_it_was_made_for(
    dee: Person, sink: MailSink
) -> None:
    first = f"{unique_name('one')}@example.org"
    await dee.http.put("/api/me/email", json={"email": first})
    [mail] = await sink.wait_for(first)
    second = f"{unique_name('two')}@example.org"
    await dee.http.put("/api/me/email", json={"email": second})
    r = await dee.http.post("/api/me/email/verify", json={"token": _token(mail.text)})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_token"
    assert (await dee.http.get("/api/me")).json()["email_verified"] is False
    tampered = _token(mail.text)[:-2] + "AA"
    r = await dee.http.post("/api/me/email/verify", json={"token": tampered})
    assert r.json()["error"]["code"] == "invalid_token"


async def test_a_token_with_characters_no_link_has_is_refused_not_a_500(ana: Person) -> None:
    # Found by the API fuzzer: a non-ASCII signature reached hmac.compare_digest, which
    # raises for such a str.
    for token in ("e30.é", "é.é", "e30.\u2028"):
        r = await ana.http.post("/api/me/email/verify", json={"token": token})
        assert r.status_code == 400, (token, r.text)
        assert r.json()["error"]["code"] == "invalid_token"


async def test_an_empty_address_removes_it_and_a_bad_one_is_refused(dee: Person) -> None:
    for bad in ["not-an-address", "a@b", "x@y.org\r\nBcc: z@w.org", "<a@b.org>", "a b@c.org"]:
        r = await dee.http.put("/api/me/email", json={"email": bad})
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "invalid_email"
    r = await dee.http.put("/api/me/email", json={"email": ""})
    assert r.status_code == 200
    assert (await dee.http.get("/api/me")).json()["email"] is None


async def test_verification_mails_are_rate_limited(dee: Person, sink: MailSink) -> None:
    codes = []
    for n in range(5):
        r = await dee.http.put("/api/me/email", json={"email": f"flood{n}-{dee.username}@ex.org"})
        codes.append(r.status_code)
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


async def test_without_smtp_an_address_cannot_be_set(ana: Person) -> None:
    me = (await ana.http.get("/api/me")).json()
    assert me["mail_enabled"] is False
    r = await ana.http.put("/api/me/email", json={"email": "ana@example.org"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "mail_disabled"


async def test_the_mailer_speaks_starttls_and_refuses_bad_urls(tmp_path: Path) -> None:
    from parley.config import SettingsError, load_settings

    for bad in ["http://mail.example.org", "smtp://", "smtp://host:99999"]:
        with pytest.raises(SettingsError):
            load_settings(environ={"PARLEY_SMTP_URL": bad})
    with pytest.raises(SettingsError):
        load_settings(environ={"PARLEY_SMTP_URL": "smtp://h", "PARLEY_MAIL_FROM": "nope"})
    settings = load_settings(environ={"PARLEY_SMTP_URL": "smtp+starttls://u%40x:p@h"})
    from parley.mail import parse_smtp_url

    server = parse_smtp_url(settings.smtp_url)
    assert (server.scheme, server.host, server.port, server.user) == (
        "smtp+starttls",
        "h",
        587,
        "u@x",
    )
