"""Link previews (issue 23): the card arrives after the message, from a page the server
fetched safely; and the break-in test: every way of pointing the server at an address
only it can reach ends with no request made and no preview.

The server here allows one local test site (PARLEY_PREVIEW_ALLOW=127.0.0.1:<port>, the
setting that exists for tests only); a second local site, not allowed, stands for the
private network: a request reaching it is a request forgery that worked.
"""

from __future__ import annotations

import asyncio
import io
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.databases import fresh_postgres_database, requested_database_server
from tests.preview_support import Site, local_site
from tests.support import Person, ServerProcess, Socket, sign_up

# Long enough for a refused preview to have been fetched if it were going to be.
QUIET_S = 1.5


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with local_site() as found:
        yield found


@pytest.fixture(scope="module")
def private() -> Iterator[Site]:
    """The "internal network": any request here is a forgery that got through."""
    with local_site() as found:
        yield found


@pytest.fixture(scope="module")
def private_v6() -> Iterator[Site | None]:
    if not socket.has_ipv6:
        yield None
        return
    try:
        with local_site("::1") as found:
            yield found
    except OSError:
        yield None


@pytest.fixture(scope="module")
def preview_server(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("previews") / "data"
    env = {"PARLEY_PREVIEW_ALLOW": f"127.0.0.1:{site.port}"}
    pg_server = requested_database_server()
    if pg_server is None:
        proc = ServerProcess(data_dir, env=env).start()
        yield proc
        proc.stop()
        return
    with fresh_postgres_database(pg_server) as database_url:
        proc = ServerProcess(data_dir, env={**env, "PARLEY_DATABASE_URL": database_url}).start()
        yield proc
        proc.stop()


@pytest.fixture
async def people(preview_server: ServerProcess) -> AsyncIterator[list[Person]]:
    found = [await sign_up(preview_server.url) for _ in range(3)]
    yield found
    for person in found:
        await person.http.aclose()


async def _room(owner: Person, *others: Person) -> int:
    room = await owner.create_room("links-" + uuid.uuid4().hex[:6], "private")
    for other in others:
        await owner.add(room["id"], other)
    return int(room["id"])


async def _no_preview_frames(ws: Socket) -> None:
    await asyncio.sleep(QUIET_S)
    assert not [f for f in await ws.settle() if f["type"] == "preview"]


async def test_a_link_gets_its_preview_after_the_message(people: list[Person], site: Site) -> None:
    ana, ben, cat = people
    room_id = await _room(ana, ben)
    url = f"{site.url}/page?title=Parley+{uuid.uuid4().hex[:6]}"
    async with ben.socket() as ben_ws, ana.socket() as ana_ws:
        ack = await ana_ws.send_message(room_id, f"look at this: {url}.")
        message = ack["message"]
        assert message["preview"] is None  # sent at once, without waiting for the page
        frame = await ben_ws.expect("preview", message_id=message["id"], timeout=15)
        await ana_ws.expect("preview", message_id=message["id"], timeout=5)
    preview = frame["preview"]
    assert frame["room_id"] == room_id
    assert preview["url"] == url  # the trailing full stop is prose, not URL
    assert preview["title"].startswith("Parley ")
    assert preview["description"] == "A <b>safe</b> description"  # text, never markup
    assert preview["site_name"] == "Test site"
    image_url = preview["image_url"]
    assert image_url.startswith("/api/previews/")
    assert "127.0.0.1" not in image_url  # served by Parley, never hot-linked
    got = await ben.http.get(image_url)
    assert got.status_code == 200
    assert got.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(got.content)).size == (120, 60)
    # From now on the message carries it.
    history = await ben.history(room_id)
    assert history[-1]["preview"] == preview
    # Someone in no room that shows it cannot fetch the image.
    assert (await cat.http.get(image_url)).status_code == 404
    # The same URL again: from the cache, no second fetch.
    fetched = site.paths().count(url.removeprefix(site.url))
    async with ben.socket() as ben_ws:
        again = (await ana.post(room_id, url)).json()["message"]
        await ben_ws.expect("preview", message_id=again["id"], timeout=10)
    assert site.paths().count(url.removeprefix(site.url)) == fetched
    # A former member loses the image with the room.
    assert (await ben.http.delete(f"/api/rooms/{room_id}/members/me")).status_code == 204
    assert (await ben.http.get(image_url)).status_code == 404


async def test_a_page_with_only_a_title_still_gets_a_card(people: list[Person], site: Site) -> None:
    ana, ben, _ = people
    room_id = await _room(ana, ben)
    async with ben.socket() as ben_ws:
        message = (await ana.post(room_id, f"{site.url}/title-only?{uuid.uuid4().hex}")).json()
        frame = await ben_ws.expect("preview", message_id=message["message"]["id"], timeout=15)
    assert frame["preview"]["title"] == "Only a title"
    assert frame["preview"]["image_url"] is None


async def test_room_and_personal_switches_turn_previews_off(
    people: list[Person], site: Site
) -> None:
    ana, ben, _ = people
    room_id = await _room(ana, ben)
    # Only the room's owner and admins switch it.
    r = await ben.http.put(f"/api/rooms/{room_id}/previews", json={"enabled": False})
    assert r.status_code == 403
    r = await ana.http.put(f"/api/rooms/{room_id}/previews", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert (await ben.http.get(f"/api/rooms/{room_id}/previews")).json()["enabled"] is False
    before = len(site.hits)
    async with ben.socket() as ben_ws:
        await ana.post(room_id, f"{site.url}/page?room-off-{uuid.uuid4().hex}")
        await _no_preview_frames(ben_ws)
    assert len(site.hits) == before
    await ana.http.put(f"/api/rooms/{room_id}/previews", json={"enabled": True})
    # Ben does not want previews made for his messages.
    r = await ben.http.put("/api/me/previews", json={"generate": False})
    assert r.json()["previews"] == {"show": True, "generate": False}
    async with ana.socket() as ana_ws:
        await ben.post(room_id, f"{site.url}/page?person-off-{uuid.uuid4().hex}")
        await _no_preview_frames(ana_ws)
    assert len(site.hits) == before
    r = await ben.http.put("/api/me/previews", json={"show": False, "generate": True})
    assert r.json()["previews"] == {"show": False, "generate": True}
    assert (await ben.http.get("/api/me/previews")).json()["previews"]["show"] is False
    r = await ben.http.put("/api/me/previews", json={"show": "no"})
    assert r.status_code == 400


async def test_pages_of_the_wrong_type_or_size_give_no_preview(
    people: list[Person], site: Site
) -> None:
    ana, ben, _ = people
    room_id = await _room(ana, ben)
    async with ben.socket() as ben_ws:
        for path in ("/plain", "/huge", "/missing"):
            await ana.post(room_id, f"{site.url}{path}?{uuid.uuid4().hex}")
        await _no_preview_frames(ben_ws)


async def test_a_persons_preview_budget_runs_out(preview_server: ServerProcess, site: Site) -> None:
    ana = await sign_up(preview_server.url)
    try:
        room_id = await _room(ana)
        tag = uuid.uuid4().hex
        for n in range(30):
            r = await ana.post(room_id, f"{site.url}/page?budget-{tag}-{n}")
            assert r.status_code == 201  # the messages themselves are never refused
        await asyncio.sleep(QUIET_S * 2)
        fetched = [p for p in site.paths() if f"budget-{tag}" in p]
        assert 15 <= len(fetched) <= 22, len(fetched)
    finally:
        await ana.http.aclose()


def _forgeries(site: Site, private: Site, private_v6: Site | None) -> list[str]:
    p = private.port
    urls = [
        f"http://127.0.0.1:{p}/loopback",
        f"http://localhost:{p}/a-name-resolving-to-loopback",
        f"http://localhost.:{p}/trailing-dot",
        f"http://2130706433:{p}/decimal",
        f"http://0x7f.0.0.1:{p}/hex",
        f"http://0177.0.0.1:{p}/octal",
        f"http://127.1:{p}/short",
        f"http://[::ffff:127.0.0.1]:{p}/mapped",
        f"http://[::ffff:7f00:1]:{p}/mapped-hex",
        f"http://[::1]:{p}/ipv6-loopback",
        f"http://0.0.0.0:{p}/unspecified",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.64.0.1/cgnat",
        "http://10.0.0.1/private",
        "http://192.168.1.1/private",
        "http://224.0.0.1/multicast",
        f"http://user:pw@127.0.0.1:{site.port}/page?credentials",
        # The allowed site is allowed on its own port only: a redirect anywhere else
        # is checked like a new link, and refused.
        f"{site.url}/redirect?to=http://127.0.0.1:{p}/via-redirect",
        f"{site.url}/redirect?to=http://localhost:{p}/via-redirect-name",
        f"{site.url}/redirect?to=http://169.254.169.254/via-redirect-metadata",
        f"{site.url}/redirect?to=http://[::1]:{p}/via-redirect-v6",
    ]
    if private_v6 is not None:
        urls.append(f"http://[::1]:{private_v6.port}/ipv6-listener")
    return urls


async def test_break_in_no_route_reaches_a_private_address(
    preview_server: ServerProcess, site: Site, private: Site, private_v6: Site | None
) -> None:
    # Fresh people: each forgery costs a fetch from the author's budget.
    people = [await sign_up(preview_server.url) for _ in range(3)]
    ana, ben, mallory = people
    try:
        room_id = await _room(mallory, ben, ana)
        sent = []
        async with ben.socket() as ben_ws:
            for index, url in enumerate(_forgeries(site, private, private_v6)):
                author = mallory if index % 2 else ana  # two budgets: the list is long
                sent.append((await author.post(room_id, f"see {url}")).json()["message"]["id"])
            # A control link, last: its preview arriving shows previews work here.
            control = (await mallory.post(room_id, f"{site.url}/page?control")).json()
            await ben_ws.expect("preview", message_id=control["message"]["id"], timeout=15)
            await asyncio.sleep(QUIET_S)
            frames = [f for f in await ben_ws.settle() if f["type"] == "preview"]
        assert frames == [], frames
        assert private.hits == []
        if private_v6 is not None:
            assert private_v6.hits == []
        history = {m["id"]: m for m in await ben.history(room_id)}
        assert all(history[i]["preview"] is None for i in sent)
        # The redirects were asked of the allowed site, and went no further.
        assert sum(1 for p in site.paths() if p.startswith("/redirect")) == 4
        assert "/page?credentials" not in site.paths()
        # And each was refused for what it is, before any connection to it.
        log = preview_server.log()
        for url in _forgeries(site, private, private_v6):
            line = next((ln for ln in log.splitlines() if f"no preview for {url}:" in ln), "")
            assert "non-public address" in line or "credentials" in line, (url, line)
    finally:
        for person in people:
            await person.http.aclose()


async def test_break_in_an_allowed_page_cannot_point_the_image_or_oembed_inside(
    people: list[Person], site: Site, private: Site
) -> None:
    """The page's image and oEmbed links are fetched by the same rules: a page may name
    a private address, and gets a card without that image."""
    ana, ben, _ = people
    room_id = await _room(ana, ben)
    inside = f"http://127.0.0.1:{private.port}"
    url = (
        f"{site.url}/page?title=Inside+job&image={inside}/secret.png"
        f"&oembed={inside}/oembed.json&{uuid.uuid4().hex}"
    )
    async with ben.socket() as ben_ws:
        message = (await ana.post(room_id, url)).json()["message"]
        frame = await ben_ws.expect("preview", message_id=message["id"], timeout=15)
    assert frame["preview"]["title"] == "Inside job"
    assert frame["preview"]["image_url"] is None
    assert private.hits == []


def test_the_allow_setting_is_documented_as_for_tests_only() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "PARLEY_PREVIEW_ALLOW" in line)
    assert "tests only" in line.lower()
