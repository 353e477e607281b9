"""The web client's shell and health check."""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Response, jsonify, send_from_directory

bp = Blueprint("pages", __name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CLIENT_ROUTES = (
    "/",
    "/login",
    "/register",
    "/rooms/<path:rest>",
    "/account",
    "/invite/<path:rest>",
    "/admin",
    "/admin/<path:rest>",
    "/reset-password",
)


@bp.get("/healthz")
async def healthz() -> Response:
    return jsonify({"status": "ok"})


async def _shell(rest: str = "") -> Response:
    response = await send_from_directory(STATIC_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


for _route in CLIENT_ROUTES:
    bp.add_url_rule(_route, f"shell{CLIENT_ROUTES.index(_route)}", _shell, methods=["GET"])
