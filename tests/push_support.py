"""A Web Push service inside the test: it takes Parley's POSTs as a push service would.

Each request is checked as a real service checks it (RFC 8292): the ``vapid t=,k=``
Authorization header's JWT is signed (ES256) by the key ``k``, which must be the
server's public key, with ``aud`` the endpoint's origin, ``exp`` within 24 hours and
a ``sub`` contact. The body is decrypted (RFC 8291, aes128gcm) with the private key of
the browser the subscription stands for, and kept with its headers and arrival time.
A subscription can be told to answer another status, or to answer slowly.
"""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """What a browser keeps for one subscription: its private key and auth secret."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    status: int = 201
    delay_s: float = 0.0

    def subscription(self) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class Pushed:
    browser: str
    at: float  # time.time() when the request arrived
    headers: dict[str, str]
    payload: dict[str, Any] | None  # decrypted; None when the request failed a check
    problems: list[str] = field(default_factory=list)


def verify_vapid(authorization: str, audience: str, server_key: str) -> list[str]:
    """What is wrong with a VAPID Authorization header (nothing: [])."""
    problems = []
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        return [f"scheme {scheme!r}"]
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    if parts.get("k") != server_key:
        problems.append("k is not the server's public key")
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    header = orjson.loads(unb64url(header_b64))
    if header.get("alg") != "ES256":
        problems.append(f"alg {header.get('alg')}")
    claims = orjson.loads(unb64url(claims_b64))
    if claims.get("aud") != audience:
        problems.append(f"aud {claims.get('aud')!r} != {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not time.time() < exp <= time.time() + 24 * 3600:
        problems.append(f"exp {exp!r}")
    sub = claims.get("sub", "")
    if not (isinstance(sub, str) and sub.startswith(("mailto:", "https://"))):
        problems.append(f"sub {sub!r}")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    raw = unb64url(signature_b64)
    signature = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    try:
        public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        problems.append("bad signature")
    return problems


class PushService:
    """``http://127.0.0.1:<port>/push/<name>``: one endpoint per Browser."""

    def __init__(self) -> None:
        self.server_key = ""  # the server's VAPID public key, set by the test
        self.browsers: dict[str, Browser] = {}
        self.pushed: list[Pushed] = []
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                service._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    @staticmethod
    def browser_keys() -> dict[str, str]:
        """Keys of a browser nobody will decrypt for (an endpoint that is down)."""
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}

    def browser(self, name: str | None = None) -> Browser:
        name = name or os.urandom(6).hex()
        browser = Browser(
            name=name,
            endpoint=f"{self.origin}/push/{name}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
        )
        with self._lock:
            self.browsers[name] = browser
        return browser

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.time()
        name = handler.path.rsplit("/", 1)[-1]
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length)
        browser = self.browsers.get(name)
        if browser is None:
            handler.send_response(404)
            handler.end_headers()
            return
        headers = {k.lower(): v for k, v in handler.headers.items()}
        problems = verify_vapid(headers.get("authorization", ""), self.origin, self.server_key)
        if headers.get("content-encoding") != "aes128gcm":
            problems.append(f"content-encoding {headers.get('content-encoding')!r}")
        payload = None
        try:
            clear = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
            payload = orjson.loads(clear)
        except Exception as exc:  # a failure to decrypt is what the test must see
            problems.append(f"cannot decrypt: {exc!r}")
        with self._lock:
            self.pushed.append(Pushed(name, arrived, headers, payload, problems))
        if browser.delay_s:
            time.sleep(browser.delay_s)
        handler.send_response(browser.status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def to(self, browser: Browser) -> list[Pushed]:
        with self._lock:
            return [p for p in self.pushed if p.browser == browser.name]

    async def wait_for(
        self, browser: Browser, count: int = 1, timeout: float = 10.0
    ) -> list[Pushed]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(browser)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{len(self.to(browser))} of {count} pushes to {browser.name}")
