"""JSON via orjson for every HTTP response: dataclasses encode as their fields."""

from __future__ import annotations

from typing import Any

import orjson
from quart.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)
