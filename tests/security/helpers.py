"""Helpers for the break-in tests: admins, cookie sessions, anonymous clients."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.support import PASSWORD, REPO_ROOT, Person, ServerProcess, unique_name


def create_admin(server: ServerProcess) -> str:
    """Create a site admin with the CLI, as an operator would; returns the username."""
    name = unique_name("admin")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "user",
            "create",
            name,
            "--admin",
            "--password",
            PASSWORD,
            "--data-dir",
            str(server.data_dir),
        ],
        cwd=REPO_ROOT,
        # The server's own environment: its database too (PARLEY_TEST_DATABASE_URL runs).
        env={**server.env, "PYTHONPATH": str(REPO_ROOT)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return name


async def sign_in(server: ServerProcess, username: str) -> Person:
    """Sign in with a bearer client."""
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    r = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    data = r.json()
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {data['token']}"
    return Person(server.url, username, data["token"], data["user"], http)


async def cookie_client(server: ServerProcess, username: str) -> tuple[httpx.AsyncClient, str]:
    """A client signed in by cookie, as a browser is; returns it and its CSRF token."""
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    r = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert http.cookies.get("parley_session")
    return http, r.json()["csrf_token"]
