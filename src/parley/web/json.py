"""JSON via orjson for every HTTP response and request body.

Responses: dataclasses encode as their fields. Request bodies are parsed from the raw
bytes by :class:`ParleyRequest`: Quart decodes the body as UTF-8 before parsing (an
invalid byte raised UnicodeDecodeError, a 500) and parsed with the standard library
(100,000 nested brackets raised RecursionError, a 500). orjson refuses both, and
nesting past 1,024 levels, with one JSONDecodeError: here a 400 ``invalid_json``.
"""

from __future__ import annotations

from typing import Any

import orjson
from quart import Request
from quart.json.provider import DefaultJSONProvider

from parley.errors import BadInput


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def invalid_json() -> BadInput:
    return BadInput(
        "The body is not valid JSON (UTF-8, at most 1,024 levels deep).", code="invalid_json"
    )


class ParleyRequest(Request):
    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            return None
        data = await self.get_data(cache=cache, as_text=False)
        if not data.strip():
            # No body, as a body-less POST with a JSON content type sends: no JSON.
            return None
        try:
            result = orjson.loads(data)
        except orjson.JSONDecodeError:
            if not silent:
                raise invalid_json() from None
            result = None
        if cache:
            self._cached_json[silent] = result
        return result
