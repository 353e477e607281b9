"""The ``parley`` command as a person types it: versions, usage, passwords, bad URLs."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from parley import __version__
from tests.support import PASSWORD, ServerProcess, sign_up, unique_name


def parley(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PARLEY_DATA_DIR": str(data_dir), **env},
        check=False,
    )


def test_version_names_the_installed_release(tmp_path: Path) -> None:
    result = parley("--version", data_dir=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"parley {__version__}"


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    for args in (["--help"], ["serve", "--help"], ["user", "create", "--help"]):
        result = parley(*args, data_dir=tmp_path)
        assert result.returncode == 0
        assert "exit codes:" in result.stdout
        assert "2  your input was refused" in result.stdout


def test_an_unknown_serve_flag_prints_serves_usage(tmp_path: Path) -> None:
    result = parley("serve", "--bad-flag", data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: parley serve ")
    assert "--redis-url" in result.stderr
    assert "unrecognized arguments: --bad-flag" in result.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://root@127.0.0.1/parley", "unsupported scheme 'mysql'"),
        ("postgresql://postgres@127.0.0.1:1/parley", "cannot use the database"),
        ("postgresql://postgres@no-such-host.invalid/parley", "cannot use the database"),
        ("sqlite:////proc/no-such-folder/parley.db", "cannot use the database"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
def test_a_bad_database_url_is_one_clear_line(
    tmp_path: Path, command: list[str], url: str, says: str
) -> None:
    result = parley(*command, "--database-url", url, data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("parley: ")
    assert says in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.scale
def test_a_missing_postgresql_database_is_named(tmp_path: Path) -> None:
    result = parley(
        "db",
        "upgrade",
        "--database-url",
        "postgresql://postgres@127.0.0.1:5432/parley_no_such_database",
        data_dir=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        'parley: cannot use the database: database "parley_no_such_database" does not exist'
    )


def test_user_create_refuses_a_taken_name_with_the_user_error_code(tmp_path: Path) -> None:
    name = unique_name()
    first = parley("user", "create", name, data_dir=tmp_path, PARLEY_NEW_PASSWORD=PASSWORD)
    assert first.returncode == 0, first.stderr
    again = parley("user", "create", name, data_dir=tmp_path, PARLEY_NEW_PASSWORD=PASSWORD)
    assert again.returncode == 2
    assert again.stderr.startswith("parley: ")
    assert "Traceback" not in again.stderr


def test_user_create_without_a_terminal_or_password_says_how(tmp_path: Path) -> None:
    result = parley("user", "create", unique_name(), data_dir=tmp_path)
    assert result.returncode == 2
    assert "PARLEY_NEW_PASSWORD" in result.stderr


class Terminal:
    """``parley`` on a pseudo-terminal, so getpass prompts as it does for a person."""

    def __init__(self, *args: str, data_dir: Path) -> None:
        env = {**os.environ, "PARLEY_DATA_DIR": str(data_dir)}
        env.pop("PARLEY_NEW_PASSWORD", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the command
            os.execve(sys.executable, [sys.executable, "-m", "parley", *args], env)
        self.output = b""

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.output!r}"
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"ended without {text!r}: {self.output!r}"
                self.output += chunk

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def exit_code(self) -> int:
        while True:  # drain, so the child never blocks on a full terminal
            try:
                if not os.read(self.fd, 4096):
                    break
            except OSError:
                break
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_user_create_asks_for_the_password_twice(tmp_path: Path) -> None:
    name = unique_name()
    term = Terminal("user", "create", name, data_dir=tmp_path)
    term.expect("Password: ")
    term.type(PASSWORD)
    term.expect("Password (again): ")
    term.type(PASSWORD)
    term.expect(f"created user {name}")
    assert term.exit_code() == 0


def test_user_create_refuses_two_different_passwords(tmp_path: Path) -> None:
    name = unique_name()
    term = Terminal("user", "create", name, data_dir=tmp_path)
    term.expect("Password: ")
    term.type(PASSWORD)
    term.expect("Password (again): ")
    term.type(PASSWORD + "x")
    term.expect("the two passwords differ; nothing was created")
    assert term.exit_code() == 2
    # Nothing was stored: the same name can still be taken.
    retry = parley("user", "create", name, data_dir=tmp_path, PARLEY_NEW_PASSWORD=PASSWORD)
    assert retry.returncode == 0, retry.stderr


async def test_user_reset_password_sets_it_and_ends_every_session(
    fresh_server: ServerProcess,
) -> None:
    fresh_server.start()
    ben = await sign_up(fresh_server.url)
    new = "another long passphrase"
    result = await asyncio.to_thread(
        parley,
        "user",
        "reset-password",
        ben.username,
        "--password",
        new,
        data_dir=fresh_server.data_dir,
    )
    assert result.returncode == 0, result.stderr
    assert "every session of the account has ended" in result.stdout
    assert (await ben.http.get("/api/me")).status_code == 401
    async with httpx.AsyncClient(base_url=fresh_server.url, timeout=30) as http:
        for password, status in ((PASSWORD, 401), (new, 200)):
            body = {"username": ben.username, "password": password}
            assert (await http.post("/api/auth/login", json=body)).status_code == status
    await ben.http.aclose()


def test_user_reset_password_refuses_an_unknown_name_or_a_weak_password(tmp_path: Path) -> None:
    name = unique_name()
    assert (
        parley("user", "create", name, data_dir=tmp_path, PARLEY_NEW_PASSWORD=PASSWORD).returncode
        == 0
    )
    unknown = parley(
        "user", "reset-password", "nobody-here", "--password", PASSWORD, data_dir=tmp_path
    )
    assert unknown.returncode == 2
    assert "No user is called 'nobody-here'" in unknown.stderr
    weak = parley("user", "reset-password", name, "--password", "short", data_dir=tmp_path)
    assert weak.returncode == 2
    no_password = parley("user", "reset-password", name, data_dir=tmp_path)
    assert no_password.returncode == 2
    assert "PARLEY_NEW_PASSWORD" in no_password.stderr


def test_user_reset_password_asks_twice_on_a_terminal(tmp_path: Path) -> None:
    name = unique_name()
    assert (
        parley("user", "create", name, data_dir=tmp_path, PARLEY_NEW_PASSWORD=PASSWORD).returncode
        == 0
    )
    term = Terminal("user", "reset-password", name, data_dir=tmp_path)
    term.expect("Password: ")
    term.type(PASSWORD + "-new")
    term.expect("Password (again): ")
    term.type(PASSWORD + "-other")
    term.expect("the two passwords differ; nothing was changed")
    assert term.exit_code() == 2


def test_settings_set_and_show(tmp_path: Path) -> None:
    closed = parley("settings", "set", "signup", "closed", data_dir=tmp_path)
    assert closed.returncode == 0, closed.stderr
    assert json.loads(closed.stdout)["signup"] == "closed"
    parley("settings", "set", "retention_days", "90", data_dir=tmp_path)
    shown = parley("settings", "show", data_dir=tmp_path)
    assert shown.returncode == 0
    assert json.loads(shown.stdout) | {"max_upload_mb": 0, "upload_quota_mb": 0} == {
        "signup": "closed",
        "allowed_email_domains": [],
        "retention_days": 90,
        "max_upload_mb": 0,
        "upload_quota_mb": 0,
        "custom_emoji": "admins",
    }
    forever = parley("settings", "set", "retention_days", "forever", data_dir=tmp_path)
    assert json.loads(forever.stdout)["retention_days"] is None
    for name, value in (("signup", "maybe"), ("retention_days", "soon"), ("colour", "red")):
        bad = parley("settings", "set", name, value, data_dir=tmp_path)
        assert bad.returncode == 2, (name, bad.stdout)
        assert bad.stderr.startswith("parley: ")
