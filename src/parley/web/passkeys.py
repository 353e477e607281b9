"""Passkeys over HTTP: /api/auth/passkeys (options, sign-in, registration, my list)."""

from __future__ import annotations

from pydantic import ValidationError
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import passkeys
from parley.errors import BadInput
from parley.web.auth import signed_in_response
from parley.web.deps import client_ip, ctx, relying_party, require_auth
from parley.web.schemas import (
    PasskeyLoginBody,
    PasskeyNameBody,
    PasskeyRegisterBody,
    PasswordConfirmBody,
)

bp = Blueprint("passkeys", __name__)


@bp.post("/api/auth/passkeys/login/options")
async def login_options() -> Response:
    return jsonify(await passkeys.login_options(ctx(), relying_party(), ip=client_ip()))


@bp.post("/api/auth/passkeys/login")
@validate_request(PasskeyLoginBody)
async def login(data: PasskeyLoginBody) -> Response:
    signed_in = await passkeys.sign_in(
        ctx(),
        relying_party(),
        data.credential,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return signed_in_response(signed_in, 200)


@bp.post("/api/auth/passkeys/register/options")
async def register_options() -> Response:
    auth = await require_auth()
    # No body is needed; a password may come for a session signed in a while ago.
    try:
        data = PasswordConfirmBody.model_validate(await request.get_json() or {})
    except ValidationError:
        raise BadInput("password must be text.", code="invalid_request") from None
    options = await passkeys.register_options(
        ctx(), relying_party(), auth.account, auth.session_id, data.password
    )
    return jsonify(options)


@bp.post("/api/auth/passkeys/register")
@validate_request(PasskeyRegisterBody)
async def register(data: PasskeyRegisterBody) -> Response:
    auth = await require_auth()
    passkey = await passkeys.register(ctx(), relying_party(), auth.user, data.credential, data.name)
    response = jsonify({"passkey": passkey})
    response.status_code = 201
    return response


@bp.get("/api/auth/passkeys")
async def mine() -> Response:
    auth = await require_auth()
    return jsonify({"passkeys": await passkeys.my_passkeys(ctx(), auth.user.id)})


@bp.patch("/api/auth/passkeys/<int:passkey_id>")
@validate_request(PasskeyNameBody)
async def rename(passkey_id: int, data: PasskeyNameBody) -> Response:
    auth = await require_auth()
    found = await passkeys.rename(ctx(), auth.user.id, passkey_id, data.name)
    return jsonify({"passkey": found})


@bp.delete("/api/auth/passkeys/<int:passkey_id>")
async def delete(passkey_id: int) -> Response:
    auth = await require_auth()
    await passkeys.remove(ctx(), auth.account, passkey_id)
    return Response(status=204)
