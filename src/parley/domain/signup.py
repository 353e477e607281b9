"""Who may create an account: the server's sign-up mode (domain/server_settings.py).

- ``open``: anyone.
- ``invite``: only with an invite code (a room's invite link, made by that room's owner
  or admins, site admins included); the new account joins that room. OpenID sign-ups
  cannot carry a code, so they make no new accounts in this mode (linked ones sign in).
- ``closed``: no one; admins create accounts with ``parley user create``.

Allowed email domains restrict the OpenID sign-ups (the provider's ``email`` claim) and,
once accounts have email addresses, password sign-ups too.
"""

from __future__ import annotations

import contextlib

from parley.domain import accounts, invites
from parley.domain.accounts import SignedIn
from parley.domain.context import Context
from parley.domain.server_settings import ServerSettings, server_settings
from parley.errors import Forbidden, ParleyError

CLOSED = "Sign-up is closed on this server: ask an admin for an account."
INVITE_ONLY = "Sign-up needs an invite on this server: open the invite link you were sent."


async def check_new_identity(ctx: Context, email: object, email_verified: object) -> None:
    """May an OpenID identity get a new account? Forbidden ``signup_closed`` (closed or
    invite-only) or ``email_domain_not_allowed`` (a verified email in an allowed domain
    is needed when the server lists domains)."""
    found = await server_settings(ctx)
    refuse(found, has_invite=False)
    if found.allowed_email_domains and (
        not isinstance(email, str) or email_verified is False or not found.email_allowed(email)
    ):
        raise Forbidden(
            "Accounts on this server are for addresses in "
            + ", ".join(found.allowed_email_domains)
            + ".",
            code="email_domain_not_allowed",
        )


def refuse(found: ServerSettings, *, has_invite: bool) -> None:
    """Forbidden ``signup_closed`` / ``invite_required`` when the mode says no."""
    if found.signup == "closed":
        raise Forbidden(CLOSED, code="signup_closed")
    if found.signup == "invite" and not has_invite:
        raise Forbidden(INVITE_ONLY, code="invite_required")


async def register(
    ctx: Context,
    username: str,
    password: str,
    display_name: str | None,
    invite: str | None,
    *,
    ip: str,
    user_agent: str,
) -> SignedIn:
    """accounts.register under the sign-up mode; with an invite, the new account joins
    its room. Raises what accounts.register does, Forbidden ``signup_closed`` or
    ``invite_required``, and the invite's errors (checked before the account is made)."""
    refuse(await server_settings(ctx), has_invite=bool(invite))
    if invite:
        await invites.check_code(ctx, invite)
    signed_in = await accounts.register(
        ctx, username, password, display_name, ip=ip, user_agent=user_agent
    )
    if invite:
        # Checked a moment ago; should it have expired since, the account stands.
        with contextlib.suppress(ParleyError):
            await invites.accept(ctx, signed_in.user, invite)
    return signed_in
