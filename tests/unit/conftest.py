"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.store import Store, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated SQLite store in a fresh folder."""
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    yield opened
    await opened.close()
