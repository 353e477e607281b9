"""The ``parley`` command: ``serve``, ``user create``, ``db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from typing import Any

from parley.config import Settings, SettingsError, load_settings
from parley.logs import configure_logging


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", dest="data_dir", help="data folder (default ./parley-data)")
    parser.add_argument("--database-url", dest="database_url", help="PostgreSQL URL")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Parley group chat server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    _add_common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--redis-url", dest="redis_url", help="Redis URL for several processes")
    serve.add_argument("--workers", type=int, help="processes sharing the port (needs Redis)")
    serve.add_argument("--max-upload-mb", dest="max_upload_mb", type=int)
    serve.add_argument(
        "--send-rate",
        dest="send_rate",
        type=float,
        help="messages per second per user (0: no limit)",
    )
    serve.add_argument(
        "--log-json", dest="log_json", action="store_const", const=True, help="structured JSON logs"
    )

    user = commands.add_parser("user", help="manage accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser("create", help="create an account")
    _add_common(create)
    create.add_argument("username")
    create.add_argument("--display-name", dest="display_name")
    create.add_argument("--password", help="(default: asked for, or PARLEY_NEW_PASSWORD)")
    create.add_argument("--admin", action="store_true", help="make the account a site admin")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations")
    _add_common(upgrade)
    return parser


def _flags(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in names}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    names = (
        "host",
        "port",
        "data_dir",
        "database_url",
        "redis_url",
        "workers",
        "max_upload_mb",
        "send_rate",
        "log_json",
    )
    try:
        settings = load_settings(_flags(args, names))
    except SettingsError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        sys.exit(2)
    configure_logging(json_logs=settings.log_json)
    if args.command == "serve":
        sys.exit(_serve(settings))
    if args.command == "user":
        sys.exit(asyncio.run(_create_user(settings, args)))
    if args.command == "db":
        sys.exit(asyncio.run(_upgrade(settings)))


def _serve(settings: Settings) -> int:
    if settings.workers > 1:
        from parley.workers import serve_workers

        return serve_workers(settings)
    from parley.server import serve

    return serve(settings)


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from parley.domain import accounts
    from parley.domain.passwords import password_problem
    from parley.errors import ParleyError
    from parley.store import open_store

    password = args.password or os.environ.get("PARLEY_NEW_PASSWORD") or getpass.getpass()
    problem = password_problem(password, args.username)
    if problem:
        print(f"parley: {problem}", file=sys.stderr)
        return 2
    store = await open_store(settings.effective_database_url)
    try:
        accounts.validate_username(args.username)
        name = accounts.validate_display_name(args.display_name, args.username)
        from parley.domain.models import utc_now

        user = await store.users.create(
            args.username,
            name,
            await accounts.hash_password(password),
            utc_now(),
            is_admin=args.admin,
        )
    except ParleyError as exc:
        print(f"parley: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(f"created user {user.username} (id {user.id}){' as admin' if args.admin else ''}")
    return 0


async def _upgrade(settings: Settings) -> int:
    from parley.store import open_store

    store = await open_store(settings.effective_database_url)
    await store.close()
    print("database is at the newest schema")
    return 0


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig()
    main()
