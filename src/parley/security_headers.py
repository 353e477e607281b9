"""The security headers every HTTP response carries, whichever path answers it.

Quart's responses get them in an ``after_request`` hook (parley.app); the paths that
answer outside Quart (the streamed upload, ``/ws`` refusals) add them from here, so
that no response goes out without them.
"""

from __future__ import annotations


def content_security_policy(files_origin: str = "") -> str:
    """The pages' CSP; ``files_origin`` (a bucket's, with PARLEY_BLOB_PRESIGN) may also
    supply images and media, since file requests are redirected there."""
    extra = f" {files_origin}" if files_origin else ""
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self'{extra} blob: data:; media-src 'self'{extra} blob:; "
        "connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


SECURITY_HEADERS = {
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# The same as raw ASGI header pairs (lower-case names).
SECURITY_HEADER_PAIRS = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
]
