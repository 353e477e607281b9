"""A small web site on 127.0.0.1 for link preview tests: pages with OpenGraph tags, an
image, redirects, and a record of every request it answered (so a test can tell that
the server fetched nothing)."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 60), (20, 160, 90)).save(out, "PNG")
    return out.getvalue()


PAGE = """<!doctype html><html><head>
<meta charset="utf-8">
<title>Plain title</title>
<meta property="og:title" content="{title}">
<meta property="og:description" content="A &lt;b&gt;safe&lt;/b&gt; description">
<meta property="og:site_name" content="Test site">
<meta property="og:image" content="{image}">
<link rel="alternate" type="application/json+oembed" href="{oembed}">
</head><body><p>body</p></body></html>"""

TITLE_ONLY = "<html><head><title>Only a title</title></head><body></body></html>"


@dataclass
class Site:
    port: int
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.hits]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    image = _png()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, kind: str, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            site.hits.append((self.path, self.headers.get("Host", "")))
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == "/page":
                title = query.get("title", ["Hello from the test site"])[0]
                picture = query.get("image", ["/image.png"])[0]
                oembed = query.get("oembed", ["/oembed.json"])[0]
                page = PAGE.format(title=title, image=picture, oembed=oembed)
                self._send(200, "text/html; charset=utf-8", page.encode())
            elif parts.path == "/oembed.json":
                self._send(200, "application/json", b'{"provider_name": "Test oEmbed"}')
            elif parts.path == "/title-only":
                self._send(200, "text/html", TITLE_ONLY.encode())
            elif parts.path == "/image.png":
                self._send(200, "image/png", image)
            elif parts.path == "/redirect":
                self._send(302, "text/plain", b"", Location=query["to"][0])
            elif parts.path == "/plain":
                self._send(200, "text/plain", b"<title>not html</title>")
            elif parts.path == "/huge":
                self._send(200, "text/html", b"<title>huge</title>" + b" " * (600 * 1024))
            else:
                self._send(404, "text/plain", b"no")

    return Handler


@contextmanager
def local_site(host: str = "127.0.0.1") -> Iterator[Site]:
    """A site on a free port of ``host``, serving until the block ends."""
    site = Site(0)
    server_class = ThreadingHTTPServer
    if ":" in host:

        class V6Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        server_class = V6Server
    httpd = server_class((host, 0), _handler(site))
    httpd.daemon_threads = True
    site.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
