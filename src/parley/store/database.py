"""Opening the database: engine, SQLite pragmas, migrations, and the Store facade."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from parley.store import sqlite_batch
from parley.store.admin import AdminStore
from parley.store.bots import BotStore
from parley.store.checkpoints import CHECKPOINT_INTERVAL_S, Checkpointer
from parley.store.custom_emoji import CustomEmojiStore
from parley.store.edits import EditStore
from parley.store.files import FileStore
from parley.store.invites import InviteStore
from parley.store.lifecycle import LifecycleStore
from parley.store.memberships import MembershipStore
from parley.store.messages import MessageStore
from parley.store.mutes import MuteStore
from parley.store.notifications import NotificationStore
from parley.store.oidc import OidcStore
from parley.store.passkeys import PasskeyStore
from parley.store.people import PeopleStore
from parley.store.postgres_session import PG_SESSION_SETTINGS
from parley.store.previews import PreviewStore
from parley.store.reactions import ReactionStore
from parley.store.receipts import ReceiptStore
from parley.store.room_admin import RoomAdminStore
from parley.store.rooms import RoomStore
from parley.store.saved import PinStore, SavedStore
from parley.store.search import SearchStore
from parley.store.sessions import SessionStore
from parley.store.threads import ThreadStore
from parley.store.twofactor import TwoFactorStore
from parley.store.users import UserStore
from parley.store.webhooks import WebhookStore
from parley.store.writer import GroupCommitter

log = logging.getLogger(__name__)

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
# Any fixed number: every Parley process that migrates the same PostgreSQL takes it.
PG_MIGRATION_LOCK = 0x7061726C
PROBE_TIMEOUT_S = 10


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in sqlite_batch.PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` with the settings each engine needs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=8)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"server_settings": dict(PG_SESSION_SETTINGS)},
    )


def _alembic_config(sync_connection: sa.Connection) -> AlembicConfig:
    cfg = AlembicConfig(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(ALEMBIC_INI.with_name("migrations")))
    cfg.attributes["connection"] = sync_connection
    return cfg


def _upgrade(sync_connection: sa.Connection) -> None:
    if sync_connection.dialect.name == "postgresql":
        # Several processes may start at once; only one migrates at a time.
        sync_connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})"))
    command.upgrade(_alembic_config(sync_connection), "head")


class DatabaseUnavailable(Exception):
    """The configured database cannot be used; the message says why, in one line."""


async def probe(url: str) -> None:
    """Connect to ``url`` once, so that a wrong URL is one clear line, not a traceback.

    Raises DatabaseUnavailable naming what failed: an unreachable host, a missing
    database, a refused login, an SQLite path that cannot be created.
    """
    sqlite_path = Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None
    try:
        if sqlite_path is not None:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        # A host that drops packets would otherwise hold the command for a minute.
        connect_args = {"timeout": PROBE_TIMEOUT_S} if url.startswith("postgresql") else {}
        engine = create_async_engine(url, connect_args=connect_args)
    except (OSError, sa.exc.ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(_one_line(exc)) from exc
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # each driver raises its own kinds; all mean "cannot use it"
        raise DatabaseUnavailable(_one_line(getattr(exc, "orig", None) or exc)) from exc
    finally:
        await engine.dispose()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (creating it on an empty database)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


@dataclass
class Store:
    """The one storage interface the domain sees, one repository per table family."""

    engine: AsyncEngine
    users: UserStore
    sessions: SessionStore
    rooms: RoomStore
    memberships: MembershipStore
    messages: MessageStore
    twofactor: TwoFactorStore
    files: FileStore
    edits: EditStore
    reactions: ReactionStore
    search: SearchStore
    mutes: MuteStore
    room_admin: RoomAdminStore
    invites: InviteStore
    bots: BotStore
    webhooks: WebhookStore
    oidc: OidcStore
    passkeys: PasskeyStore
    lifecycle: LifecycleStore
    threads: ThreadStore
    pins: PinStore
    saved: SavedStore
    receipts: ReceiptStore
    admin: AdminStore
    people: PeopleStore
    custom_emoji: CustomEmojiStore
    previews: PreviewStore
    notifications: NotificationStore
    checkpointer: Checkpointer | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.messages.writer.close()
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self.engine.dispose()


async def open_store(
    url: str,
    *,
    run_migrations: bool = True,
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
) -> Store:
    """Connect to ``url``, migrate it, and start the group-commit writer (and on SQLite
    the WAL checkpointer, every ``checkpoint_interval_s`` while anything is written)."""
    sqlite_path = Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if run_migrations:
        await migrate(engine)
    writer = GroupCommitter(engine)
    writer.start()
    checkpointer = None
    if sqlite_path is not None:
        checkpointer = Checkpointer(
            sqlite_path, checkpoint_interval_s, on_wal_full=writer.checkpoint_between_batches
        )
        checkpointer.start()
    return Store(
        engine=engine,
        users=UserStore(engine),
        sessions=SessionStore(engine),
        rooms=RoomStore(engine),
        memberships=MembershipStore(engine),
        messages=MessageStore(engine, writer),
        twofactor=TwoFactorStore(engine),
        files=FileStore(engine),
        edits=EditStore(engine),
        reactions=ReactionStore(engine),
        search=SearchStore(engine),
        mutes=MuteStore(engine),
        room_admin=RoomAdminStore(engine),
        invites=InviteStore(engine),
        bots=BotStore(engine),
        webhooks=WebhookStore(engine),
        oidc=OidcStore(engine),
        passkeys=PasskeyStore(engine),
        lifecycle=LifecycleStore(engine),
        threads=ThreadStore(engine),
        pins=PinStore(engine),
        saved=SavedStore(engine),
        receipts=ReceiptStore(engine),
        admin=AdminStore(engine),
        people=PeopleStore(engine),
        custom_emoji=CustomEmojiStore(engine),
        previews=PreviewStore(engine),
        notifications=NotificationStore(engine),
        checkpointer=checkpointer,
    )
