"""OpenID Connect sign-in over HTTP: /api/auth/oidc/* and /api/me/oidc (docs/api.md).

The login and callback URLs are browser navigations, not API calls: their errors go
back to the sign-in page (``/login?oidc_error=CODE``) for a browser that asked for a
page, and in the contract's JSON shape for anything else.
"""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, Response, jsonify, request

from parley.domain import oidc
from parley.errors import ParleyError, RateLimited
from parley.web.auth import set_session_cookies
from parley.web.deps import client_ip, ctx, current_auth, is_https, require_auth
from parley.web.errors import error_response

bp = Blueprint("oidc", __name__)

# Binds a sign-in in progress to the browser that started it. Lax: it must come back
# with the provider's cross-site redirect to the callback (a top-level GET).
BINDING_COOKIE = "parley_oidc"
BINDING_PATH = "/api/auth/oidc"


def _login_url(provider_id: str) -> str:
    return f"{BINDING_PATH}/{quote(provider_id)}/login"


def _redirect_uri(provider_id: str) -> str:
    """The callback URL the provider sends the browser back to (registered with it)."""
    base = ctx().settings.public_url.rstrip("/")
    if not base:
        base = f"{'https' if is_https() else 'http'}://{request.host}"
    return f"{base}{BINDING_PATH}/{quote(provider_id)}/callback"


def _redirect(location: str, status: int) -> Response:
    return Response("", status=status, headers={"Location": location, "Cache-Control": "no-store"})


def _wants_page() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _failed(exc: ParleyError) -> Response:
    """A browser goes back to the sign-in page, which explains the code; others get JSON."""
    if _wants_page():
        response = _redirect(f"/login?oidc_error={quote(exc.code)}", 303)
    else:
        response = error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    response.delete_cookie(BINDING_COOKIE, path=BINDING_PATH)
    return response


def _bind(response: Response, browser_secret: str) -> None:
    response.set_cookie(
        BINDING_COOKIE,
        browser_secret,
        max_age=oidc.LOGIN_TTL_S,
        httponly=True,
        samesite="Lax",
        secure=is_https(),
        path=BINDING_PATH,
    )


@bp.get("/api/auth/oidc/providers")
async def providers() -> Response:
    return jsonify(
        {
            "providers": [
                {"id": p.id, "label": p.label, "login_url": _login_url(p.id)}
                for p in oidc.providers(ctx())
            ],
            "password_login": oidc.password_login_allowed(ctx()),
        }
    )


@bp.get("/api/auth/oidc/<provider_id>/login")
async def login(provider_id: str) -> Response:
    try:
        begun = await oidc.begin(ctx(), provider_id, _redirect_uri(provider_id), ip=client_ip())
    except ParleyError as exc:
        return _failed(exc)
    response = _redirect(begun.url, 302)
    _bind(response, begun.browser_secret)
    return response


@bp.post("/api/auth/oidc/<provider_id>/link")
async def link(provider_id: str) -> Response:
    """Start linking the signed-in account: the page then sends the browser to ``login_url``."""
    auth = await require_auth()
    begun = await oidc.begin(
        ctx(), provider_id, _redirect_uri(provider_id), ip=client_ip(), link_user_id=auth.user.id
    )
    response = jsonify({"login_url": begun.url})
    _bind(response, begun.browser_secret)
    return response


@bp.get("/api/auth/oidc/<provider_id>/callback")
async def callback(provider_id: str) -> Response:
    auth = await current_auth()
    try:
        finished = await oidc.finish(
            ctx(),
            provider_id,
            _redirect_uri(provider_id),
            {
                key: request.args.get(key, "")
                for key in ("state", "code", "error")
                if key in request.args
            },
            browser_secret=request.cookies.get(BINDING_COOKIE, ""),
            signed_in_user_id=auth.user.id if auth is not None and auth.by_cookie else None,
            ip=client_ip(),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ParleyError as exc:
        return _failed(exc)
    response = _redirect("/", 303)
    response.delete_cookie(BINDING_COOKIE, path=BINDING_PATH)
    if finished.signed_in is not None:
        set_session_cookies(response, finished.signed_in)
    return response


@bp.get("/api/me/oidc")
async def my_links() -> Response:
    auth = await require_auth()
    found = await oidc.links(ctx(), auth.user.id)
    return jsonify(
        {
            "links": [
                {
                    "provider": chosen.id if chosen else None,
                    "label": chosen.label if chosen else issuer,
                    "issuer": issuer,
                    "linked_at": linked_at,
                }
                for chosen, issuer, linked_at in found
            ]
        }
    )


@bp.delete("/api/me/oidc/<provider_id>")
async def unlink(provider_id: str) -> Response:
    auth = await require_auth()
    await oidc.unlink(ctx(), auth.user.id, auth.account.password_hash, provider_id)
    return Response(status=204)
