"""Bot accounts: POST /api/bots, GET /api/bots, DELETE /api/bots/{id}."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint, Response, jsonify
from quart_schema import validate_request

from parley.domain import bots
from parley.web.deps import client_ip, ctx, require_user

bp = Blueprint("bots", __name__)


class BotBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(max_length=64)
    display_name: str | None = Field(default=None, max_length=256)


@bp.post("/api/bots")
@validate_request(BotBody)
async def create_bot(data: BotBody) -> tuple[Response, int]:
    user = await require_user()
    bot, token = await bots.create_bot(
        ctx(), user, data.username, data.display_name, ip=client_ip()
    )
    return jsonify({"bot": bot, "token": token}), 201


@bp.get("/api/bots")
async def list_bots() -> Response:
    user = await require_user()
    return jsonify({"bots": await bots.my_bots(ctx(), user)})


@bp.delete("/api/bots/<int:bot_id>")
async def delete_bot(bot_id: int) -> Response:
    user = await require_user()
    await bots.delete_bot(ctx(), user, bot_id)
    return Response(status=204)
