"""The installable app: the web app manifest and the service worker (issue 22).

The service worker's script is served from the root (``/sw.js``) so that its scope is
the whole site, and is built from the template next to this module with the release
filled in: a hash of Parley's version, ``PARLEY_RELEASE`` and every file of the web
client. Any change to the client therefore changes the script's bytes, which is what
makes browsers fetch the new worker, cache the new shell and announce the update.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from quart import Blueprint, Response, current_app

from parley import __version__

bp = Blueprint("pwa", __name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SW_TEMPLATE = Path(__file__).resolve().parent / "sw.js"
# Scripts other features add to the worker (push notifications: static/js/sw-push.js):
# any static/js/sw-*.js is imported by /sw.js, in name order.
SW_EXTENSIONS = "js/sw-*.js"
# The pages that open the client (parley.web.pages.CLIENT_ROUTES) share one shell.
SHELL_PAGE = "/"
# Served at the root, where the page links it (its start_url and scope are the root's).
MANIFEST = STATIC_DIR / "pwa" / "manifest.webmanifest"


def _static_files() -> list[Path]:
    # Hidden names are judged below STATIC_DIR only: an install inside ".venv" is not one.
    return sorted(
        path
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(STATIC_DIR).parts)
    )


@cache
def release_id(label: str) -> str:
    """The client's release: changes with Parley's version, the operator's label and
    the bytes of every static file and of the worker's template."""
    digest = hashlib.sha256(f"{__version__}\0{label}\0".encode())
    digest.update(SW_TEMPLATE.read_bytes())
    for path in _static_files():
        digest.update(path.relative_to(STATIC_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{__version__}-{digest.hexdigest()[:12]}"


@cache
def worker_script(label: str) -> str:
    """/sw.js: the template with the release, the shell to cache and the extensions."""
    shell = [SHELL_PAGE] + [
        f"/static/{path.relative_to(STATIC_DIR).as_posix()}" for path in _static_files()
    ]
    extensions = "".join(
        f'importScripts("/static/{path.relative_to(STATIC_DIR).as_posix()}");\n'
        for path in sorted(STATIC_DIR.glob(SW_EXTENSIONS))
    )
    return (
        SW_TEMPLATE.read_text(encoding="utf-8")
        .replace('"__PARLEY_RELEASE__"', json.dumps(release_id(label)))
        .replace('["__PARLEY_SHELL__"]', json.dumps(shell))
        .replace("/* __PARLEY_EXTENSIONS__ */\n", extensions)
    )


def _label() -> str:
    return str(current_app.extensions["parley"].settings.release)


@bp.get("/manifest.webmanifest")
async def manifest() -> Response:
    response = Response(MANIFEST.read_bytes(), content_type="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
async def service_worker() -> Response:
    response = Response(worker_script(_label()), content_type="text/javascript; charset=utf-8")
    # Browsers re-check the worker on navigations; no-cache makes that a real check.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["X-Parley-Release"] = release_id(_label())
    return response
