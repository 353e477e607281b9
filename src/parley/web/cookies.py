"""The cookies HTTP sets besides the session's (its name is parley.credentials')."""

from __future__ import annotations

CSRF_COOKIE = "parley_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE_S = 60 * 60 * 24 * 365
