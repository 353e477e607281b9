"""Signed tokens for links sent by mail: what they say, for what purpose, until when.

A token is ``<base64url JSON>.<base64url HMAC-SHA256>`` keyed by the server's secret and
the purpose, so a token made for one purpose (verifying an address) is worthless for
another (unsubscribing). Nothing is stored: the signature and the expiry are the proof.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson

MAX_TOKEN_LENGTH = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    key = hashlib.sha256(f"parley-signed:{purpose}:{secret}".encode()).digest()
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign(secret: str, purpose: str, claims: dict[str, Any], ttl_s: float | None) -> str:
    """A token for ``claims``; ``ttl_s`` None: it never expires (unsubscribe links)."""
    payload = dict(claims)
    if ttl_s is not None:
        payload["exp"] = int(time.time() + ttl_s)
    body = _b64(orjson.dumps(payload))
    return f"{body}.{_mac(secret, purpose, body)}"


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time equality of a secret someone sent with the one expected.

    Compared as UTF-8 bytes: ``hmac.compare_digest`` raises TypeError for a str with
    non-ASCII characters, so a token or header with one must be a refusal, not a 500.
    """
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode())


def unsign(secret: str, purpose: str, token: str) -> dict[str, Any] | None:
    """The claims of a good, unexpired token for ``purpose``; None for any other."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    if not same_secret(mac, _mac(secret, purpose, body)):
        return None
    try:
        claims = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int) or exp < time.time()):
        return None
    return claims
