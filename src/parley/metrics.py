"""Metrics in the Prometheus text format, hand-rolled.

The hot path only adds to plain ints (``hub.deliveries += n``) or calls
:meth:`Histogram.observe` once per event; everything else is read from the parts when
``/metrics`` is scraped, by the app (the one place that knows every part), into a
:class:`Readings` of plain values. This module imports no other part of Parley, so any
part may keep a Histogram. No dependency, no lock: one event loop per process.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class BusReadings:
    """What a fan-out bus counts; the in-process bus counts nothing, so all zeros."""

    lag_s: float = 0.0
    published: int = 0
    publish_failures: int = 0
    reconnects: int = 0


@dataclass(frozen=True, slots=True)
class Readings:
    """The numbers of one scrape, read from the parts of this process."""

    queued_per_connection: list[int]
    messages_stored: int
    store_batches: int
    deliveries: int
    gap_fills: int
    fanout_latency: Histogram
    bus: BusReadings
    messages_erased: int = 0
    messages_expired: int = 0
    files_removed: int = 0
    # Web Push (parley.domain.push_sender): deliveries by outcome, and what waits.
    push_sent: int = 0
    push_failed: int = 0
    push_dropped: int = 0
    push_gone: int = 0
    push_retried: int = 0
    push_queued: int = 0


def render(readings: Readings) -> str:
    """The metrics of this process, in the Prometheus text format."""
    queues = readings.queued_per_connection
    bus = readings.bus
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
        "parley_messages_stored_total",
        "counter",
        "Messages stored by this process.",
        readings.messages_stored,
    )
    out.add(
        "parley_store_batches_total",
        "counter",
        "Group-commit transactions.",
        readings.store_batches,
    )
    out.add(
        "parley_deliveries_total",
        "counter",
        "Room frames queued to connections.",
        readings.deliveries,
    )
    out.add(
        "parley_messages_expired_total",
        "counter",
        "Messages deleted by retention in this process.",
        readings.messages_expired,
    )
    out.add(
        "parley_messages_erased_total",
        "counter",
        "Messages of deleted accounts erased by this process.",
        readings.messages_erased,
    )
    out.add(
        "parley_lifecycle_files_removed_total",
        "counter",
        "Files removed with erased or expired messages.",
        readings.files_removed,
    )
    for outcome, value, meaning in (
        ("sent", readings.push_sent, "Push messages a push service accepted."),
        ("failed", readings.push_failed, "Push messages given up on (refused, or retries spent)."),
        ("dropped", readings.push_dropped, "Push messages dropped because the queue was full."),
        ("gone", readings.push_gone, "Subscriptions deleted because the service said 404/410."),
        ("retried", readings.push_retried, "Push attempts retried after 429, 5xx or a timeout."),
    ):
        out.add(f"parley_push_{outcome}_total", "counter", meaning, value)
    out.add(
        "parley_push_queue_depth", "gauge", "Messages and deliveries waiting.", readings.push_queued
    )
    out.add(
        "parley_gap_fills_total",
        "counter",
        "Times a room's missing seqs were fetched from the database.",
        readings.gap_fills,
    )
    out.histogram(
        "parley_fanout_latency_seconds",
        "From publish to queued on every local connection of the room.",
        readings.fanout_latency,
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
        "parley_bus_lag_seconds", "gauge", "Age of the last event received from the bus.", bus.lag_s
    )
    out.add("parley_bus_published_total", "counter", "Events published to Redis.", bus.published)
    out.add(
        "parley_bus_publish_failures_total",
        "counter",
        "Publishes that failed and were delivered locally only.",
        bus.publish_failures,
    )
    out.add(
        "parley_bus_reconnects_total",
        "counter",
        "Times the Redis subscription came back.",
        bus.reconnects,
    )
    return out.text()
