"""``GET /metrics``: this process's metrics in the Prometheus text format.

Counts only, no names or message text; deploy.md still keeps it off the public side of
the proxy, since load figures are an operator's business.
"""

from __future__ import annotations

from quart import Blueprint, Response, current_app

from parley import metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
async def scrape() -> Response:
    text = metrics.render(current_app.extensions["parley"].metrics_readings())
    return Response(text, content_type=metrics.CONTENT_TYPE)
