"""What Parley knows of each OpenID provider: its discovery document and signing keys.

Both are fetched on first use and kept in this process: the discovery document for an
hour, the keys until a token names a key id they lack (a provider rotating its keys),
when they are fetched again, at most once a minute, so that tokens with made-up key
ids cannot make Parley hammer the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from parley.domain.oidc_providers import OidcProvider
from parley.errors import Unavailable

log = logging.getLogger(__name__)

DISCOVERY_TTL_S = 3600.0
KEYS_REFRESH_MIN_S = 60.0
HTTP_TIMEOUT_S = 10.0
# A discovery document, key set or token answer is a few kilobytes; a provider sending
# megabytes is broken or hostile.
MAX_DOCUMENT_BYTES = 512 * 1024
# Asymmetric signatures only: "none" is no signature, and HS* would be keyed with the
# client secret, which more parties know than the provider's private key.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # Where the profile claims are when the ID token leaves them out ("" if none).
    userinfo_endpoint: str
    algorithms: tuple[str, ...]
    # client_secret_basic unless the provider takes only client_secret_post.
    token_auth_method: str


@dataclass
class _Known:
    metadata: ProviderMetadata
    fetched_at: float
    keys: KeySet | None = None
    keys_fetched_at: float = 0.0


@dataclass
class OidcMetadata:
    """The per-process cache of providers' metadata and keys (one per Context)."""

    clock: Callable[[], float] = field(default=time.monotonic)
    _known: dict[str, _Known] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def metadata(self, provider: OidcProvider) -> ProviderMetadata:
        known = await self._fresh(provider)
        return known.metadata

    async def keys(self, provider: OidcProvider, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys; ``refresh`` fetches them again unless that was
        done within KEYS_REFRESH_MIN_S."""
        known = await self._fresh(provider)
        async with self._lock(provider.id):
            stale = self.clock() - known.keys_fetched_at >= KEYS_REFRESH_MIN_S
            if known.keys is None or (refresh and stale):
                document = await fetch_json(known.metadata.jwks_uri)
                try:
                    known.keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError) as exc:
                    raise _unavailable(provider, f"its key set is not usable ({exc})") from exc
                known.keys_fetched_at = self.clock()
            return known.keys

    def _lock(self, provider_id: str) -> asyncio.Lock:
        return self._locks.setdefault(provider_id, asyncio.Lock())

    async def _fresh(self, provider: OidcProvider) -> _Known:
        async with self._lock(provider.id):
            known = self._known.get(provider.id)
            if known is None or self.clock() - known.fetched_at >= DISCOVERY_TTL_S:
                url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
                metadata = _parse_discovery(provider, await fetch_json(url))
                known = _Known(metadata, self.clock())
                self._known[provider.id] = known
            return known


async def fetch_json(url: str, *, bearer: str | None = None) -> dict[str, Any]:
    """A JSON object from ``url`` (sent ``bearer`` as the access token, when given);
    Unavailable when unreachable, refused or not JSON."""
    headers = {"Accept": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    status, document = await request_json("GET", url, headers=headers)
    if status != 200 or document is None:
        log.warning("OpenID provider document %s unavailable: HTTP %s", url, status)
        raise Unavailable(
            "The sign-in provider sent something unusable; try again later.",
            code="oidc_unavailable",
        )
    return document


async def request_json(
    method: str, url: str, *, headers: dict[str, str], content: str | None = None
) -> tuple[int, dict[str, Any] | None]:
    """One request to a provider: its status and JSON object (None when the body is not
    one). Unavailable when the provider cannot be reached or answers past the limits."""
    try:
        async with (
            httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client,
            client.stream(method, url, headers=headers, content=content) as response,
        ):
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ValueError("answer too large")
            status = response.status_code
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("OpenID provider at %s unreachable: %s", url, exc)
        raise Unavailable(
            "The sign-in provider can't be reached right now; try again later.",
            code="oidc_unavailable",
        ) from exc
    try:
        document = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        return status, None
    return status, document if isinstance(document, dict) else None


def _parse_discovery(provider: OidcProvider, document: dict[str, Any]) -> ProviderMetadata:
    # OpenID Connect Discovery 1.0, 4.3: the issuer in the document must be the one
    # configured, or an impostor's document could name its own keys.
    if document.get("issuer") != provider.issuer:
        raise _unavailable(
            provider, f"its discovery document names issuer {document.get('issuer')!r}"
        )
    endpoints: dict[str, str] = {}
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(key)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise _unavailable(provider, f"its discovery document has no usable {key}")
        endpoints[key] = value
    userinfo = document.get("userinfo_endpoint")
    if not isinstance(userinfo, str) or not userinfo.startswith(("https://", "http://")):
        userinfo = ""
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in offered if a in SIGNING_ALGORITHMS)
    if not algorithms:
        raise _unavailable(provider, f"it signs ID tokens only with {offered!r}")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = (
        "client_secret_post"
        if "client_secret_basic" not in methods and "client_secret_post" in methods
        else "client_secret_basic"
    )
    return ProviderMetadata(
        issuer=provider.issuer,
        algorithms=algorithms,
        token_auth_method=method,
        userinfo_endpoint=userinfo,
        **endpoints,
    )


def _unavailable(provider: OidcProvider, why: str) -> Unavailable:
    log.warning("OpenID provider %r unusable: %s", provider.id, why)
    return Unavailable(
        "The sign-in provider is not set up correctly; tell the operator.",
        code="oidc_unavailable",
    )
