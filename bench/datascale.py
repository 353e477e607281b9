"""Data scale: what interactive requests cost once a store holds a year of an organisation.

    python -m bench.datascale build   [--messages 10000000] [--dir DIR]
    python -m bench.datascale measure [--dir DIR] [--runs 3]
    python -m bench.datascale plans   [--dir DIR]

On PostgreSQL (bench/datascale_pg.py: the same rows, copied from the SQLite fixture):

    python -m bench.datascale build   --database postgresql://.../parley_ds10m [--dir DIR]
    python -m bench.datascale measure --database postgresql://.../parley_ds10m \
        --common-word lacas

``build`` makes a SQLite store shaped like a year of a 10,000-person organisation, once,
and caches it (default ``bench/.cache/datascale-<messages>/``; `--messages 0` is the
"empty store" to compare with: the same people and rooms, no history):

- 10,000 accounts; 2,000 rooms: three of 5,000 members, the rest 5-50;
- ``--messages`` spread over 365 days in time order, 15 % in the first big room (so a
  history page 1 million messages back exists at 10M), 5 % in each other big room, the
  rest over the small rooms by a Zipf law; bodies of realistic length (a log-normal
  word count, a Zipf vocabulary), 3 % mentioning a member, 5 % with reactions, 2 %
  edited, 0.3 % deleted, 1 % with a file (metadata only);
- the person measured, ``u00000``, is in 200 rooms (the three big ones and 197 small),
  with read markers a day behind in a tenth of them.

It writes through the schema of Parley's own migrations, with bulk INSERTs in one
connection (no API, no writer), the search index's triggers set aside during the load
and the index rebuilt in one pass at the end.

``measure`` starts ``parley serve`` on a copy-free read of the store and times, p50 and
p99 over HTTP and WebSocket on loopback: sign-in, ``ready`` for the person of 200
rooms, ``GET /api/rooms`` (unread counts), a history page at the newest end and 1M
back, resume after a day and a week away, search (a common and a rare word, in one room
and everywhere), mark read, the public directory; then startup time, the server's
resident memory, and database bytes per message. ``plans`` prints ``EXPLAIN QUERY
PLAN`` for the statements behind those requests, captured from the store itself.

Run by hand on a quiet machine; figures go in docs/performance.md, "Data scale".
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

from bench.server import ROOT
from parley.domain.accounts import HASHER
from parley.store import open_store

CACHE = ROOT / "bench" / ".cache"
PASSWORD = "datascale-password-1"
PEOPLE = 10_000
ROOMS = 2_000
BIG_ROOMS = 3
BIG_MEMBERS = 5_000
BIG_SHARES = (0.15, 0.05, 0.05)
ME = "u00000"
MY_SMALL_ROOMS = 197
YEAR_S = 365 * 86_400
START = 1_735_689_600.0  # 2025-01-01T00:00:00Z: the fixture's year ends 2026-01-01
DAY_S = 86_400
VOCABULARY = 8_000
COMMON = ["the", "and", "to", "a", "of", "in", "is", "it", "for", "on", "we", "that"]
RARE_WORD = "zygomorphic"  # planted in 1 message in 100,000
BATCH = 100_000


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


def username(i: int) -> str:
    return f"u{i:05d}"


# -- build --------------------------------------------------------------------------------


class Shape:
    """Who is in which room and how busy each room is; the same for every --messages."""

    def __init__(self, rng: random.Random) -> None:
        self.members: list[list[int]] = [[] for _ in range(ROOMS + 1)]  # user ids, 1-based
        spans = [(1, BIG_MEMBERS), (2_501, 2_500 + BIG_MEMBERS), (5_001, 5_000 + BIG_MEMBERS)]
        for room, (first, last) in enumerate(spans, 1):
            self.members[room] = list(range(first, last + 1))
        for room in range(BIG_ROOMS + 1, ROOMS + 1):
            self.members[room] = rng.sample(range(1, PEOPLE + 1), rng.randint(5, 50))
        me = 1  # u00000 has id 1
        mine = rng.sample(range(BIG_ROOMS + 1, ROOMS + 1), MY_SMALL_ROOMS)
        for room in [2, 3, *mine]:
            if me not in self.members[room]:
                self.members[room].append(me)
        self.my_rooms = sorted([1, 2, 3, *mine])
        # Small rooms' share of the rest: Zipf over a shuffled order.
        small = list(range(BIG_ROOMS + 1, ROOMS + 1))
        rng.shuffle(small)
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(small))]
        rest = 1 - sum(BIG_SHARES)
        total = sum(weights)
        self.rooms = [1, 2, 3, *small]
        shares = [*BIG_SHARES, *(w / total * rest for w in weights)]
        self.cumulative = list(itertools.accumulate(shares))

    def pick_room(self, rng: random.Random) -> int:
        at = bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])
        return self.rooms[min(at, len(self.rooms) - 1)]


class Bodies:
    """Message texts: a log-normal number of words from a Zipf vocabulary."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = COMMON + [self._word(i) for i in range(VOCABULARY)]
        self.cumulative = list(
            itertools.accumulate(1 / (rank + 1) for rank in range(len(self.words)))
        )

    def _word(self, i: int) -> str:
        consonants, vowels = "bcdfghklmnprstvz", "aeiou"
        out, n = [], i + 7
        for _ in range(2 + i % 4):
            out.append(consonants[n % 16] + vowels[(n // 16) % 5])
            n //= 7
        return "".join(out) + ("s" if i % 3 == 0 else "")

    def text(self) -> str:
        count = max(1, min(400, int(self.rng.lognormvariate(2.2, 0.8))))
        words = self.rng.choices(self.words, cum_weights=self.cumulative, k=count)
        if self.rng.random() < 1e-5:
            words[0] = RARE_WORD
        return " ".join(words)


def build(folder: Path, messages: int, seed: int = 26) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "parley.db"
    if db_path.exists():
        raise SystemExit(f"{db_path} exists: measure it, or remove the folder to build again")
    began = time.monotonic()
    asyncio.run(_migrate(db_path))
    rng = random.Random(seed)
    shape = Shape(rng)
    bodies = Bodies(rng)
    db = sqlite3.connect(db_path)
    for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-1000000"):
        db.execute(f"PRAGMA {pragma}")
    triggers = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'"
    ).fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")

    pw_hash = HASHER.hash(PASSWORD)
    created = iso(START - 30 * DAY_S)
    db.executemany(
        "INSERT INTO users (id, username, username_key, display_name, password_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(i + 1, username(i), username(i), f"Person {i}", pw_hash, created) for i in range(PEOPLE)],
    )
    db.executemany(
        "INSERT INTO rooms (id, name, visibility, kind, topic, created_by, created_at, last_seq)"
        " VALUES (?, ?, ?, 'channel', '', ?, ?, 0)",
        [
            (r, f"room-{r}", "public" if r % 4 else "private", shape.members[r][0], created)
            for r in range(1, ROOMS + 1)
        ],
    )
    db.executemany(
        "INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
        [
            (r, u, "owner" if k == 0 else "member", created)
            for r in range(1, ROOMS + 1)
            for k, u in enumerate(shape.members[r])
        ],
    )

    seqs = [0] * (ROOMS + 1)
    last_before: dict[str, list[int]] = {"day": [0] * (ROOMS + 1), "week": [0] * (ROOMS + 1)}
    cutoffs = {"day": START + YEAR_S - DAY_S, "week": START + YEAR_S - 7 * DAY_S}
    rows: list[tuple[Any, ...]] = []
    mentions: list[tuple[int, int, int, int]] = []
    reactions: list[tuple[int, str, int, str]] = []
    files: list[tuple[Any, ...]] = []
    links: list[tuple[int, str]] = []
    emoji = ["+1", "heart", "joy", "tada", "eyes", "rocket"]
    step = YEAR_S / max(1, messages)

    def flush() -> None:
        db.executemany(
            "INSERT INTO messages (id, room_id, seq, author_id, body, created_at, edited_at,"
            " deleted_at, mentions_room, file_names) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            rows,
        )
        db.executemany(
            "INSERT INTO message_mentions (message_id, user_id, room_id, seq) VALUES (?,?,?,?)",
            mentions,
        )
        db.executemany(
            "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            reactions,
        )
        db.executemany(
            "INSERT INTO files (id, uploader_id, name, size, content_type, blob_key,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            files,
        )
        db.executemany("INSERT INTO message_files (message_id, file_id) VALUES (?, ?)", links)
        db.commit()
        for batch in (rows, mentions, reactions, files, links):
            batch.clear()

    for n in range(messages):
        message_id = n + 1
        t = START + n * step + rng.random() * step
        room = shape.pick_room(rng)
        seqs[room] += 1
        for period, cutoff in cutoffs.items():
            if t < cutoff:
                last_before[period][room] = seqs[room]
        members = shape.members[room]
        author = members[rng.randrange(len(members))]
        body = bodies.text()
        roll = rng.random()
        edited = iso(t + 60) if roll < 0.02 else None
        deleted = iso(t + 120) if 0.02 <= roll < 0.023 else None
        file_name = None
        if 0.03 <= roll < 0.04:
            file_name = f"report-{n}.pdf"
            file_id = f"f{n:031d}"
            files.append((file_id, author, file_name, 1000 + n % 5_000_000, "application/pdf",
                          f"{n:064x}", iso(t)))  # fmt: skip
            links.append((message_id, file_id))
        if rng.random() < 0.03:
            named = members[rng.randrange(len(members))]
            body = f"@{username(named - 1)} {body}"
            mentions.append((message_id, named, room, seqs[room]))
        if rng.random() < 0.05:
            for _ in range(rng.randint(1, 3)):
                reactor = members[rng.randrange(len(members))]
                reactions.append((message_id, rng.choice(emoji), reactor, iso(t + 30)))
        rows.append((message_id, room, seqs[room], author, "" if deleted else body, iso(t),
                     edited, deleted, file_name))  # fmt: skip
        if len(rows) >= BATCH:
            flush()
            done = n + 1
            rate = done / (time.monotonic() - began)
            print(f"  {done:,} messages, {rate:,.0f}/s", file=sys.stderr, flush=True)
    flush()
    db.executemany(
        "UPDATE rooms SET last_seq = ? WHERE id = ?", list(zip(seqs, range(ROOMS + 1), strict=True))
    )
    # Read markers: everyone has read everything, but the person measured is a day behind
    # in a tenth of their rooms (ready and the room list then count real unread).
    db.execute("UPDATE memberships SET read_seq = (SELECT last_seq FROM rooms WHERE id = room_id)")
    behind = shape.my_rooms[::10]
    db.executemany(
        "UPDATE memberships SET read_seq = ? WHERE room_id = ? AND user_id = 1",
        [(last_before["day"][r], r) for r in behind],
    )
    db.commit()
    print("  rebuilding the search index", file=sys.stderr, flush=True)
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
    for _, sql in triggers:
        db.execute(sql)
    db.commit()
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    meta = {
        "messages": messages,
        "people": PEOPLE,
        "rooms": ROOMS,
        "my_rooms": shape.my_rooms,
        "last_seq": {str(r): seqs[r] for r in shape.my_rooms},
        "resume": {p: {str(r): v[r] for r in shape.my_rooms} for p, v in last_before.items()},
        "build_s": round(time.monotonic() - began, 1),
        "db_bytes": db_path.stat().st_size,
    }
    (folder / "datascale.json").write_text(json.dumps(meta))
    return meta


async def _migrate(db_path: Path) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{db_path}")
    await store.close()


# -- measure ------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * pct / 100))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "n": len(values),
    }


class Server:
    def __init__(self, folder: Path, port: int, database: str | None = None) -> None:
        self.folder = folder
        self.port = port
        self.database = database
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        env = {**os.environ, "PARLEY_SEND_RATE": "0"}
        if self.database:
            env["PARLEY_DATABASE_URL"] = self.database
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve", "--data-dir", str(self.folder),
             "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = began + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit(f"parley serve exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise SystemExit("parley serve did not answer /healthz within 300 s")

    def rss_mib(self) -> float:
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return round(kib / 1024, 1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


async def timed(repeat: int, action: Callable[[], Awaitable[object]]) -> list[float]:
    print(f"  {getattr(action, '__name__', 'step')} x{repeat}", file=sys.stderr, flush=True)
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        await action()
        out.append((time.perf_counter() - began) * 1000)
    return out


async def measure_once(
    server: Server, meta: dict[str, Any], runs: int, common: str = "the"
) -> dict[str, Any]:
    big = 1
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

        async def sign_in(name: str = ME) -> str:
            r = await http.post("/api/auth/login", json={"username": name, "password": PASSWORD})
            r.raise_for_status()
            return str(r.json()["token"])

        results["sign_in"] = summary(await timed(20, sign_in))
        token = await sign_in()
        auth = {"Authorization": f"Bearer {token}"}

        async def get(path: str, **params: Any) -> Any:
            r = await http.get(path, params=params, headers=auth)
            r.raise_for_status()
            return r.json()

        ws_url = server.url.replace("http", "ws") + f"/ws?token={token}"

        async def ready() -> None:
            async with websockets.connect(ws_url, max_size=None) as ws:
                frame = orjson.loads(await ws.recv())
                assert frame["type"] == "ready", frame

        results["ready_200_rooms"] = summary(await timed(30, ready))
        results["room_list_unread"] = summary(await timed(30, lambda: get("/api/rooms")))
        last = int(meta["last_seq"][str(big)])
        results["history_newest"] = summary(
            await timed(50, lambda: get(f"/api/rooms/{big}/messages", limit=50))
        )
        back = max(1, last - 1_000_000)
        results["history_1m_back"] = summary(
            await timed(50, lambda: get(f"/api/rooms/{big}/messages", limit=50, before_seq=back))
        )
        for period in ("day", "week"):
            cursors = meta["resume"][period]
            counted: list[int] = []

            async def resume(
                cursors: dict[str, int] = cursors, counted: list[int] = counted
            ) -> None:
                async with websockets.connect(ws_url + "&resume=1", max_size=None) as ws:
                    assert orjson.loads(await ws.recv())["type"] == "ready"
                    await ws.send(orjson.dumps({"type": "resume", "cursors": cursors}).decode())
                    n = 0
                    while True:
                        frame = orjson.loads(await ws.recv())
                        if frame["type"] == "resumed":
                            break
                        n += frame["type"] == "message"
                    counted.append(n)

            results[f"resume_after_a_{period}"] = {
                **summary(await timed(max(3, runs), resume)),
                "messages": counted[0] if counted else 0,
            }
        rare = RARE_WORD
        quiet = min(meta["my_rooms"], key=lambda r: int(meta["last_seq"][str(r)]))
        for label, params in (
            ("search_common_one_room", {"q": common, "room_id": big}),
            ("search_rare_one_room", {"q": rare, "room_id": big}),
            ("search_common_small_room", {"q": common, "room_id": quiet}),
            ("search_prefix_small_room", {"q": "tha", "room_id": quiet}),
            ("search_common_everywhere", {"q": common}),
            ("search_rare_everywhere", {"q": rare}),
        ):
            times = []
            for _ in range(8):  # within the per-person budget: 10 at once, then 1 a second
                began = time.perf_counter()
                r = await http.get("/api/search", params=params, headers=auth)
                times.append((time.perf_counter() - began) * 1000)
                if r.status_code != 200:
                    results.setdefault("search_errors", []).append(f"{label}: {r.status_code}")
                await asyncio.sleep(1.0)
            results[label] = summary(times)
        small = meta["my_rooms"][3]
        top = int(meta["last_seq"][str(small)])
        marks = iter(range(max(1, top - 200), top + 1))

        async def mark_read() -> None:
            r = await http.post(
                f"/api/rooms/{small}/read", json={"seq": next(marks, top)}, headers=auth
            )
            r.raise_for_status()

        results["mark_read"] = summary(await timed(50, mark_read))
        results["directory"] = summary(await timed(30, lambda: get("/api/rooms", scope="public")))
    return results


def measure(
    folder: Path, runs: int, port: int, database: str | None = None, common: str = "the"
) -> dict[str, Any]:
    meta = json.loads((folder / "datascale.json").read_text())
    report: dict[str, Any] = {"messages": meta["messages"], "common_word": common, "runs": []}
    startups = []
    for _ in range(runs):
        server = Server(folder, port, database)
        startups.append(server.start())
        try:
            run = asyncio.run(measure_once(server, meta, runs, common))
            run["rss_mib"] = server.rss_mib()
            report["runs"].append(run)
        finally:
            server.stop()
    report["startup_s"] = [round(s, 2) for s in startups]
    if database:
        from bench.datascale_pg import database_bytes

        db_bytes = asyncio.run(database_bytes(database))
    else:
        db_bytes = sum(p.stat().st_size for p in folder.glob("parley.db*"))
    report["db_bytes"] = db_bytes
    if meta["messages"]:
        report["db_bytes_per_message"] = round(db_bytes / meta["messages"], 1)
    report["median_of_runs"] = {
        key: round(statistics.median(run[key]["p99_ms"] for run in report["runs"]), 2)
        for key in report["runs"][0]
        if isinstance(report["runs"][0][key], dict)
    }
    return report


# -- plans ---------------------------------------------------------------------------------


def plans(
    folder: Path, database: str | None = None, common: str = "the"
) -> Iterator[tuple[str, str, list[str]]]:
    """(request, statement, plan lines) for the statements the hot requests run, captured
    from Parley's own store while it answers them: ``EXPLAIN QUERY PLAN`` on SQLite,
    ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (``database``)."""
    if database:
        from bench.datascale_pg import explain

        url = "postgresql+asyncpg://" + database.split("://", 1)[1]
        captured = asyncio.run(_capture_statements(folder, url, common))
        return iter(asyncio.run(explain(database, captured)))
    db_path = folder / "parley.db"
    captured = asyncio.run(_capture_statements(folder, f"sqlite+aiosqlite:///{db_path}", common))
    out = []
    db = sqlite3.connect(db_path)
    for name, statement, parameters in captured:
        params = parameters if isinstance(parameters, (tuple, list, dict)) else ()
        rows = db.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
        shown = re.sub(r"\(\?(, \?)+\)", "(?, …)", " ".join(statement.split()))
        out.append((name, shown, [str(r[3]) for r in rows]))
    db.close()
    return iter(out)


async def _capture_statements(
    folder: Path, url: str, common: str = "the"
) -> list[tuple[str, str, Any]]:
    from sqlalchemy import event

    meta = json.loads((folder / "datascale.json").read_text())
    store = await open_store(url, run_migrations=False)
    captured: list[tuple[str, str, Any]] = []
    label = [""]

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            captured.append((label[0], statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", before)
    big, small = 1, meta["my_rooms"][3]
    last = int(meta["last_seq"][str(big)])
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("ready", lambda: store.memberships.room_cursors_of(1)),
        ("room list", lambda: store.memberships.rooms_of(1)),
        (
            "history newest",
            lambda: store.messages.page(big, before_seq=None, after_seq=None, limit=50),
        ),
        (
            "history 1M back",
            lambda: store.messages.page(
                big, before_seq=max(1, last - 1_000_000), after_seq=None, limit=50
            ),
        ),
        (
            "resume",
            lambda: store.messages.page(big, before_seq=None, after_seq=last - 500, limit=200),
        ),
        ("mark read", lambda: store.memberships.mark_read(small, 1, 1)),
        ("directory", lambda: store.rooms.public_rooms(500)),
    ]
    for word, kind in ((common, "common"), (RARE_WORD, "rare")):
        for room, where in ((big, "one room"), (None, "everywhere")):
            steps.append(
                (
                    f"search, {kind} word, {where}",
                    lambda word=word, room=room: store.search.search(
                        1, [word], room_id=room, author_id=None, limit=20, timeout_s=30.0
                    ),
                )
            )
    for name, step in steps:
        label[0] = name
        await step()
    await store.close()
    return captured


# -- command line ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "measure", "plans"))
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8726)
    parser.add_argument(
        "--common-word",
        default="the",
        help="the common word searched; PostgreSQL's English configuration drops 'the' as a"
        " stop word (it finds nothing), so measure it there with 'lacas' (in ~9%% of messages)",
    )
    parser.add_argument(
        "--database",
        default=None,
        help="postgresql://.../parley_ds<...>: the PostgreSQL fixture (bench/datascale_pg.py);"
        " with build, --dir names the SQLite fixture it is copied from",
    )
    args = parser.parse_args()
    folder = args.dir or CACHE / f"datascale-{args.messages}"
    if args.database:
        from bench import datascale_pg

        if args.command == "build":
            meta = datascale_pg.build(args.database, folder, args.messages)
            print(json.dumps({k: meta[k] for k in ("messages", "build_s", "db_bytes")}))
            return
        folder = datascale_pg.folder_of(args.database)
    if args.command == "build":
        print(json.dumps({k: v for k, v in build(folder, args.messages).items()
                          if k in ("messages", "build_s", "db_bytes")}))  # fmt: skip
    elif args.command == "measure":
        report = measure(folder, args.runs, args.port, args.database, args.common_word)
        print(json.dumps(report, indent=2))
    else:
        for name, statement, plan in plans(folder, args.database, args.common_word):
            print(f"-- {name}\n{statement}")
            for line in plan:
                print(f"   {line}")
            print()


if __name__ == "__main__":
    main()
