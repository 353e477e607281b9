"""Fetching a URL someone posted, without letting them reach what only the server can.

A link preview makes the server fetch a URL of anyone's choosing: the classic
server-side request forgery. The rules, each for a way in seen in the wild:

- Only ``http`` and ``https``, on any port, with no user name or password in the URL.
- The host is resolved here, and every address it resolves to must be public
  (``is_global``, not multicast): no loopback, private (10/8, 172.16/12, 192.168/16,
  fc00::/7), link-local (169.254/16 with the cloud metadata address, fe80::/10), CGNAT
  (100.64/10), unspecified, reserved or documentation ranges. An IPv4 address inside
  IPv6 (``::ffff:127.0.0.1``, NAT64 ``64:ff9b::``, 6to4, Teredo) is judged as the IPv4
  address. Numeric spellings (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) are no way
  round this: the check is on what the resolver returns, not on the text.
- The connection goes to the address that was checked (a pinned network backend),
  while the Host header and TLS SNI keep the name: no second lookup, so DNS rebinding
  (a name that answers public, then private) has no window.
- Redirects are followed here, at most MAX_REDIRECTS, each new URL checked as the first.
- A deadline for the whole fetch, a cap on the bytes read (the stream stops there), and
  a content type from an allow-list; anything else is refused before its body is read.

``allow`` (PARLEY_PREVIEW_ALLOW, for tests only) names hosts (``127.0.0.1:8123``,
``localhost``) that may be private; it matches the URL's host as written, so neither a
redirect to another port nor a numeric spelling of the same address passes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore

from parley.domain.addresses import Address, is_public

MAX_REDIRECTS = 3
FETCH_DEADLINE_S = 8.0
CONNECT_TIMEOUT_S = 4.0
READ_TIMEOUT_S = 4.0
URL_MAX = 2048
USER_AGENT = "Parley-LinkPreview/1 (+https://github.com/parley)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# (host, port) -> the addresses it resolves to, as text. Tests hand in their own.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class FetchRefused(Exception):
    """The URL may not be fetched, or what it answered is not wanted; says why."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    content_type: str  # without parameters, lower case
    charset: str | None
    body: bytes


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (all of them)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchRefused(f"cannot resolve {host!r}") from exc
    return [str(info[4][0]) for info in infos]


def _parse_allow(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in entries if e.strip())


def allow_list(text: str) -> frozenset[str]:
    """PARLEY_PREVIEW_ALLOW as entries: ``host`` or ``host:port``, lower case."""
    return _parse_allow(text.split(","))


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL that may be tried; FetchRefused otherwise."""
    if len(url) > URL_MAX:
        raise FetchRefused("URL too long")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused("not a URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(f"scheme {scheme!r} is not fetched")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("credentials in the URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused("no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _allowed_here(host: str, port: int, allow: frozenset[str]) -> bool:
    bracketed = f"[{host}]" if ":" in host else host
    return host in allow or f"{bracketed}:{port}" in allow


async def pick_address(host: str, port: int, *, allow: frozenset[str], resolver: Resolver) -> str:
    """The address to connect to for ``host``: every address it resolves to must be
    public (unless the host is on the test allow-list). FetchRefused otherwise."""
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    found = [str(literal)] if literal is not None else await resolver(host, port)
    if not found:
        raise FetchRefused(f"{host!r} has no address")
    addresses: list[Address] = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError as exc:
            raise FetchRefused(f"{host!r} resolved to {text!r}") from exc
    if not _allowed_here(host, port, allow):
        # All, not any: a name with one public and one private address is refused, so a
        # resolver's order cannot pick the private one for us.
        bad = [a for a in addresses if not is_public(a)]
        if bad:
            raise FetchRefused(f"{host!r} resolves to a non-public address ({bad[0]})")
    return str(addresses[0])


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to one checked address whatever host the request names (the request's
    own host still goes into the Host header and the TLS server name)."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_tcp(
            self._address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _media_type(header: str) -> tuple[str, str | None]:
    kind, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip("\"' ").lower()[:40]
    return kind.strip().lower(), charset


async def _one_hop(
    url: str, address: str, kinds: frozenset[str], max_bytes: int
) -> tuple[int, str | None, Fetched | None]:
    """GET ``url`` from ``address``: (status, Location, the body when wanted)."""
    timeouts = {
        "connect": CONNECT_TIMEOUT_S,
        "read": READ_TIMEOUT_S,
        "write": READ_TIMEOUT_S,
        "pool": CONNECT_TIMEOUT_S,
    }
    headers = [
        (b"User-Agent", USER_AGENT.encode()),
        (b"Accept", ", ".join(sorted(kinds)).encode() + b";q=1.0, */*;q=0.1"),
        (b"Accept-Encoding", b"identity"),
    ]
    async with (
        httpcore.AsyncConnectionPool(
            network_backend=_PinnedBackend(address),
            ssl_context=ssl.create_default_context(),
            max_connections=1,
            retries=0,
        ) as pool,
        pool.stream("GET", url, headers=headers, extensions={"timeout": timeouts}) as response,
    ):
        found = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
        if response.status in REDIRECTS:
            return response.status, found.get("location"), None
        if response.status != 200:
            raise FetchRefused(f"answered {response.status}")
        kind, charset = _media_type(found.get("content-type", ""))
        if kind not in kinds:
            raise FetchRefused(f"content type {kind!r} is not wanted")
        declared = found.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchRefused("too large")
        body = bytearray()
        async for chunk in response.aiter_stream():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise FetchRefused("too large")
        return 200, None, Fetched(url, kind, charset, bytes(body))


async def fetch(
    url: str,
    *,
    kinds: frozenset[str],
    max_bytes: int,
    allow: frozenset[str] = frozenset(),
    resolver: Resolver = system_resolve,
    deadline_s: float = FETCH_DEADLINE_S,
) -> Fetched:
    """GET ``url`` under the rules above; the final response's body and type.

    Raises FetchRefused for anything refused or failed (address, scheme, redirects,
    status, type, size, timeout, network errors).
    """
    try:
        async with asyncio.timeout(deadline_s):
            for _ in range(MAX_REDIRECTS + 1):
                _, host, port = check_url(url)
                address = await pick_address(host, port, allow=allow, resolver=resolver)
                status, location, fetched = await _one_hop(url, address, kinds, max_bytes)
                if fetched is not None:
                    return fetched
                if not location:
                    raise FetchRefused(f"redirect {status} without a Location")
                url = urljoin(url, location.strip())
            raise FetchRefused("too many redirects")
    except TimeoutError as exc:
        raise FetchRefused("took too long") from exc
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
        raise FetchRefused(f"network error: {type(exc).__name__}") from exc
    except (
        OSError,
        ssl.SSLError,
        httpcore.UnsupportedProtocol,
        httpcore.LocalProtocolError,
    ) as exc:
        raise FetchRefused(f"network error: {type(exc).__name__}") from exc
