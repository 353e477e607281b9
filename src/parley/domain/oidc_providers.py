"""The OpenID providers an operator configured (PARLEY_OIDC_PROVIDERS), read once at start.

The setting is a JSON list, or the path of a file holding one (so that client secrets
can live in a file only the server may read). Each entry::

    {"id": "google", "label": "Sign in with Google",
     "issuer": "https://accounts.google.com",
     "client_id": "...", "client_secret": "...",
     "username_claim": "preferred_username", "scopes": "openid profile email"}

``username_claim`` and ``scopes`` are optional (the defaults shown). The issuer must be
https, except on a loopback address (a provider run beside the server, as the tests do).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from parley.domain import addresses, text

PROVIDER_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
LABEL_MAX = 64
DEFAULT_USERNAME_CLAIM = "preferred_username"
DEFAULT_SCOPES = "openid profile email"
_KNOWN_KEYS = frozenset(
    {"id", "label", "issuer", "client_id", "client_secret", "username_claim", "scopes"}
)


class ProviderConfigError(ValueError):
    """PARLEY_OIDC_PROVIDERS cannot be used; the message says which entry and why."""


@dataclass(frozen=True, slots=True)
class OidcProvider:
    id: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    username_claim: str = DEFAULT_USERNAME_CLAIM
    scopes: str = DEFAULT_SCOPES


def parse_providers(setting: str) -> tuple[OidcProvider, ...]:
    """The providers of the setting (JSON, or a path to a JSON file); () when blank."""
    raw = setting.strip()
    if not raw:
        return ()
    if not raw.startswith("["):
        try:
            raw = Path(raw).read_text(encoding="utf-8")
        except OSError as exc:
            raise ProviderConfigError(f"cannot read {setting!r}: {exc.strerror}") from None
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        raise ProviderConfigError(f"not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ProviderConfigError("must be a JSON list of providers")
    providers = tuple(_provider(index, entry) for index, entry in enumerate(entries))
    ids = [p.id for p in providers]
    if len(set(ids)) != len(ids):
        raise ProviderConfigError("two providers have the same id")
    return providers


def _provider(index: int, entry: Any) -> OidcProvider:
    where = f"provider {index + 1}"
    if not isinstance(entry, dict):
        raise ProviderConfigError(f"{where}: must be a JSON object")
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        raise ProviderConfigError(f"{where}: unknown keys {unknown}")
    for key in ("id", "label", "issuer", "client_id", "client_secret"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ProviderConfigError(f"{where}: {key!r} is required (text)")
    provider_id = entry["id"]
    if PROVIDER_ID_RE.fullmatch(provider_id) is None:
        raise ProviderConfigError(
            f"{where}: id must be 1 to 32 of a-z 0-9 _ - (it is part of the callback URL)"
        )
    where = f"provider {provider_id!r}"
    if text.name_problem(entry["label"].strip()) or len(entry["label"].strip()) > LABEL_MAX:
        raise ProviderConfigError(f"{where}: label must be one line of at most {LABEL_MAX}")
    # Kept as written: it must equal the ID token's `iss` exactly (some end in "/").
    issuer = entry["issuer"].strip()
    parts = urlsplit(issuer)
    loopback = addresses.is_loopback(parts.hostname or "") or parts.hostname == "localhost"
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ProviderConfigError(f"{where}: issuer must be an https URL")
    if parts.query or parts.fragment:
        raise ProviderConfigError(f"{where}: issuer may not have a query or fragment")
    extra: dict[str, str] = {}
    for key in ("username_claim", "scopes"):
        if key in entry:
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise ProviderConfigError(f"{where}: {key!r} must be text")
            extra[key] = entry[key].strip()
    if "openid" not in extra.get("scopes", DEFAULT_SCOPES).split():
        raise ProviderConfigError(f"{where}: scopes must include 'openid'")
    return OidcProvider(
        id=provider_id,
        label=entry["label"].strip(),
        issuer=issuer,
        client_id=entry["client_id"].strip(),
        client_secret=entry["client_secret"],
        **extra,
    )
