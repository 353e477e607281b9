"""The installable app over HTTP: the manifest, its icons and the service worker."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from PIL import Image

from tests.support import ServerProcess

STATIC = Path(__file__).resolve().parents[2] / "src" / "parley" / "static"


async def test_the_manifest_names_parley_and_icons_at_the_standard_sizes(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.get("/manifest.webmanifest")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/manifest+json"
        manifest = r.json()
        assert manifest["name"] == "Parley"
        assert manifest["display"] == "standalone"
        assert manifest["start_url"] == "/" and manifest["scope"] == "/"
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
        sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
        for icon in manifest["icons"]:
            got = await http.get(icon["src"])
            assert got.status_code == 200
            assert got.headers["content-type"] == "image/png"
            width = int(icon["sizes"].split("x")[0])
            assert Image.open(STATIC / icon["src"].removeprefix("/static/")).size == (width,) * 2
        page = (await http.get("/")).text
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page
        touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page)
        assert touch and (await http.get(touch.group(1))).status_code == 200


async def test_the_worker_is_served_from_the_root_never_from_a_stale_cache(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.get("/sw.js")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["service-worker-allowed"] == "/"
        csp = r.headers["content-security-policy"]
        assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
        script = r.text
        release = r.headers["x-parley-release"]
        assert f'const RELEASE = "{release}";' in script
        assert "__PARLEY_" not in script  # every placeholder filled in
        # The shell it caches is every file of the client, each one served.
        shell = re.search(r"const SHELL = (\[.*?\]);", script)
        assert shell
        files = re.findall(r'"([^"]+)"', shell.group(1))
        assert files[0] == "/"
        assert "/static/js/app.js" in files and "/static/pwa/icon-192.png" in files
        for path in files[:5]:
            assert (await http.get(path)).status_code == 200
        # Whatever another feature adds as static/js/sw-*.js is imported, nothing else.
        imported = re.findall(r'importScripts\("([^"]+)"\)', script)
        expected = sorted(f"/static/js/{p.name}" for p in (STATIC / "js").glob("sw-*.js"))
        assert imported == expected


async def test_the_release_changes_with_the_operators_label(tmp_path: Path) -> None:
    releases = []
    for label in ("one", "two"):
        proc = ServerProcess(tmp_path / label, env={"PARLEY_RELEASE": label}).start()
        try:
            async with httpx.AsyncClient(base_url=proc.url, timeout=30) as http:
                releases.append((await http.get("/sw.js")).headers["x-parley-release"])
        finally:
            proc.stop()
    assert releases[0] != releases[1]
