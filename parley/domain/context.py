"""What every domain action needs, handed in as one argument (tests build their own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from parley.bus.base import Bus
from parley.config import Settings
from parley.domain.models import utc_now
from parley.domain.presence import Presence
from parley.domain.ratelimit import RateLimits
from parley.store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    bus: Bus
    presence: Presence
    limits: RateLimits
    clock: Callable[[], str] = field(default=utc_now)
