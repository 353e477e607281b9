"""Group commit alone: how many messages the store takes per CPU-second.

    python -m bench.store_ingest [--messages 20000] [--rounds 3] [--rooms 1]

Queues ``--messages`` messages at once (authors spread over ten users) into a fresh
SQLite database in a temporary folder and reports wall time and this process's CPU time
per round (CPU stays comparable on a busy machine). No server, no sockets: the figure
is the ceiling that storage puts under ingest.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from parley.domain.models import NewMessage, utc_now
from parley.store import open_store

AUTHORS = 10


async def run(messages: int, rounds: int, room_count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            users = [
                await store.users.create(f"u{i}", f"u{i}", "unused", utc_now())
                for i in range(AUTHORS)
            ]
            rooms = [
                await store.rooms.create(f"r{i}", "public", "", users[0].id, utc_now())
                for i in range(room_count)
            ]
            for room in rooms:
                for user in users[1:]:
                    await store.memberships.add_member(room.id, user.id, "member", utc_now())
            for round_no in range(rounds):
                wall, cpu = time.perf_counter(), time.process_time()
                futures = [
                    store.messages.append(
                        NewMessage(
                            rooms[i % room_count].id,
                            users[i % AUTHORS],
                            f"message {i}",
                            f"{round_no}-{i}",
                            utc_now(),
                        )
                    )
                    for i in range(messages)
                ]
                await asyncio.gather(*futures)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                print(
                    f"round {round_no + 1}: {messages} messages in {wall:.2f} s wall, "
                    f"{cpu:.2f} s CPU = {messages / cpu:,.0f} per CPU-second"
                )
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rooms", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.rounds, max(1, args.rooms)))


if __name__ == "__main__":
    main()
