"""Accounts and sessions over HTTP: /api/auth/*, /api/me, /api/sessions."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley import mail
from parley.credentials import SESSION_COOKIE
from parley.domain import accounts, lifecycle, passkeys, recovery, signup
from parley.domain.accounts import SecondFactor, SignedIn
from parley.domain.models import Account
from parley.domain.server_settings import server_settings
from parley.domain.session_lifetime import SessionLifetime
from parley.web.cookies import CSRF_COOKIE, SESSION_MAX_AGE_S
from parley.web.deps import (
    client_ip,
    csrf_token_for,
    ctx,
    is_https,
    relying_party,
    require_auth,
)
from parley.web.schemas import (
    DeleteMeBody,
    LoginBody,
    PasswordBody,
    PasswordResetBody,
    PasswordResetRequestBody,
    ProfileBody,
    RegisterBody,
)

bp = Blueprint("auth", __name__)


def _secure() -> bool:
    return is_https()


def signed_in_response(signed_in: SignedIn, status: int) -> Response:
    response = jsonify(
        {
            "user": signed_in.user,
            "token": signed_in.token,
            "csrf_token": csrf_token_for(signed_in.session_id),
        }
    )
    response.status_code = status
    set_session_cookies(response, signed_in)
    return response


def set_session_cookies(response: Response, signed_in: SignedIn) -> None:
    """The session cookie and the page-readable CSRF cookie of a fresh sign-in."""
    csrf = csrf_token_for(signed_in.session_id)
    # The browser may drop the cookie when the session ends anyway; the server decides.
    max_age = SessionLifetime.from_settings(ctx().settings).cookie_max_age_s or SESSION_MAX_AGE_S
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=_secure(),
        path="/",
    )
    # Readable by the page's script so that it can echo it in the CSRF header.
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="Strict",
        secure=_secure(),
        path="/",
    )


@bp.post("/api/auth/register")
@validate_request(RegisterBody)
async def register(data: RegisterBody) -> Response:
    signed_in = await signup.register(
        ctx(),
        data.username,
        data.password,
        data.display_name,
        data.invite,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return signed_in_response(signed_in, 201)


@bp.get("/api/auth/options")
async def auth_options() -> Response:
    """What the sign-in and sign-up forms offer: the sign-up mode (``open``, ``invite``
    or ``closed``) and whether a forgotten password can be reset by email."""
    context = ctx()
    found = await server_settings(context)
    return jsonify({"signup": found.signup, "email_recovery": mail.mail_enabled(context.settings)})


@bp.post("/api/auth/password-reset/request")
@validate_request(PasswordResetRequestBody)
async def request_password_reset(data: PasswordResetRequestBody) -> tuple[Response, int]:
    """Mail a reset link to the account's verified address; the same 202 whether or not
    there is one."""
    context = ctx()
    base = context.settings.public_url or request.host_url
    await recovery.request_by_email(context, data.login, base, ip=client_ip())
    return jsonify({"requested": True}), 202


@bp.post("/api/auth/password-reset")
@validate_request(PasswordResetBody)
async def password_reset(data: PasswordResetBody) -> Response:
    """Spend a reset link's token on a new password; every session of the account ends."""
    await recovery.reset_password(ctx(), data.token, data.password, ip=client_ip())
    return Response(status=204)


@bp.post("/api/auth/login")
@validate_request(LoginBody)
async def login(data: LoginBody) -> Response:
    second_factor: SecondFactor | None = None
    if data.passkey is not None:
        rp = relying_party()
        answer = passkeys.SecondFactorPasskey(data.passkey, rp.id, rp.origin)
        ip = client_ip()

        async def second_factor(account: Account) -> None:
            await passkeys.check_second_factor(ctx(), account, answer, ip=ip)

    signed_in = await accounts.login(
        ctx(),
        data.username,
        data.password,
        data.otp,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        second_factor=second_factor,
    )
    return signed_in_response(signed_in, 200)


@bp.post("/api/auth/logout")
async def logout() -> Response:
    auth = await require_auth()
    await accounts.logout(ctx(), auth.session_id, auth.user.id)
    response = Response(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@bp.get("/api/me")
async def me() -> Response:
    auth = await require_auth()
    return jsonify(
        {
            "user": auth.user,
            "csrf_token": csrf_token_for(auth.session_id),
            "is_admin": auth.account.is_admin,
            "totp_enabled": auth.account.totp_enabled,
            "email": auth.account.email,
            "email_verified": auth.account.email_verified_at is not None,
            # Whether this server sends mail at all (PARLEY_SMTP_URL).
            "mail_enabled": bool(ctx().settings.smtp_url),
        }
    )


@bp.patch("/api/me")
@validate_request(ProfileBody)
async def update_me(data: ProfileBody) -> Response:
    auth = await require_auth()
    user = await accounts.update_profile(ctx(), auth.user, data.display_name)
    return jsonify({"user": user})


@bp.delete("/api/me")
@validate_request(DeleteMeBody)
async def delete_me(data: DeleteMeBody) -> Response:
    auth = await require_auth()
    await lifecycle.delete_me(
        ctx(),
        auth.account,
        auth.session_id,
        password=data.password,
        otp=data.otp,
        messages=data.messages,
        ip=client_ip(),
    )
    response = Response(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@bp.post("/api/me/password")
@validate_request(PasswordBody)
async def change_password(data: PasswordBody) -> Response:
    auth = await require_auth()
    await accounts.change_password(
        ctx(),
        auth.account,
        auth.session_id,
        data.current_password,
        data.new_password,
        ip=client_ip(),
    )
    return Response(status=204)


@bp.get("/api/sessions")
async def sessions() -> Response:
    auth = await require_auth()
    found = await accounts.my_sessions(ctx(), auth.user.id)
    return jsonify(
        {
            "sessions": [
                {
                    "id": s.id,
                    "created_at": s.created_at,
                    "last_seen_at": s.last_seen_at,
                    "user_agent": s.user_agent,
                    "ip": s.ip,
                    "current": s.id == auth.session_id,
                }
                for s in found
            ]
        }
    )


@bp.delete("/api/sessions/<session_id>")
async def revoke(session_id: str) -> Response:
    auth = await require_auth()
    await accounts.revoke_session(ctx(), auth.user.id, session_id, by=auth.user, ip=client_ip())
    return Response(status=204)


@bp.delete("/api/sessions")
async def revoke_others() -> Response:
    auth = await require_auth()
    count = await accounts.revoke_other_sessions(
        ctx(), auth.user.id, auth.session_id, by=auth.user, ip=client_ip()
    )
    return jsonify({"revoked": count})
