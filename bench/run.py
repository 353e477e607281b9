"""Run one benchmark scenario against Parley or the Flask-SocketIO peer.

    python -m bench.run fanout --target parley --loads 10000,25000,50000 --repeat 3
    python -m bench.run rooms  --target peer --loads 20000
    python -m bench.run idle   --target parley --conns 19000
    python -m bench.run ingest --target parley --loads 5000,10000,15000
    python -m bench.run step   --target parley

Each server start is one run; ``--repeat`` restarts it from the same fixture copy. Prints a
table and writes one JSON file per run to bench/results/. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import pgdb
from bench.fixture import Fixture
from bench.lean import mono_ns
from bench.loadgen import Target, Workers, prioritise
from bench.server import ROOT, Server, copy_data, cpu_seconds, rss_bytes

RESULTS = ROOT / "bench" / "results"
RUN_DIR = Path("/tmp/parley-bench-run")
N_SRC_IPS = 16
N_SENDERS_FANOUT = 10
PROFILE = {"path": ""}  # py-spy raw output for the first phase, from --profile


def src_ip(i: int) -> str:
    return f"127.0.0.{2 + i % N_SRC_IPS}"


def machine() -> dict:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def loadavg() -> float:
    """The machine's 1-minute load average: how noisy the neighbours were."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def pct(a: np.ndarray, q: float) -> float | None:
    return float(np.percentile(a, q)) / 1000 if len(a) else None  # ms


def largest_wal(server: Server, until_ns: int) -> int | None:
    """The SQLite WAL's largest size, read every 0.2 s until ``until_ns`` (None: no WAL)."""
    wal = server.data_dir / "parley.db-wal"
    largest = None
    while (left := until_ns - mono_ns()) > 0:
        with contextlib.suppress(FileNotFoundError):
            largest = max(largest or 0, wal.stat().st_size)
        time.sleep(min(0.2, left / 1e9))
    return largest


def run_phase(
    server: Server,
    workers: Workers,
    spec_senders: list[int],
    msg_rate: float,
    fan: int,
    warm: float,
    window: float,
    drain: float,
    track: bool = False,
) -> dict[str, Any]:
    """Send at msg_rate messages/s for warm+window seconds; measure the window."""
    total_senders = sum(spec_senders)
    t0 = mono_ns() + 500_000_000
    w_start = t0 + int(warm * 1e9)
    w_end = w_start + int(window * 1e9)
    t_end = w_end + int(drain * 1e9)
    plans = [
        {
            "t0": t0,
            "w_start": w_start,
            "w_end": w_end,
            "t_stop": w_end,
            "t_end": t_end,
            "rate": msg_rate * s / total_senders if total_senders else 0,
            "track_per_msg": track,
        }
        for s in spec_senders
    ]
    for pipe, plan in zip(workers.pipes, plans, strict=True):
        pipe.send(("run", plan))
    time.sleep(max(0.0, (w_start - mono_ns()) / 1e9))
    cpu0 = cpu_seconds(server.pid)
    spy = None
    if PROFILE["path"]:
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(window)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "-o",
                PROFILE["path"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        PROFILE["path"] = ""  # only the first phase
    wal_bytes = largest_wal(server, w_end)
    cpu1 = cpu_seconds(server.pid)
    rss = rss_bytes(server.pid)
    if spy is not None:
        spy.wait(60)
    res = []
    for pipe in workers.pipes:
        if not pipe.poll(drain + 60):
            raise TimeoutError("worker did not report")
        res.append(pipe.recv()[1])
    lat = np.concatenate([np.frombuffer(r["lat_us"], dtype=np.int64) for r in res])
    ack = np.concatenate([np.frombuffer(r["ack_lat_us"], dtype=np.int64) for r in res])
    arrived = sum(r["arrived_in_window"] for r in res)
    sent_w = sum(r["sent_in_window"] for r in res)
    acks_w = sum(r["acks_in_window"] for r in res)
    cpu = cpu1 - cpu0
    out: dict[str, Any] = {
        "offered_msgs_per_s": msg_rate,
        "offered_deliveries_per_s": msg_rate * fan,
        "sent_in_window": sent_w,
        "expected_deliveries": sent_w * fan,
        "delivered": len(lat),
        "missing": sent_w * fan - len(lat),
        "deliveries_per_s": arrived / window,
        "lat_p50_ms": pct(lat, 50),
        "lat_p95_ms": pct(lat, 95),
        "lat_p99_ms": pct(lat, 99),
        "lat_max_ms": float(lat.max()) / 1000 if len(lat) else None,
        "acked_per_s": acks_w / window,
        "acks_missing": sent_w - len(ack),
        "ack_p50_ms": pct(ack, 50),
        "ack_p99_ms": pct(ack, 99),
        "ack_max_ms": float(ack.max()) / 1000 if len(ack) else None,
        "server_cpu_s": cpu,
        "server_cpu_util": cpu / window,
        "cpu_s_per_100k_deliveries": cpu / arrived * 1e5 if arrived else None,
        "cpu_us_per_delivery": cpu / arrived * 1e6 if arrived else None,
        "cpu_us_per_ack": cpu / acks_w * 1e6 if acks_w else None,
        "server_rss_mib": rss / 2**20,
        "wal_max_mib": wal_bytes / 2**20 if wal_bytes is not None else None,
        "loadavg_1m": loadavg(),
        "errors": sum(r["errors"] for r in res),
        "closed": sum(r["closed"] for r in res),
    }
    if track:
        per: dict[bytes, int] = {}
        for r in res:
            for k, v in (r["per_msg"] or {}).items():
                if per.get(k, -1) < v:
                    per[k] = v
        done = np.array(list(per.values()), dtype=np.int64)
        out["broadcasts"] = len(done)
        out["broadcast_p50_ms"] = pct(done, 50)
        out["broadcast_p95_ms"] = pct(done, 95)
        out["broadcast_max_ms"] = float(done.max()) / 1000 if len(done) else None
    return out


def saturated(r: dict, a: argparse.Namespace) -> bool:
    """A phase past saturation leaves a backlog that would spoil the next one."""
    p99 = r["ack_p99_ms"] if r["expected_deliveries"] == 0 else r["lat_p99_ms"]
    lost = r["missing"] if r["expected_deliveries"] else r["acks_missing"]
    base = r["expected_deliveries"] or r["sent_in_window"]
    return p99 is None or p99 > a.stop_p99_ms or lost > 0.05 * max(1, base)


def specs_for(conns: list[tuple[str, Any]], sid0: int = 0) -> list[tuple]:
    """(token, room_or_None) -> (token, src_ip, sid, room_or_None)"""
    return [(tok, src_ip(sid0 + i), sid0 + i, room) for i, (tok, room) in enumerate(conns)]


def senders_per_worker(specs: list[tuple], n: int) -> list[int]:
    return [sum(1 for s in specs[i::n] if s[3] is not None) for i in range(n)]


# -- scenarios ----------------------------------------------------------------------------


def scenario_fanout(a, fx: Fixture, server: Server, workers: Workers) -> list[dict]:
    users = fx.meta["fanout_users"][: a.size]
    room = fx.meta["fanout_room"]
    conns = [(t, room if i < N_SENDERS_FANOUT else None) for i, t in enumerate(users)]
    specs = specs_for(conns)
    ok, failed, err = workers.connect(specs)
    print(f"  connected {ok}, failed {failed} {err}", flush=True)
    fan = ok - 1
    spw = senders_per_worker(specs, len(workers.pipes))
    phases = []
    for load in a.loads:
        r = run_phase(server, workers, spw, load / fan, fan, a.warm, a.window, a.drain)
        r.update(label=f"{load}", connections=ok, failed=failed)
        print_phase(r)
        phases.append(r)
        if saturated(r, a):
            print("  saturated: stopping the sweep", flush=True)
            break
        time.sleep(a.pause)
    return phases


def scenario_rooms(a, fx: Fixture, server: Server, workers: Workers) -> list[dict]:
    tokens = fx.meta["rooms_users"]
    conns = []
    for rid, members in fx.meta["rooms"][: a.rooms]:
        for j, u in enumerate(members):
            conns.append((tokens[u], rid if j == 0 else None))
    specs = specs_for(conns)
    ok, failed, err = workers.connect(specs)
    print(f"  connected {ok}, failed {failed} {err}", flush=True)
    spw = senders_per_worker(specs, len(workers.pipes))
    phases = []
    for load in a.loads:
        r = run_phase(server, workers, spw, load / 9, 9, a.warm, a.window, a.drain)
        r.update(label=f"{load}", connections=ok, failed=failed)
        print_phase(r)
        phases.append(r)
        if saturated(r, a):
            print("  saturated: stopping the sweep", flush=True)
            break
        time.sleep(a.pause)
    return phases


def scenario_ingest(a, fx: Fixture, server: Server, workers: Workers) -> list[dict]:
    tokens = fx.meta["fanout_users"]
    conns = [(tokens[u], rid) for u, rid in fx.meta["solo"][: a.solo]]
    specs = specs_for(conns)
    ok, failed, err = workers.connect(specs)
    print(f"  connected {ok}, failed {failed} {err}", flush=True)
    spw = senders_per_worker(specs, len(workers.pipes))
    phases = []
    for load in a.loads:
        r = run_phase(server, workers, spw, load, 0, a.warm, a.window, a.drain)
        r.update(label=f"{load}", connections=ok, failed=failed)
        r["cpu_us_per_message"] = r["server_cpu_s"] / max(1, r["acked_per_s"] * a.window) * 1e6
        print_phase(r)
        phases.append(r)
        if saturated(r, a):
            print("  saturated: stopping the sweep", flush=True)
            break
        time.sleep(a.pause)
    return phases


def scenario_idle(a, fx: Fixture, server: Server, workers: Workers) -> list[dict]:
    tokens = fx.meta["rooms_users"] + fx.meta["fanout_users"]
    conns = [(tokens[i % len(tokens)], None) for i in range(a.conns)]
    # Warm the server (imports, caches, one connection) before the baseline.
    workers.connect(specs_for(conns[:10], sid0=90000))
    time.sleep(2)
    rss0 = rss_bytes(server.pid)
    t = time.monotonic()
    ok, failed, err = workers.connect(specs_for(conns[10:], sid0=10))
    connect_s = time.monotonic() - t
    print(f"  connected {ok} in {connect_s:.1f}s, failed {failed} {err}", flush=True)
    time.sleep(a.settle)
    rss1 = rss_bytes(server.pid)
    cpu0 = cpu_seconds(server.pid)
    time.sleep(5)
    idle_cpu = (cpu_seconds(server.pid) - cpu0) / 5
    r = {
        "label": str(a.conns),
        "connections": ok,
        "failed": failed,
        "connect_per_s": ok / connect_s,
        "rss_before_mib": rss0 / 2**20,
        "rss_after_mib": rss1 / 2**20,
        "kib_per_connection": (rss1 - rss0) / max(1, ok) / 1024,
        "idle_cpu_util": idle_cpu,
    }
    print_phase(r)
    return [r]


def scenario_step(a, fx: Fixture, server: Server, workers: Workers) -> list[dict]:
    users = fx.meta["fanout_users"][: a.size]
    room = fx.meta["fanout_room"]
    phases = []
    total = 0
    last_ok = 0
    n_workers = len(workers.pipes)
    spw = [0] * n_workers
    while total + a.step <= a.max_conns:
        conns = [
            (users[i % len(users)], room if i < N_SENDERS_FANOUT else None)
            for i in range(total, total + a.step)
        ]
        specs = specs_for(conns, sid0=total)
        _ok, failed, _err = workers.connect(specs)
        # connect() deals specs round robin from worker 0: count senders the same way
        for i, n in enumerate(senders_per_worker(specs, n_workers)):
            spw[i] += n
        total += a.step
        fan = total - failed - 1
        r = run_phase(server, workers, spw, a.rate, fan, a.warm, a.window, a.drain, track=True)
        held = (
            r["broadcast_p95_ms"] is not None
            and r["broadcast_p95_ms"] <= a.limit_ms
            and r["missing"] <= 0.01 * max(1, r["expected_deliveries"])
        )
        r.update(label=str(total), connections=total - failed, failed=failed, held=held)
        print_phase(r)
        phases.append(r)
        if not held:
            break
        last_ok = total
    phases.append({"label": "result", "last_step_held": last_ok})
    print(f"  last step that held: {last_ok} clients", flush=True)
    return phases


SCENARIOS = {
    "fanout": (scenario_fanout, {"fanout": "size"}),
    "rooms": (scenario_rooms, {"rooms": "rooms"}),
    "ingest": (scenario_ingest, {"solo": "solo"}),
    "idle": (scenario_idle, {}),
    "step": (scenario_step, {"fanout": "size"}),
}


def print_phase(r: dict) -> None:
    keys = [
        ("label", "{}"),
        ("deliveries_per_s", "{:.0f}/s"),
        ("lat_p50_ms", "p50 {:.1f}ms"),
        ("lat_p99_ms", "p99 {:.1f}ms"),
        ("lat_max_ms", "max {:.0f}ms"),
        ("missing", "missing {}"),
        ("acked_per_s", "acked {:.0f}/s"),
        ("ack_p99_ms", "ack p99 {:.1f}ms"),
        ("cpu_s_per_100k_deliveries", "cpu {:.2f}s/100k"),
        ("server_cpu_util", "util {:.2f}"),
        ("wal_max_mib", "wal {:.0f}MiB"),
        ("loadavg_1m", "load {:.1f}"),
        ("broadcast_p95_ms", "bcast p95 {:.0f}ms"),
        ("kib_per_connection", "{:.1f} KiB/conn"),
        ("rss_after_mib", "rss {:.0f}MiB"),
        ("errors", "err {}"),
    ]
    parts = []
    for k, f in keys:
        v = r.get(k)
        if v is not None and not (k in ("errors", "missing") and v == 0):
            parts.append(f.format(v))
    print("  " + "  ".join(parts), flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--target", choices=["parley", "peer"], default="parley")
    p.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="Parley's store (postgresql: 127.0.0.1:5432, databases parley_bench_*)",
    )
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--workers", type=int, default=3, help="client processes")
    p.add_argument("--port", type=int, default=8780)
    p.add_argument(
        "--loads", default="", help="comma list: deliveries/s (fanout, rooms), msgs/s (ingest)"
    )
    p.add_argument("--size", type=int, default=1000, help="fan-out room members")
    p.add_argument("--rooms", type=int, default=1000, help="rooms of 10 (rooms scenario)")
    p.add_argument("--solo", type=int, default=100, help="ingest senders")
    p.add_argument("--conns", type=int, default=19000, help="idle connections")
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--step", type=int, default=1000)
    p.add_argument("--max-conns", type=int, default=19000)
    p.add_argument("--rate", type=float, default=10, help="step test: broadcasts/s")
    p.add_argument("--limit-ms", type=float, default=500)
    p.add_argument("--warm", type=float, default=3)
    p.add_argument("--window", type=float, default=10)
    p.add_argument("--drain", type=float, default=3)
    p.add_argument("--pause", type=float, default=1, help="seconds between phases")
    p.add_argument("--stop-p99-ms", type=float, default=2000, help="end a sweep past this")
    p.add_argument("--profile", default="", help="py-spy the server in the first phase")
    p.add_argument("--tag", default="", help="free text stored with the results")
    a = p.parse_args(argv)
    defaults = {"fanout": "50000", "rooms": "20000", "ingest": "10000"}
    a.loads = [float(x) for x in (a.loads or defaults.get(a.scenario, "0")).split(",")]
    prioritise()
    PROFILE["path"] = a.profile

    fn, parts = SCENARIOS[a.scenario]
    if a.database != "sqlite" and a.target != "parley":
        raise SystemExit("--database postgresql is for --target parley")
    fx = Fixture(a.target, a.database)
    need = {k: getattr(a, v) for k, v in parts.items()}
    if a.scenario == "idle":
        need = {"rooms": a.rooms}
    if a.scenario == "ingest":
        need["fanout"] = a.solo
    print(f"fixture {a.target}: {need}", flush=True)
    fx.ensure(**need, port=a.port + 1)

    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "parley" if a.target == "parley" else "sio"
    for run in range(a.repeat):
        data = RUN_DIR / f"{a.target}-{a.port}"
        copy_data(fx.data, data)
        database_url = pgdb.fresh_copy() if a.database == "postgresql" else None
        server = Server(a.target, data, a.port, database_url)
        server.start()
        workers = Workers(Target(kind, "127.0.0.1", a.port), a.workers)
        print(f"{a.scenario} {a.target} run {run + 1}/{a.repeat} (server pid {server.pid})")
        try:
            phases = fn(a, fx, server, workers)
        finally:
            workers.stop()
            server.stop()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = {
            "scenario": a.scenario,
            "target": a.target,
            "database": a.database,
            "run": run,
            "time": stamp,
            "tag": a.tag,
            "args": {k: v for k, v in vars(a).items()},
            "machine": machine(),
            "nice": os.environ.get("BENCH_NICE", "0"),
            "parley_commit": server.commit,
            "phases": phases,
        }
        path = RESULTS / f"{a.scenario}-{a.target}-{stamp}-{run}.json"
        path.write_text(json.dumps(out, indent=1))
        print(f"  -> {path.relative_to(ROOT)}", flush=True)
    shutil.rmtree(RUN_DIR / f"{a.target}-{a.port}", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
