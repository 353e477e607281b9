"""Client addresses as the rate limits see them: parsed, canonical, IPv6 by network.

Comparing addresses as strings let one client count as many: ``2001:db8::1`` and
``2001:0db8:0:0::1`` are one address, ``::ffff:192.0.2.1`` is ``192.0.2.1``, and the
2^64 addresses of one IPv6 /64 usually belong to one household or one machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_IPV6_PREFIX = 64


def parse(text: str) -> Address | None:
    """The address in ``text`` (IPv4-mapped IPv6 as IPv4, zone dropped), or None."""
    candidate = text.strip().removeprefix("[").split("]", 1)[0].split("%", 1)[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def canonical(text: str) -> str:
    """One spelling per address; text that is no address comes back as it was (cut short)."""
    address = parse(text)
    return str(address) if address is not None else text.strip()[:64]


def limit_key(text: str, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> str:
    """The key per-address limits count under: the IPv4 address, or the IPv6 network."""
    address = parse(text)
    if address is None:
        return text.strip()[:64]
    if isinstance(address, ipaddress.IPv6Address) and ipv6_prefix < 128:
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


def is_loopback(text: str) -> bool:
    address = parse(text)
    return address is not None and address.is_loopback


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"127.0.0.0/8, ::1, 10.0.0.5"`` as networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an address or network: {entry!r}") from exc
    return tuple(networks)


def within(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def forwarded_client(peer: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The client's address behind trusted proxies, as canonical text.

    ``X-Forwarded-For`` counts only when the peer itself is a trusted proxy. Each proxy
    appends the address it saw, so the entries are read from the right, skipping
    trusted proxies; the first other address is the client (anything left of it is
    the client's own claim and may be forged).
    """
    peer_address = parse(peer)
    if peer_address is None or not within(peer_address, trusted):
        return canonical(peer)
    client: Address = peer_address
    for entry in reversed(forwarded_for.split(",")):
        address = parse(entry)
        if address is None:
            break  # garbage from the client: stop at the last address a proxy vouched for
        client = address
        if not within(address, trusted):
            break
    return str(client)


# IPv4 inside IPv6 that some stacks route to the IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo, compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or address in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    # IPv4-compatible (::a.b.c.d, deprecated): still routed to the IPv4 address by some.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def is_public(address: Address) -> bool:
    """Whether ``address`` is on the public internet: not loopback, private, link-local,
    multicast, reserved or otherwise special (where a server-side fetch must not go).
    An IPv4 address carried inside IPv6 is judged as that IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast and not address.is_reserved
