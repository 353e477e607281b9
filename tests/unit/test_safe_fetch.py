"""The SSRF rules of link previews, through the resolver seam: what a DNS name resolves
to is the test's choice here (the API break-in test uses the system's resolver)."""

from __future__ import annotations

import ipaddress

import pytest

from parley.domain import safe_fetch
from parley.domain.addresses import is_public
from parley.domain.safe_fetch import FetchRefused, fetch, pick_address
from tests.preview_support import local_site

HTML = frozenset({"text/html"})


def resolver(table: dict[str, list[str]]) -> safe_fetch.Resolver:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise FetchRefused(f"cannot resolve {host!r}")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
        "::127.0.0.1",
        "2001:db8::1",
    ],
)
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700::1111"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    names = resolver({"intranet.example": ["10.0.0.5"], "mixed.example": ["1.1.1.1", "10.0.0.5"]})
    with pytest.raises(FetchRefused, match="non-public"):
        await pick_address("intranet.example", 80, allow=frozenset(), resolver=names)
    # One private address among public ones is enough to refuse.
    with pytest.raises(FetchRefused, match="non-public"):
        await pick_address("mixed.example", 80, allow=frozenset(), resolver=names)
    found = await fetch_refusal("http://intranet.example/", names)
    assert "non-public" in found


async def fetch_refusal(url: str, names: safe_fetch.Resolver) -> str:
    with pytest.raises(FetchRefused) as refused:
        await fetch(url, kinds=HTML, max_bytes=1000, resolver=names)
    return str(refused.value)


async def test_schemes_and_credentials_are_refused_before_any_lookup() -> None:
    names = resolver({})
    for url in (
        "file:///etc/passwd",
        "gopher://example.org/",
        "ftp://example.org/",
        "http://user:pass@example.org/",
        "http:///nohost",
        "http://example.org:99999/",
    ):
        await fetch_refusal(url, names)
    assert names.calls == []  # type: ignore[attr-defined]


async def test_the_connection_goes_to_the_checked_address_with_the_name_kept() -> None:
    """No second lookup: the name resolves once (to the test site's address, through the
    seam) and the request still says its own Host, so DNS rebinding has no window."""
    with local_site() as site:
        name = "pinned.example"
        names = resolver({name: ["127.0.0.1"]})
        got = await fetch(
            f"http://{name}:{site.port}/page",
            kinds=HTML,
            max_bytes=100_000,
            allow=frozenset({f"{name}:{site.port}"}),
            resolver=names,
        )
        assert b"og:title" in got.body
        assert site.hits == [("/page", f"{name}:{site.port}")]
        assert names.calls == [name]  # type: ignore[attr-defined]


async def test_a_rebinding_name_is_judged_by_the_answer_used() -> None:
    """A name that answers public for the check and private for the connection is the
    rebinding attack; with one lookup per hop there is no second answer to differ."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    address = await pick_address("rebind.example", 80, allow=frozenset(), resolver=rebinding)
    assert address == "93.184.215.14"


async def test_the_allow_list_matches_the_host_as_written_and_its_port() -> None:
    with local_site() as site:
        allow = frozenset({f"127.0.0.1:{site.port}"})
        names = resolver({"localhost": ["127.0.0.1"]})
        ok = await fetch(
            f"http://127.0.0.1:{site.port}/page", kinds=HTML, max_bytes=100_000, allow=allow
        )
        assert ok.content_type == "text/html"
        for url in (
            f"http://localhost:{site.port}/page",
            f"http://2130706433:{site.port}/page",
            f"http://127.0.0.1:{site.port + 1}/page",
        ):
            with pytest.raises(FetchRefused):
                await fetch(url, kinds=HTML, max_bytes=100_000, allow=allow, resolver=names)
        # Redirects: followed at most MAX_REDIRECTS times.
        hop = f"http://127.0.0.1:{site.port}/page"
        for _ in range(safe_fetch.MAX_REDIRECTS + 1):
            hop = f"http://127.0.0.1:{site.port}/redirect?to={hop}"
        with pytest.raises(FetchRefused, match="too many redirects"):
            await fetch(hop, kinds=HTML, max_bytes=100_000, allow=allow)
        with pytest.raises(FetchRefused, match="too large"):
            await fetch(f"{site.url}/huge", kinds=HTML, max_bytes=512 * 1024, allow=allow)
        with pytest.raises(FetchRefused, match="not wanted"):
            await fetch(f"{site.url}/plain", kinds=HTML, max_bytes=100_000, allow=allow)
