"""Accounts and rooms for the scenarios, made once over the HTTP API and cached.

A fixture is a data folder plus ``fixture.json`` (tokens, room ids) under ``bench/.cache/``.
Each run copies the folder, so every run starts from the same state, and the slow part
(password hashing for thousands of accounts) is paid once. Parts are added on demand:

- ``fanout``: F users ``f00000..`` all in one public room (the fan-out and step tests).
- ``rooms``: R public rooms of 10 users each, ``r00000..`` (many rooms, idle connections).
- ``solo``: the first S fan-out users each own a private room with no one else (ingest).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from bench import pgdb
from bench.server import ROOT, Server

CACHE = ROOT / "bench" / ".cache"
PASSWORD = "bench-password-123"


class Fixture:
    def __init__(self, target: str, database: str = "sqlite") -> None:
        self.target = target
        self.database = database
        # PostgreSQL: the data lives in pgdb.FIXTURE; the folder keeps the metadata.
        self.dir = CACHE / (target if database == "sqlite" else f"{target}-{database}")
        self.data = self.dir / "data"
        self.meta_path = self.dir / "fixture.json"
        self.meta: dict[str, Any] = (
            json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}
        )

    def save(self) -> None:
        self.meta_path.write_text(json.dumps(self.meta))

    def ensure(self, fanout: int = 0, rooms: int = 0, solo: int = 0, port: int = 8790) -> None:
        need_f = fanout > len(self.meta.get("fanout_users", []))
        need_r = rooms > len(self.meta.get("rooms", []))
        need_s = solo > len(self.meta.get("solo", []))
        if not (need_f or need_r or need_s):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        database_url = None
        if self.database == "postgresql":
            pgdb.ensure(pgdb.FIXTURE)
            database_url = pgdb.url(pgdb.FIXTURE)
        server = Server(self.target, self.data, port, database_url)
        server.start()
        try:
            asyncio.run(self._build(server.url, max(fanout, solo), rooms, solo))
        finally:
            server.stop()
        self.save()

    async def _build(self, url: str, fanout: int, rooms: int, solo: int) -> None:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
            sem = asyncio.Semaphore(8)

            async def post(path: str, body: dict | None, token: str | None) -> dict:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with sem:
                    for attempt in range(5):
                        r = await http.post(path, json=body, headers=headers)
                        if r.status_code == 429:
                            await asyncio.sleep(float(r.headers.get("Retry-After", 1)))
                            continue
                        if r.status_code >= 400:
                            raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
                        return r.json() if r.content else {}
                        del attempt
                raise RuntimeError(f"{path}: rate limited")

            async def register(name: str) -> str:
                res = await post(
                    "/api/auth/register", {"username": name, "password": PASSWORD}, None
                )
                return res["token"]

            async def users(prefix: str, start: int, n: int) -> list[str]:
                t = time.monotonic()
                out = await asyncio.gather(*(register(f"{prefix}{i:05d}") for i in range(start, n)))
                print(f"  registered {n - start} users in {time.monotonic() - t:.1f}s", flush=True)
                return list(out)

            m = self.meta
            fu = m.setdefault("fanout_users", [])
            if fanout > len(fu):
                fu += await users("f", len(fu), fanout)
                if "fanout_room" not in m:
                    res = await post(
                        "/api/rooms", {"name": "fanout", "visibility": "public"}, fu[0]
                    )
                    m["fanout_room"] = res["room"]["id"]
                    m["fanout_members"] = 1
                room = m["fanout_room"]
                await asyncio.gather(
                    *(post(f"/api/rooms/{room}/join", None, t) for t in fu[m["fanout_members"] :])
                )
                m["fanout_members"] = len(fu)
            rs = m.setdefault("rooms", [])
            ru = m.setdefault("rooms_users", [])
            if rooms > len(rs):
                ru += await users("r", len(ru), rooms * 10)

                async def make_room(k: int) -> list:
                    members = list(range(k * 10, k * 10 + 10))
                    res = await post(
                        "/api/rooms", {"name": f"room{k}", "visibility": "public"}, ru[members[0]]
                    )
                    rid = res["room"]["id"]
                    for u in members[1:]:
                        await post(f"/api/rooms/{rid}/join", None, ru[u])
                    return [rid, members]

                rs += await asyncio.gather(*(make_room(k) for k in range(len(rs), rooms)))
            so = m.setdefault("solo", [])
            if solo > len(so):

                async def make_solo(u: int) -> list:
                    res = await post(
                        "/api/rooms", {"name": f"solo{u}", "visibility": "private"}, fu[u]
                    )
                    return [u, res["room"]["id"]]

                so += await asyncio.gather(*(make_solo(u) for u in range(len(so), solo)))


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="Build (or extend) a cached fixture.")
    p.add_argument("--target", choices=["parley", "peer"], default="parley")
    p.add_argument("--fanout", type=int, default=1000)
    p.add_argument("--rooms", type=int, default=1000)
    p.add_argument("--solo", type=int, default=100)
    p.add_argument("--port", type=int, default=8791)
    a = p.parse_args()
    t = time.monotonic()
    Fixture(a.target).ensure(fanout=a.fanout, rooms=a.rooms, solo=a.solo, port=a.port)
    print(f"fixture {a.target} ready in {time.monotonic() - t:.0f}s")


if __name__ == "__main__":
    main()
