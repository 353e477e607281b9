"""Sensitive changes need a recent sign-in or the password again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from parley.domain.accounts import RECENT_SIGN_IN_S, confirm_recent_sign_in
from parley.domain.models import Account, User
from parley.errors import Unauthorized

ACCOUNT = Account(User(1, "ana", "Ana", "2026-01-01T00:00:00Z"), "unused-hash")


def _ctx_with_session_signed_in(seconds_ago: float) -> Any:
    created = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    async def created_at(session_id: str) -> str:
        return created

    return SimpleNamespace(store=SimpleNamespace(sessions=SimpleNamespace(created_at=created_at)))


async def test_a_session_signed_in_moments_ago_needs_no_password() -> None:
    await confirm_recent_sign_in(_ctx_with_session_signed_in(5), ACCOUNT, "s1", None)


async def test_an_older_session_must_give_the_password() -> None:
    ctx = _ctx_with_session_signed_in(RECENT_SIGN_IN_S + 60)
    with pytest.raises(Unauthorized) as info:
        await confirm_recent_sign_in(ctx, ACCOUNT, "s1", None)
    assert info.value.code == "password_required"
