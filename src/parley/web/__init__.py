"""HTTP transport: one blueprint per resource, thin handlers over domain calls."""

from __future__ import annotations

from quart import Blueprint

from parley.web import (
    admin,
    auth,
    bots,
    custom_emoji,
    edits,
    email,
    emoji,
    export,
    files,
    invites,
    messages,
    metrics,
    mutes,
    notifications,
    oidc,
    pages,
    passkeys,
    people,
    pins,
    previews,
    pwa,
    reactions,
    room_admin,
    rooms,
    search,
    threads,
    twofactor,
    users,
    webhooks,
)


def blueprints() -> list[Blueprint]:
    """Every blueprint of the HTTP API, registered by create_app."""
    return [
        pages.bp,
        pwa.bp,
        auth.bp,
        oidc.bp,
        rooms.bp,
        messages.bp,
        users.bp,
        emoji.bp,
        twofactor.bp,
        passkeys.bp,
        admin.bp,
        metrics.bp,
        files.bp,
        # Team features (issue 9): one blueprint per feature.
        edits.bp,
        reactions.bp,
        search.bp,
        mutes.bp,
        room_admin.bp,
        invites.bp,
        webhooks.bp,
        bots.bp,
        export.bp,
        # Issue 23: threads, pins and saved messages.
        threads.bp,
        pins.bp,
        email.bp,
        # Issue 23, second half: people, custom emoji, link previews.
        people.bp,
        custom_emoji.bp,
        previews.bp,
        # Issue 22: Web Push, levels, notification settings, digests.
        notifications.bp,
    ]
