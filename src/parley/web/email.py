"""A person's email address: PUT /api/me/email, POST /api/me/email/verify."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from parley.domain import emails
from parley.web.deps import ctx, is_https, require_auth
from parley.web.schemas import EmailBody, TokenBody

bp = Blueprint("email", __name__)


def request_origin() -> str:
    scheme = "https" if is_https() else "http"
    return f"{scheme}://{request.headers.get('Host', '')}"


@bp.put("/api/me/email")
@validate_request(EmailBody)
async def set_email(data: EmailBody) -> Response:
    auth = await require_auth()
    sent = await emails.set_email(ctx(), auth.account, data.email, request_origin())
    return jsonify({"verification_sent": sent})


@bp.post("/api/me/email/verify")
@validate_request(TokenBody)
async def verify_email(data: TokenBody) -> Response:
    # No session needed: the signed token is the proof (the link may open elsewhere).
    await emails.verify_email(ctx(), data.token)
    return Response(status=204)
