"""Password policy: long enough, not too long, and not one everybody tries first."""

from __future__ import annotations

from functools import cache
from importlib import resources

MIN_LENGTH = 8
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of commonly used passwords, lower-cased (``#`` lines are notes)."""
    text = resources.files("parley.data").joinpath("common-passwords.txt").read_text()
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` may not be used, or None if it is acceptable."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords() or lowered == username.lower():
        return "That password is too easy to guess; choose another."
    return None
