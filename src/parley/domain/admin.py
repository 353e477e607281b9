"""Site administration: disabling and re-enabling accounts.

Only site admins (``parley user create --admin``) may act; everyone else is told the
route does not exist for them (403), without learning whether the target exists.
"""

from __future__ import annotations

from parley.bus.base import Event
from parley.domain.context import Context
from parley.domain.models import Account, User
from parley.errors import BadInput, Forbidden, NotFound


def require_admin(account: Account) -> None:
    if not account.is_admin or account.disabled:
        raise Forbidden("Only a site admin may do that.", code="admin_only")


async def set_disabled(ctx: Context, admin: Account, user_id: int, disabled: bool) -> User:
    """Disable (or enable again) an account.

    Disabling ends every session of the account at once, live sockets included: its
    tokens are deleted, so enabling it again means signing in again. The same goes for
    the tokens of every bot the person owns (a disabled person's bots must not keep
    acting for them); their sockets close with 4401 too.
    Raises Forbidden (not an admin), NotFound, BadInput (an admin disabling themself).
    """
    require_admin(admin)
    target = await ctx.store.users.account_by_id(user_id)
    if target is None:
        raise NotFound("No such user.", code="user_not_found")
    if disabled and target.user.id == admin.user.id:
        raise BadInput("You cannot disable your own account.", code="cannot_disable_self")
    await ctx.store.users.set_disabled(user_id, disabled)
    if disabled:
        user_ids = [user_id, *await ctx.store.bots.all_bot_ids_of(user_id)]
        session_ids = await ctx.store.sessions.delete_all_of(user_ids)
        await ctx.bus.publish(Event(kind="close_users", user_ids=user_ids))
        if session_ids:
            await ctx.bus.publish(Event(kind="close_sessions", session_ids=session_ids))
    return target.user
