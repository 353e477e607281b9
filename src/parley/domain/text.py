"""What text people may store: usernames, names and topics, message bodies. One place.

Limits count the text as stored: a body is stored as written, so its whole length counts
(99,000 spaces and an "x" were once stored past the 10,000 limit, which counted the
trimmed text); a name is stored trimmed, so its trimmed length counts.

Characters, by Unicode general category (docs/api.md, "Text"):

- **Usernames**: 3 to 32 of ``A-Z a-z 0-9 _ . -``, the whole string (``re.match`` with
  ``$`` let "alice\\n" in beside "alice").
- **Single-line text** (room names, topics, display names, webhook names): refused are
  control characters (Cc: NUL, CR, LF, ESC of ANSI sequences ...), format characters
  (Cf: bidi overrides such as U+202E, zero-width spaces, invisible marks), surrogates
  (Cs), private-use characters (Co), line and paragraph separators (Zl, Zp) and the
  permanent noncharacters. Each of these either breaks a line, hides text, or reorders
  what is shown around it (a name that reads differently than it is). The exception:
  ZERO WIDTH JOINER and NON-JOINER between two visible characters, which emoji
  sequences (👩‍💻) and scripts such as Persian and the Indic ones need. Unassigned code
  points (Cn) are allowed: they may be newer than this Python's Unicode tables (new emoji).
- **Message bodies**: line feeds and tabs are kept; every other control character is
  refused, as are surrogates and the bidi embedding, override and isolate controls
  (U+202A to U+202E, U+2066 to U+2069: "Trojan Source" reordering). Other format characters
  stay (zero-width joiners in emoji, soft hyphens, LRM/RLM marks in right-to-left text).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from parley.errors import BadInput

USERNAME_RE: Final = re.compile(r"[A-Za-z0-9_.-]{3,32}")
USERNAME_RULE: Final = "Usernames are 3 to 32 letters, digits, dots, dashes or underscores."

_JOINERS: Final = frozenset("\u200c\u200d")
_NAME_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Searched in every message, so one compiled class rather than a category per character:
# Cc is exactly U+0000-U+001F and U+007F-U+009F (minus tab and line feed), then the
# bidi controls and the surrogates.
_BODY_REFUSED: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _is_noncharacter(ch: str) -> bool:
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def username(value: object) -> str:
    """``value`` if it is a valid username, else BadInput ``invalid_username``."""
    if not isinstance(value, str) or USERNAME_RE.fullmatch(value) is None:
        raise BadInput(USERNAME_RULE, code="invalid_username")
    return value


def name_problem(text: str) -> str | None:
    """Why ``text`` may not be a single-line name or topic, or None if it may."""
    last = len(text) - 1
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch in _JOINERS:
            if 0 < index < last and _visible(text[index - 1]) and _visible(text[index + 1]):
                continue
            return "zero-width characters"
        if category in _NAME_REFUSED_CATEGORIES or _is_noncharacter(ch):
            return "control, formatting or invisible characters"
    return None


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] not in "CZ" and not _is_noncharacter(ch)


def single_line(value: object, *, field: str, code: str, max_len: int, min_len: int = 1) -> str:
    """``value`` trimmed, as stored: text of min_len to max_len characters on one line.

    Raises BadInput ``code`` otherwise; the message names the rule broken.
    """
    if not isinstance(value, str):
        raise BadInput(f"{field} must be text.", code=code)
    text = value.strip()
    if not min_len <= len(text) <= max_len:
        low = "at most" if min_len == 0 else f"{min_len} to"
        raise BadInput(f"{field} is {low} {max_len} characters.", code=code)
    problem = name_problem(text)
    if problem is not None:
        raise BadInput(f"{field} may not contain {problem}.", code=code)
    return text


def body_problem(text: str) -> str | None:
    """Why ``text`` may not be a message body, or None if it may."""
    found = _BODY_REFUSED.search(text)
    if found is None:
        return None
    if found.group() in _BIDI_CONTROLS:
        return "bidirectional override characters"
    return "control characters other than line feeds and tabs"


def message_body(value: object, *, max_len: int, allow_blank: bool) -> str:
    """``value`` as stored (as written): at most max_len characters in all.

    Blank (empty or only whitespace) only when ``allow_blank`` (a caption under files).
    Raises BadInput ``invalid_body``, ``empty_body`` or ``body_too_long``.
    """
    if not isinstance(value, str):
        raise BadInput("body must be text.", code="invalid_body")
    if len(value) > max_len:
        raise BadInput(
            f"Messages are at most {max_len} characters, spaces included.", code="body_too_long"
        )
    if not allow_blank and not value.strip():
        raise BadInput("A message needs some text.", code="empty_body")
    problem = body_problem(value)
    if problem is not None:
        raise BadInput(f"Messages may not contain {problem}.", code="invalid_body")
    return value
