"""Every response carries the page-hardening headers: pages, API, errors, static files."""

from __future__ import annotations

import httpx
import pytest
import websockets

from tests.support import Person, ServerProcess

PATHS = [
    "/",
    "/login",
    "/rooms/12",
    "/static/js/app.js",
    "/static/no-such-file.js",
    "/healthz",
    "/manifest.webmanifest",
    "/sw.js",
    "/openapi.json",
    "/api/me",
    "/api/no-such-route",
    "/api/rooms/not-a-number/messages",
]


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_has_a_strict_policy(server: ServerProcess, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.get(path)
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no CDN
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Frame-Options"] == "DENY"


async def test_a_method_not_allowed_and_a_bad_body_still_get_the_headers(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for r in (
            await http.delete("/healthz"),
            await http.post(
                "/api/auth/login",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            ),
            await http.post(
                "/api/auth/login",
                content=b"x" * (2 * 1024 * 1024),
                headers={"Content-Type": "application/json"},
            ),
        ):
            assert r.status_code in (400, 405, 413)
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
            assert r.json()["error"]["code"]
            assert "Traceback" not in r.text


async def test_api_answers_are_not_cached(ana: Person) -> None:
    r = await ana.http.get("/api/me")
    assert r.headers["Cache-Control"] == "no-store"


async def test_a_websocket_from_another_site_is_refused(ana: Person, server: ServerProcess) -> None:
    headers = {"Authorization": f"Bearer {ana.token}", "Origin": "https://evil.example"}
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(server.ws_url, additional_headers=headers):
            pass
    assert refused.value.response.status_code == 403


async def test_a_websocket_from_a_look_alike_origin_is_refused(
    ana: Person, server: ServerProcess
) -> None:
    host = server.url.removeprefix("http://")
    for origin in (f"http://{host}.evil.example", f"http://evil.example/{host}", "null"):
        headers = {"Authorization": f"Bearer {ana.token}", "Origin": origin}
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(server.ws_url, additional_headers=headers):
                pass


async def test_a_websocket_from_the_page_itself_is_accepted(
    ana: Person, server: ServerProcess
) -> None:
    headers = {"Authorization": f"Bearer {ana.token}", "Origin": server.url}
    async with websockets.connect(server.ws_url, additional_headers=headers) as ws:
        assert '"ready"' in await ws.recv()
