"""Outgoing mail: one message to one address through the operator's SMTP server.

``PARLEY_SMTP_URL`` names the server: ``smtp://user:pass@host:port`` (plain, port 25 by
default), ``smtp+starttls://...`` (STARTTLS upgrade, port 587) or ``smtps://...`` (TLS from
the first byte, port 465). User and password are optional and percent-decoded.
``PARLEY_MAIL_FROM`` is the From address (default ``parley@<host of the SMTP URL>``).

The standard library's smtplib does the talking, in a worker thread, so that a slow mail
server never holds up the event loop; each conversation has a deadline.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from parley.config import Settings

SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# One whole SMTP conversation (connect, greet, authenticate, send) takes at most this.
SMTP_TIMEOUT_S = 20.0


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    user: str
    password: str


def parse_smtp_url(url: str) -> SmtpServer:
    """The server named by a ``PARLEY_SMTP_URL``; ValueError when it names none."""
    parts = urlsplit(url)
    if parts.scheme not in SMTP_SCHEMES:
        raise ValueError("use smtp://, smtp+starttls:// or smtps://host[:port]")
    if not parts.hostname:
        raise ValueError("no host")
    try:
        port = parts.port or SMTP_SCHEMES[parts.scheme]
    except ValueError:
        raise ValueError("port out of range") from None
    return SmtpServer(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def smtp_url_problem(url: str) -> str | None:
    try:
        parse_smtp_url(url)
    except ValueError as exc:
        return str(exc)
    return None


def mail_from_problem(address: str) -> str | None:
    if address and not valid_address(address):
        return f"not an email address: {address!r}"
    return None


def valid_address(address: str) -> bool:
    """A plain ``local@domain`` address that fits one header (no name, no comments)."""
    if len(address) > 254 or address.count("@") != 1 or any(c in address for c in " <>,;\r\n"):
        return False
    local, domain = address.split("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return all(0x20 < ord(c) < 0x7F for c in address)


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_url)


def sender_address(settings: Settings) -> str:
    if settings.mail_from:
        return settings.mail_from
    return f"parley@{parse_smtp_url(settings.smtp_url).host}"


def build_message(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender_address(settings)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_address(settings).split("@")[1])
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def send_mail(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> None:
    """Send one message; MailError when mail is not configured or the server refuses."""
    if not settings.smtp_url:
        raise MailError("No SMTP server is configured (PARLEY_SMTP_URL).")
    server = parse_smtp_url(settings.smtp_url)
    message = build_message(settings, to, subject, text, html, headers)
    await asyncio.to_thread(_deliver, server, message)


def _deliver(server: SmtpServer, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        if server.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=SMTP_TIMEOUT_S, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_S)
        with client:
            if server.scheme == "smtp+starttls":
                client.starttls(context=context)
            if server.user:
                client.login(server.user, server.password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP {server.host}:{server.port}: {exc}") from exc
