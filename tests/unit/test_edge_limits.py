"""Connections per client address: counted, capped, given back; loopback exempt."""

from __future__ import annotations

from parley.web.http_protocol import EdgeLimits

# RFC 5737 documentation addresses: only counted here, never connected to.
FAR = "192.0.2.7"
OTHER = "198.51.100.9"


def test_an_address_gets_its_cap_and_no_more() -> None:
    limits = EdgeLimits(header_timeout_s=10, per_address=3)
    assert [limits.acquire(FAR) for _ in range(4)] == [True, True, True, False]
    assert limits.acquire(OTHER), "another address has its own count"


def test_a_closed_connection_gives_its_slot_back() -> None:
    limits = EdgeLimits(header_timeout_s=10, per_address=2)
    assert limits.acquire(FAR) and limits.acquire(FAR)
    limits.release(FAR)
    assert limits.acquire(FAR)
    limits.release(FAR)
    limits.release(FAR)
    assert limits.open_by_address == {}, "no entry is left behind for a gone address"


def test_loopback_is_exempt_like_the_rate_limits() -> None:
    limits = EdgeLimits(header_timeout_s=10, per_address=1)
    assert all(limits.acquire(address) for address in ["127.0.0.1"] * 5 + ["::1"] * 5)
    assert limits.open_by_address == {}
    assert not limits.counts("127.0.0.1") and not limits.counts("::1")
    assert limits.counts(FAR)


def test_zero_turns_the_cap_off() -> None:
    limits = EdgeLimits(header_timeout_s=10, per_address=0)
    assert all(limits.acquire(FAR) for _ in range(1000))
    assert not limits.counts(FAR)


def test_one_ipv6_network_shares_one_count_however_its_addresses_are_spelt() -> None:
    limits = EdgeLimits(header_timeout_s=10, per_address=2, ipv6_prefix=64)
    # RFC 3849 documentation prefix: two hosts of one /64, and one spelt out in full.
    assert limits.acquire("2001:db8:1:2::a")
    assert limits.acquire("2001:0db8:0001:0002:0000:0000:0000:000b")
    assert not limits.acquire("2001:db8:1:2::c"), "the /64 has used its two"
    assert limits.acquire("2001:db8:1:3::a"), "the next /64 is another client"
    limits.release("2001:db8:1:2::a")
    assert limits.acquire("2001:db8:1:2:ffff::1")
