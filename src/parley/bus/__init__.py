"""Fan-out: how an event reaches every process's gateway. LocalBus or RedisBus."""

from parley.bus.base import Bus, Event, EventHandler
from parley.bus.local import LocalBus

__all__ = ["Bus", "Event", "EventHandler", "LocalBus"]
