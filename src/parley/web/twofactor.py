"""Two-factor sign-in over HTTP: /api/auth/2fa/setup, enable, disable."""

from __future__ import annotations

from pydantic import ValidationError
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import accounts, twofactor
from parley.errors import BadInput
from parley.web.deps import client_ip, ctx, require_auth
from parley.web.schemas import OtpBody, OtpPasswordBody, PasswordConfirmBody

bp = Blueprint("twofactor", __name__)


@bp.post("/api/auth/2fa/setup")
async def setup() -> Response:
    auth = await require_auth()
    # The contract's setup has no body; a password may come for an older session.
    try:
        data = PasswordConfirmBody.model_validate(await request.get_json() or {})
    except ValidationError:
        raise BadInput("password must be text.", code="invalid_request") from None
    enrolment = await twofactor.setup(ctx(), auth.account, auth.session_id, data.password)
    return jsonify(
        {
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg": enrolment.qr_svg,
        }
    )


@bp.post("/api/auth/2fa/enable")
@validate_request(OtpBody)
async def enable(data: OtpBody) -> Response:
    auth = await require_auth()
    codes = await twofactor.enable(ctx(), auth.account, data.otp, ip=client_ip())
    # Sessions signed in before the second factor was asked for (maybe by whoever made
    # it necessary) live on: the client offers to sign them out (DELETE /api/sessions).
    sessions = await accounts.my_sessions(ctx(), auth.user.id)
    others = sum(1 for s in sessions if s.id != auth.session_id)
    return jsonify({"recovery_codes": codes, "other_sessions": others})


@bp.post("/api/auth/2fa/disable")
@validate_request(OtpPasswordBody)
async def disable(data: OtpPasswordBody) -> Response:
    auth = await require_auth()
    await twofactor.disable(
        ctx(), auth.account, auth.session_id, data.password, data.otp, ip=client_ip()
    )
    return Response(status=204)


@bp.get("/api/auth/2fa")
async def status() -> Response:
    auth = await require_auth()
    left = await twofactor.recovery_codes_left(ctx(), auth.user.id)
    return jsonify({"enabled": auth.account.totp_enabled, "recovery_codes_left": left})
