"""A push goes to the address its endpoint was checked to have, under the endpoint's name."""

from __future__ import annotations

from parley.domain.push import pinned


def test_the_request_names_the_checked_address_and_keeps_the_name_for_host_and_tls() -> None:
    url, host, server_name = pinned(
        "https://fcm.googleapis.com/fcm/send/abc:def?x=1", "142.250.74.106"
    )
    assert url == "https://142.250.74.106/fcm/send/abc:def?x=1"
    assert host == "fcm.googleapis.com"
    assert server_name == "fcm.googleapis.com"


def test_a_port_and_an_ipv6_address_are_kept_apart() -> None:
    url, host, server_name = pinned("https://push.example.org:8443/w/1", "2001:db8::7")
    assert url == "https://[2001:db8::7]:8443/w/1"
    assert host == "push.example.org:8443"
    assert server_name == "push.example.org"
