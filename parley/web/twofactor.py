"""Two-factor sign-in over HTTP: /api/auth/2fa/setup, enable, disable."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import twofactor
from parley.web.deps import ctx, require_auth
from parley.web.schemas import OtpBody, OtpPasswordBody, PasswordConfirmBody

bp = Blueprint("twofactor", __name__)


@bp.post("/api/auth/2fa/setup")
@validate_request(PasswordConfirmBody)
async def setup(data: PasswordConfirmBody) -> Response:
    auth = await require_auth()
    enrolment = await twofactor.setup(ctx(), auth.account, data.password)
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
    codes = await twofactor.enable(ctx(), auth.account, data.otp)
    return jsonify({"recovery_codes": codes})


@bp.post("/api/auth/2fa/disable")
@validate_request(OtpPasswordBody)
async def disable(data: OtpPasswordBody) -> Response:
    auth = await require_auth()
    await twofactor.disable(ctx(), auth.account, data.password, data.otp)
    return Response(status=204)


@bp.get("/api/auth/2fa")
async def status() -> Response:
    auth = await require_auth()
    left = await twofactor.recovery_codes_left(ctx(), auth.user.id)
    return jsonify({"enabled": auth.account.totp_enabled, "recovery_codes_left": left})
