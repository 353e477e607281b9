"""The ``parley`` command: ``serve``, ``user create|reset-password``, ``settings show|set``,
``db upgrade``, ``blobs migrate``, ``backup``, ``restore``, ``import slack``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn

from parley.config import Settings, SettingsError, load_settings
from parley.logs import configure_logging

# One convention for every command, stated in --help.
EXIT_OK = 0
EXIT_FAILED = 1  # something went wrong that the person could not have prevented
EXIT_USER_ERROR = 2  # a bad flag, setting, value or database URL: fix it and run again

EXIT_CODES_HELP = """\
exit codes:
  0  done
  1  failed for a reason outside your input (see the message)
  2  your input was refused: a bad flag, setting, value or database URL
"""

SETTING_NAMES = (
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


class UserError(Exception):
    """Input the person can fix; printed as one line, exit code 2."""


def package_version() -> str:
    try:
        return version("parley")
    except PackageNotFoundError:  # running from a checkout that was never installed
        from parley import __version__

        return __version__


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", dest="data_dir", help="data folder (default ./parley-data)")
    parser.add_argument(
        "--database-url",
        dest="database_url",
        help="postgresql://user@host/db or sqlite:///path (default: SQLite in the data folder)",
    )


def _command_parser(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The innermost command's parser, so that an unknown flag prints that command's usage.
    parser.set_defaults(command_parser=parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        description="Parley group chat server",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"parley {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _command_parser(commands, "serve", "run the server")
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

    user = _command_parser(commands, "user", "manage accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    create = _command_parser(user_commands, "create", "create an account")
    _add_common(create)
    create.add_argument("username")
    create.add_argument("--display-name", dest="display_name")
    create.add_argument(
        "--password",
        help="(default: PARLEY_NEW_PASSWORD, or asked for twice on a terminal)",
    )
    create.add_argument("--admin", action="store_true", help="make the account a site admin")
    reset = _command_parser(
        user_commands, "reset-password", "set a new password for an account and end its sessions"
    )
    _add_common(reset)
    reset.add_argument("username")
    reset.add_argument(
        "--password",
        help="(default: PARLEY_NEW_PASSWORD, or asked for twice on a terminal)",
    )

    server = _command_parser(commands, "settings", "show or change the server settings")
    server_commands = server.add_subparsers(
        dest="settings_command", required=True, metavar="COMMAND"
    )
    show = _command_parser(server_commands, "show", "print the settings in force")
    _add_common(show)
    change = _command_parser(
        server_commands,
        "set",
        "change one setting: signup open|invite|closed, allowed_email_domains "
        "'a.org b.org' (or ''), retention_days N|forever, max_upload_mb N, upload_quota_mb N, "
        "custom_emoji admins|members",
    )
    _add_common(change)
    change.add_argument("name")
    change.add_argument("value")

    db = _command_parser(commands, "db", "database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = _command_parser(db_commands, "upgrade", "apply migrations")
    _add_common(upgrade)

    blobs = _command_parser(commands, "blobs", "file storage maintenance")
    blob_commands = blobs.add_subparsers(dest="blobs_command", required=True, metavar="COMMAND")
    migrate = _command_parser(
        blob_commands,
        "migrate",
        "copy every stored file from PARLEY_BLOB_URL's store into another (resumable)",
    )
    _add_common(migrate)
    migrate.add_argument(
        "--to",
        required=True,
        help="the target store: s3://bucket/prefix or a folder",
    )

    backup = _command_parser(
        commands,
        "backup",
        "copy the database and stored files into DEST, safe while the server runs",
    )
    _add_common(backup)
    backup.add_argument(
        "dest", metavar="DEST", help="a new or empty folder, or a file ending in .tar.gz"
    )
    restore = _command_parser(
        commands,
        "restore",
        "restore a backup into an empty data folder (or empty database), then migrate it",
    )
    _add_common(restore)
    restore.add_argument("src", metavar="SRC", help="a backup folder or .tar.gz")

    imports = _command_parser(commands, "import", "import from another chat service")
    import_commands = imports.add_subparsers(
        dest="import_command", required=True, metavar="COMMAND"
    )
    slack = _command_parser(
        import_commands,
        "slack",
        "import a Slack workspace export (.zip): users, channels, messages; "
        "running it again adds only what is new",
    )
    _add_common(slack)
    slack.add_argument("export", metavar="EXPORT.zip", help="the export Slack made")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _fail(message: str, code: int) -> NoReturn:
    print(f"parley: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        settings = load_settings({name: getattr(args, name, None) for name in SETTING_NAMES})
    except SettingsError as exc:
        _fail(str(exc), EXIT_USER_ERROR)
    configure_logging(json_logs=settings.log_json)
    try:
        if args.command in ("backup", "restore"):
            # Not probed: that would create an empty SQLite file where none should be.
            sys.exit(asyncio.run(_backup_or_restore(settings, args)))
        asyncio.run(_check_database(settings))
        if args.command == "serve":
            _check_blobs(settings)
            sys.exit(_serve(settings))
        if args.command == "user":
            password = _new_password(args)
            if args.user_command == "reset-password":
                sys.exit(asyncio.run(_reset_password(settings, args.username, password)))
            sys.exit(asyncio.run(_create_user(settings, args, password)))
        if args.command == "settings":
            sys.exit(asyncio.run(_server_settings(settings, args)))
        if args.command == "db":
            sys.exit(asyncio.run(_upgrade(settings)))
        if args.command == "blobs":
            sys.exit(asyncio.run(_migrate_blobs(settings, args.to)))
        if args.command == "import":
            sys.exit(asyncio.run(_import_slack(settings, args.export)))
    except UserError as exc:
        _fail(str(exc), EXIT_USER_ERROR)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_FAILED)


async def _check_database(settings: Settings) -> None:
    from parley.store.database import DatabaseUnavailable, probe

    try:
        await probe(settings.effective_database_url)
    except DatabaseUnavailable as exc:
        raise UserError(f"cannot use the database: {exc}") from exc


def _check_blobs(settings: Settings) -> None:
    """Refuse to start, saying why, when the blob store (a bucket) is not usable."""
    from parley.blobs import BlobUnavailable, open_blob_store

    store = open_blob_store(settings.blob_url, settings.uploads_dir)
    try:
        store.prepare()
    except BlobUnavailable as exc:
        raise UserError(f"cannot use the blob store {settings.blob_url}: {exc}") from exc
    finally:
        store.close()


def _serve(settings: Settings) -> int:
    if settings.workers > 1:
        from parley.workers import serve_workers

        return serve_workers(settings)
    from parley.server import serve

    return serve(settings)


def _new_password(args: argparse.Namespace) -> str:
    """The password from --password or PARLEY_NEW_PASSWORD, else typed twice."""
    given: str | None = args.password or os.environ.get("PARLEY_NEW_PASSWORD")
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError("no password: pass --password, set PARLEY_NEW_PASSWORD, or use a terminal")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        done = "changed" if getattr(args, "user_command", "") == "reset-password" else "created"
        raise UserError(f"the two passwords differ; nothing was {done}")
    return first


async def _create_user(settings: Settings, args: argparse.Namespace, password: str) -> int:
    from parley.domain import accounts
    from parley.domain.models import utc_now
    from parley.domain.passwords import password_problem
    from parley.errors import ParleyError
    from parley.store import open_store

    problem = password_problem(password, args.username)
    if problem:
        raise UserError(problem)
    try:
        accounts.validate_username(args.username)
        name = accounts.validate_display_name(args.display_name, args.username)
    except ParleyError as exc:
        raise UserError(exc.message) from exc
    store = await open_store(settings.effective_database_url)
    try:
        user = await store.users.create(
            args.username,
            name,
            await accounts.hash_password(password),
            utc_now(),
            is_admin=args.admin,
        )
    except ParleyError as exc:
        raise UserError(exc.message) from exc
    finally:
        await store.close()
    print(f"created user {user.username} (id {user.id}){' as admin' if args.admin else ''}")
    return EXIT_OK


async def _reset_password(settings: Settings, username: str, password: str) -> int:
    from parley.app import close_context, open_context
    from parley.domain import recovery
    from parley.errors import ParleyError

    ctx = await open_context(settings)
    try:
        user = await recovery.set_password(ctx, username, password)
    except ParleyError as exc:
        raise UserError(exc.message) from exc
    finally:
        await close_context(ctx)
    print(f"new password set for {user.username}; every session of the account has ended")
    return EXIT_OK


def _setting_value(name: str, raw: str) -> object:
    """A setting's value as typed on the command line."""
    if name == "retention_days" and raw.lower() in ("forever", "null", "none", ""):
        return None
    if name in ("retention_days", "max_upload_mb", "upload_quota_mb"):
        if not raw.isdigit():
            raise UserError(f"{name}: a whole number")
        return int(raw)
    return raw


async def _server_settings(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from parley.app import close_context, open_context
    from parley.domain import audit, server_settings
    from parley.errors import ParleyError

    ctx = await open_context(settings)
    try:
        if args.settings_command == "set":
            value = _setting_value(args.name, args.value)
            try:
                found = await server_settings.change(ctx, {args.name: value})
            except ParleyError as exc:
                raise UserError(exc.message) from exc
            shown = server_settings.as_json(found)
            await audit.record(
                ctx,
                None,
                "admin.settings_changed",
                "settings",
                "",
                {args.name: shown.get(args.name)},
                actor_name="(command line)",
            )
        else:
            found = await server_settings.server_settings(ctx)
    finally:
        await close_context(ctx)
    print(json.dumps(server_settings.as_json(found), indent=2))
    return EXIT_OK


async def _upgrade(settings: Settings) -> int:
    from parley.store import open_store

    store = await open_store(settings.effective_database_url)
    await store.close()
    print("database is at the newest schema")
    return EXIT_OK


async def _migrate_blobs(settings: Settings, to: str) -> int:
    from parley.blobs import BlobUnavailable, open_blob_store
    from parley.blobs.migrate import migrate
    from parley.config import blob_url_problem
    from parley.store import open_store

    problem = blob_url_problem(to)
    if problem:
        raise UserError(f"--to: {problem}")
    source = open_blob_store(settings.blob_url, settings.uploads_dir)
    target = open_blob_store(to, settings.uploads_dir)
    store = await open_store(settings.effective_database_url)
    try:
        for name, blobs in (("source", source), ("target", target)):
            try:
                await asyncio.to_thread(blobs.prepare)
            except BlobUnavailable as exc:
                raise UserError(f"cannot use the {name} store: {exc}") from exc
        keys = await store.files.all_blob_keys()
        print(f"{len(keys)} blobs to copy to {to}", flush=True)
        report = await migrate(keys, source, target, lambda line: print(line, flush=True))
    except BlobUnavailable as exc:
        print(f"parley: stopped: {exc}; run the same command again to resume", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await store.close()
        source.close()
        target.close()
    print(
        f"done: {report.copied} copied ({report.copied_bytes} bytes), "
        f"{report.present} already there, {report.missing} missing, {report.corrupt} corrupt"
    )
    return EXIT_OK if report.ok else EXIT_FAILED


def _say(line: str) -> None:
    print(line, flush=True)


async def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from parley import backup

    try:
        if args.command == "backup":
            report = await backup.backup(settings, Path(args.dest), _say)
            counts = ", ".join(f"{n} {table}" for table, n in report.manifest["counts"].items())
            print(f"backed up to {report.path}: {counts}")
        else:
            manifest = await backup.restore(settings, Path(args.src), _say)
            print(
                f"restored the backup of {manifest['created_at']} into {settings.data_dir}; "
                "start the server with the same --data-dir"
            )
    except backup.BackupRefused as exc:
        raise UserError(str(exc)) from exc
    except backup.BackupFailed as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _import_slack(settings: Settings, export: str) -> int:
    from pathlib import Path

    from parley import slack_import
    from parley.store import open_store

    try:
        source = slack_import.open_export(Path(export))
    except slack_import.ExportUnreadable as exc:
        raise UserError(str(exc)) from exc
    store = await open_store(settings.effective_database_url)
    try:
        with source:
            report = await slack_import.import_export(store, settings, source, _say)
    except slack_import.ExportUnreadable as exc:
        raise UserError(str(exc)) from exc
    finally:
        await store.close()
    print(report.summary())
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig()
    main()
