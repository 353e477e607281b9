"""Search at scale: what one search costs in a large store, and what searches cost others.

    python -m bench.search_scale [--messages 1000000] [--data-dir DIR] [--keep]

Builds a SQLite store of ``--messages`` messages with direct bulk inserts (the schema
from Parley's own migrations, then plain INSERTs: no API, no writer), starts
``parley serve`` on it and measures, over HTTP on loopback:

- one search each (median and p95 of several words) for a person in no rooms, in two
  small rooms, and in the big "town square" room that holds a third of all messages;
- another person's ``GET /api/me`` while 20 people search at once (each their own
  account, so each has its own rate budget: what the concurrency cap has to absorb).

Run by hand; figures go in docs/performance.md. Needs a few GB of disk at 1M messages.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from parley.domain.accounts import HASHER
from parley.store import open_store

PASSWORD = "search-bench-password"
ROOMS = 1000
AUTHORS = 200
BIG_ROOM_SHARE = 1 / 3
WORDS = 5000
SEARCHERS = 20
QUERIES = ["hello", "w42", "w4", "w1234 w77", "w4999", "zzzz"]


def _vocabulary() -> list[str]:
    # A few very common words, then w0..w4999 with Zipf-like frequencies.
    return ["hello", "the", "and", *(f"w{i}" for i in range(WORDS))]


def build(db_path: Path, messages: int, seed: int = 19) -> None:
    """A migrated store with users, rooms, memberships and ``messages`` messages."""
    asyncio.run(_migrate(db_path))
    rng = random.Random(seed)
    vocab = _vocabulary()
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocab))))
    now = "2026-01-01T00:00:00.000000Z"
    pw_hash = HASHER.hash(PASSWORD)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    names = [f"author{i}" for i in range(AUTHORS)]
    names += ["lonely", "small", "big", "bystander"]
    names += [f"searcher{i}" for i in range(SEARCHERS)]
    db.executemany(
        "INSERT INTO users (username, username_key, display_name, password_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(n, n, n, pw_hash, now) for n in names],
    )
    ids = {n: i for i, n in db.execute("SELECT id, username FROM users")}
    db.executemany(
        "INSERT INTO rooms (id, name, visibility, kind, topic, created_by, created_at, last_seq)"
        " VALUES (?, ?, 'public', 'channel', '', ?, ?, 0)",
        [(r, f"room{r}", ids["author0"], now) for r in range(1, ROOMS + 1)],
    )
    members: list[tuple[int, int]] = [(r, ids[f"author{r % AUTHORS}"]) for r in range(1, ROOMS + 1)]
    members += [(2, ids["small"]), (3, ids["small"])]
    members += [(r, ids["big"]) for r in range(1, 12)]
    members += [(1, ids[f"searcher{i}"]) for i in range(SEARCHERS)]
    db.executemany(
        "INSERT OR IGNORE INTO memberships (room_id, user_id, role, joined_at)"
        " VALUES (?, ?, 'member', ?)",
        [(r, u, now) for r, u in members],
    )
    seqs = [0] * (ROOMS + 1)
    batch: list[tuple[int, int, int, str, str]] = []
    started = time.monotonic()
    for n in range(messages):
        room = 1 if rng.random() < BIG_ROOM_SHARE else rng.randint(2, ROOMS)
        seqs[room] += 1
        body = " ".join(rng.choices(vocab, cum_weights=cumulative, k=rng.randint(3, 12)))
        batch.append((room, seqs[room], ids[f"author{room % AUTHORS}"], body, now))
        if len(batch) == 50_000 or n == messages - 1:
            db.executemany(
                "INSERT INTO messages (room_id, seq, author_id, body, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                batch,
            )
            db.commit()
            batch.clear()
            print(f"  {n + 1} messages, {time.monotonic() - started:.0f} s", flush=True)
    db.executemany(
        "UPDATE rooms SET last_seq = ? WHERE id = ?", [(s, r) for r, s in enumerate(seqs)]
    )
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def _migrate(db_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{db_path}")
    await store.close()


async def _token(http: httpx.AsyncClient, username: str) -> str:
    r = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["token"])


async def _timed(http: httpx.AsyncClient, path: str, token: str, **params: str) -> float:
    started = time.perf_counter()
    r = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    elapsed = (time.perf_counter() - started) * 1000
    if r.status_code not in (200, 429, 503):
        raise RuntimeError(f"{path}: {r.status_code} {r.text}")
    return elapsed


def _summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return f"median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   (n={len(times)})"


async def measure(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for who in ("lonely", "small", "big"):
            token = await _token(http, who)
            # Under the per-person budget (10 at once, then one a second).
            times = []
            for q in QUERIES:
                times.append(await _timed(http, "/api/search", token, q=q))
                await asyncio.sleep(1.0)
            print(f"search as {who:8} {_summary(times)}", flush=True)
        bystander = await _token(http, "bystander")
        alone = [await _timed(http, "/api/me", bystander) for _ in range(50)]
        print(f"GET /api/me alone      {_summary(alone)}", flush=True)
        tokens = [await _token(http, f"searcher{i}") for i in range(SEARCHERS)]
        stop = asyncio.Event()
        outcomes: list[float] = []

        async def search_loop(token: str) -> None:
            while not stop.is_set():
                outcomes.append(await _timed(http, "/api/search", token, q="hello"))

        loops = [asyncio.create_task(search_loop(t)) for t in tokens]
        await asyncio.sleep(0.5)
        crowded = []
        for _ in range(50):
            crowded.append(await _timed(http, "/api/me", bystander))
        stop.set()
        await asyncio.gather(*loops)
        print(f"GET /api/me, {SEARCHERS} searching {_summary(crowded)}", flush=True)
        print(f"  (their searches: {_summary(outcomes)})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--port", type=int, default=8719)
    args = parser.parse_args()
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="parley-search-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "parley.db"
    try:
        if not db_path.exists():
            print(f"building {args.messages} messages in {db_path}", flush=True)
            build(db_path, args.messages)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parley",
                "serve",
                "--data-dir",
                str(folder),
                "--port",
                str(args.port),
            ],
        )
        try:
            url = f"http://127.0.0.1:{args.port}"
            for _ in range(200):
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(measure(url))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
