"""Schemathesis against /openapi.json: generated requests never get a 500.

Bounded (a few examples per operation, no shrinking past a deadline) so the whole
module runs in well under a minute. Requests carry a bearer token, so the generator
reaches the handlers instead of stopping at 401. The fuzzing runs in a process of its
own (see tests/security/schemathesis_run.py for why).
"""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.support import PASSWORD, REPO_ROOT, ServerProcess, unique_name

FUZZ_TIMEOUT_S = 300


def test_no_generated_request_gets_a_server_error(server: ServerProcess) -> None:
    r = httpx.post(
        server.url + "/api/auth/register",
        json={"username": unique_name("fuzz"), "password": PASSWORD},
        timeout=30,
    )
    assert r.status_code == 201
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.schemathesis_run", server.url, r.json()["token"]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=FUZZ_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 server errors" in done.stdout
