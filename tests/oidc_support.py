"""OpenID providers for the tests: the real one (Node's certified oidc-provider, started
from tests/oidc/provider.js) and a forger that answers with ID tokens a test signs.

The real provider signs people in at its own login form; `sign_in_at_provider` drives
that form over HTTP as a browser would. The forger stands in for a compromised or
impersonated provider, or a network attacker: it publishes one key set, and its token
endpoint hands back whatever ID token the test put there (signed with any key, with
any claims), so that each of Parley's checks can be shown to refuse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from tests.support import ServerProcess, free_port

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
STARTUP_TIMEOUT_S = 30.0
CLIENT_ID = "parley-test"
CLIENT_SECRET = "parley-test-secret-0123456789abcdef"


class OidcProviderProcess:
    """`node tests/oidc/provider.js`: a real OpenID Provider on 127.0.0.1, a free port.

    ``accounts`` maps a login to its password and the claims of its ID token.
    """

    def __init__(
        self, redirect_uris: list[str], accounts: dict[str, dict[str, Any]], log_path: Path
    ) -> None:
        self.redirect_uris = redirect_uris
        self.accounts = accounts
        self.log_path = log_path
        self.issuer = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OidcProviderProcess:
        node = shutil.which("node")
        if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(
                "the test OpenID provider needs node and `npm ci --prefix tests/oidc`"
            )
        env = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "OIDC_CLIENTS": json.dumps(
                [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "redirect_uris": self.redirect_uris,
                    }
                ]
            ),
            "OIDC_ACCOUNTS": json.dumps(self.accounts),
        }
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [node, str(OIDC_DIR / "provider.js")],
                cwd=OIDC_DIR,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.proc.stdout is not None
        # The first line says where it listens; readline ends when the child does, too.
        reader = threading.Thread(target=self._read_ready, daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT_S)
        if not self.issuer:
            self.stop()
            raise RuntimeError(f"the test OpenID provider did not start:\n{self.log()}")
        return self

    def _read_ready(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line:
            self.issuer = json.loads(line)["issuer"]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()  # the provider stops when its standard input closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()


@contextmanager
def parley_with_provider(
    root: Path,
    provider_id: str,
    label: str,
    accounts: dict[str, dict[str, Any]],
    env: dict[str, str] | None = None,
) -> Iterator[tuple[ServerProcess, OidcProviderProcess]]:
    """A Parley server with the real provider configured as ``provider_id``."""
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/api/auth/oidc/{provider_id}/callback"
    provider = OidcProviderProcess([redirect], accounts, root / "provider.log").start()
    setting = [provider_setting(provider_id, label, provider.issuer)]
    server = ServerProcess(
        root / "data",
        port=port,
        env={"PARLEY_OIDC_PROVIDERS": json.dumps(setting), **(env or {})},
    )
    try:
        server.start()
        yield server, provider
    finally:
        server.stop()
        provider.stop()


def provider_setting(provider_id: str, label: str, issuer: str, **extra: str) -> dict[str, str]:
    return {
        "id": provider_id,
        "label": label,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **extra,
    }


async def start_login(client: httpx.AsyncClient, provider_id: str) -> str:
    """Start signing in at Parley: the provider's authorization URL Parley sends us to."""
    r = await client.get(f"/api/auth/oidc/{provider_id}/login")
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def sign_in_at_provider(
    client: httpx.AsyncClient, authorize_url: str, login: str, password: str
) -> str:
    """Sign in at the real provider's login form, as a browser would, from the
    authorization URL; returns the callback URL the provider sends the browser back
    to (not yet followed, so that a test can replay or alter it)."""
    callback_prefix = str(client.base_url).rstrip("/") + "/"
    url = authorize_url
    for _ in range(12):
        r = await client.get(url)
        if r.status_code == 200 and "<form" in r.text:
            action = r.text.split('action="', 1)[1].split('"', 1)[0]
            r = await client.post(urljoin(url, action), data={"login": login, "password": password})
            assert r.status_code in (302, 303), r.text
        assert r.status_code in (302, 303), (r.status_code, r.text[:500])
        url = urljoin(url, r.headers["location"])
        if url.startswith(callback_prefix):
            return url
    raise AssertionError("the provider never sent the browser back to Parley")


def callback_path(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Forger:
    """A provider whose token endpoint answers with the ID token a test chose.

    It publishes ``key``'s public half as its key set (kid "forge-1"); ``sign`` makes
    tokens with that key or any other. ``token_requests`` keeps what Parley sent.
    """

    server: ThreadingHTTPServer
    key: RSAKey
    next_id_token: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def claims(self, expected_nonce: str, **changes: Any) -> dict[str, Any]:
        """Claims that Parley should accept for a sign-in with ``expected_nonce``, then
        ``changes`` (a value of None removes the claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "forged-subject",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": expected_nonce,
            "preferred_username": "mallory",
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(
        self,
        claims: dict[str, Any],
        key: RSAKey | OctKey | None = None,
        alg: str = "RS256",
        kid: str = "forge-1",
    ) -> str:
        return jwt.encode({"alg": alg, "kid": kid}, claims, key or self.key, algorithms=[alg])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_forger() -> Forger:
    key = RSAKey.generate_key(2048, parameters={"kid": "forge-1", "alg": "RS256", "use": "sig"})
    holder: dict[str, Forger] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            forger = holder["forger"]
            if self.path == "/.well-known/openid-configuration":
                self._json(
                    {
                        "issuer": forger.issuer,
                        "authorization_endpoint": forger.issuer + "/authorize",
                        "token_endpoint": forger.issuer + "/token",
                        "jwks_uri": forger.issuer + "/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                )
            elif self.path == "/jwks":
                self._json({"keys": [forger.key.as_dict(private=False)]})
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            forger = holder["forger"]
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            forger.token_requests.append(
                {k: v[0] for k, v in form.items()}
                | {"authorization": self.headers.get("Authorization", "")}
            )
            self._json(
                {
                    "access_token": "forged-access-token",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": forger.next_id_token,
                }
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["forger"] = forger = Forger(server=server, key=key)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return forger


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
