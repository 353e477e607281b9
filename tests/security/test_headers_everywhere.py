"""Issue 19 item 10: the answers given outside Quart carry the page-hardening headers too.

``POST /api/files`` is answered by a raw ASGI handler (parley.web.uploads) and ``/ws``
refusals by the WebSocket protocol: neither passed through Quart's after_request hook,
and both went out without Content-Security-Policy or X-Frame-Options.
"""

from __future__ import annotations

import httpx
import pytest
import websockets

from tests.support import Person, ServerProcess


def _assert_hardened(headers: httpx.Headers | websockets.datastructures.Headers) -> None:
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


async def test_upload_answers_carry_the_headers(server: ServerProcess, ana: Person) -> None:
    stored = await ana.http.post("/api/files", files={"file": ("a.txt", b"hello", "text/plain")})
    assert stored.status_code == 201
    _assert_hardened(stored.headers)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        refused = await http.post("/api/files", files={"file": ("a.txt", b"x", "text/plain")})
    assert refused.status_code == 401
    _assert_hardened(refused.headers)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Origin": "https://evil.example"}, 403)],
)
async def test_websocket_refusals_carry_the_headers(
    server: ServerProcess, ana: Person, headers: dict[str, str], status: int
) -> None:
    if status == 403:
        headers = {**headers, "Authorization": f"Bearer {ana.token}"}
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(server.ws_url, additional_headers=headers):
            pass
    assert refused.value.response.status_code == status
    _assert_hardened(refused.value.response.headers)
