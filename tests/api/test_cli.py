"""The ``parley`` command as a person types it: versions, usage, passwords, bad URLs."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parley import __version__
from tests.support import PASSWORD, unique_name


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
