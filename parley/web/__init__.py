"""HTTP transport: one blueprint per resource, thin handlers over domain calls."""

from __future__ import annotations

from quart import Blueprint

from parley.web import (
    admin,
    auth,
    emoji,
    files,
    messages,
    metrics,
    pages,
    rooms,
    twofactor,
    users,
)


def blueprints() -> list[Blueprint]:
    """Every blueprint of the HTTP API, registered by create_app."""
    return [
        pages.bp,
        auth.bp,
        rooms.bp,
        messages.bp,
        users.bp,
        emoji.bp,
        twofactor.bp,
        admin.bp,
        metrics.bp,
        files.bp,
    ]
