"""Schemathesis against a running server's /openapi.json, in a process of its own.

    python -m tests.security.schemathesis_run URL TOKEN

Prints every generated request that got a 5xx and exits 1 if there was one. It runs in a
fresh interpreter because late in a long pytest run CPython 3.11.7 can fail the parses
that schemathesis and hypothesis do with "AST constructor recursion depth mismatch"
(a CPython bug, fixed in 3.11.8), which is noise, not a finding.
"""

from __future__ import annotations

import sys

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES_PER_OPERATION = 5
# These would end the fuzzer's own session (or need an admin): tested elsewhere.
SKIPPED_PATHS = ("/api/auth/logout", "/api/sessions", "/api/me/password", "/api/admin")
MIN_OPERATIONS = 10


def fuzz(url: str, token: str) -> tuple[int, list[str]]:
    """(operations tried, failures as "METHOD path: status")."""
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIPPED_PATHS):
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        run()
    return operations, failures


def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    operations, failures = fuzz(url, token)
    print(f"{operations} operations fuzzed, {len(failures)} server errors")
    for failure in failures:
        print(failure)
    sys.exit(1 if failures or operations < MIN_OPERATIONS else 0)


if __name__ == "__main__":
    main()
