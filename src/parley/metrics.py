"""Metrics in the Prometheus text format, hand-rolled.

The hot path only adds to plain ints (``hub.deliveries += n``) or calls
:meth:`Histogram.observe` once per event; everything else is read from the parts when
``/metrics`` is scraped. No dependency, no lock: one event loop per process.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.app import ParleyApp

# Fan-out latency buckets: sub-millisecond inside one process, milliseconds via Redis.
LATENCY_BUCKETS_S = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """Counts of observations per bucket, with their sum, as Prometheus expects."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS_S) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str) -> list[str]:
        out = []
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            running += count
            out.append(f'{name}_bucket{{le="{bound}"}} {running}')
        out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{name}_sum {self.sum:.6f}")
        out.append(f"{name}_count {self.count}")
        return out


class Exposition:
    """Builds the text: each metric with its HELP and TYPE lines."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, name: str, kind: str, help_text: str, value: float, labels: str = "") -> None:
        self._lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        self._lines.append(
            f"{name}{labels} {value:g}" if isinstance(value, float) else f"{name}{labels} {value}"
        )

    def histogram(self, name: str, help_text: str, histogram: Histogram) -> None:
        self._lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        self._lines += histogram.lines(name)

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def render(parley: ParleyApp) -> str:
    """The current metrics of this process."""
    gateway = parley.gateway
    hub = gateway.hub
    ctx = parley.ctx
    writer = ctx.store.messages.writer
    bus = ctx.bus
    queues = [conn.queued for conn in gateway.connections]
    out = Exposition()
    out.add(
        "parley_process_info",
        "gauge",
        "This process (one per worker).",
        1,
        f'{{pid="{os.getpid()}"}}',
    )
    out.add("parley_connections", "gauge", "Open WebSocket connections.", len(queues))
    # Two tasks per connection plus a few: a number that only grows is a leak.
    out.add("parley_tasks", "gauge", "Live asyncio tasks.", len(asyncio.all_tasks()))
    out.add(
        "parley_messages_stored_total", "counter", "Messages stored by this process.", writer.stored
    )
    out.add("parley_store_batches_total", "counter", "Group-commit transactions.", writer.batches)
    out.add(
        "parley_deliveries_total", "counter", "Room frames queued to connections.", hub.deliveries
    )
    out.add(
        "parley_gap_fills_total",
        "counter",
        "Times a room's missing seqs were fetched from the database.",
        hub.gap_fills,
    )
    out.histogram(
        "parley_fanout_latency_seconds",
        "From publish to queued on every local connection of the room.",
        hub.fanout_latency,
    )
    out.add(
        "parley_outbound_queued_frames", "gauge", "Frames waiting in outbound queues.", sum(queues)
    )
    out.add(
        "parley_outbound_queue_max_frames",
        "gauge",
        "The longest outbound queue.",
        max(queues, default=0),
    )
    out.add(
        "parley_bus_lag_seconds",
        "gauge",
        "Age of the last event received from the bus.",
        float(getattr(bus, "lag_s", 0.0)),
    )
    out.add(
        "parley_bus_published_total",
        "counter",
        "Events published to Redis.",
        int(getattr(bus, "published", 0)),
    )
    out.add(
        "parley_bus_publish_failures_total",
        "counter",
        "Publishes that failed and were delivered locally only.",
        int(getattr(bus, "publish_failures", 0)),
    )
    out.add(
        "parley_bus_reconnects_total",
        "counter",
        "Times the Redis subscription came back.",
        int(getattr(bus, "reconnects", 0)),
    )
    return out.text()
