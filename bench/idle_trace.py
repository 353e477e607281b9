"""What an idle WebSocket connection holds in the server: tracemalloc and RSS, per connection.

    python -m bench.idle_trace --conns 2000            # fixture from bench.run (--rooms)
    BENCH_PARLEY_SRC=worktree python -m bench.idle_trace --conns 2000 --top 25

Runs the server under tracemalloc (bench.traced_server), opens ten connections to warm
it, takes a snapshot, opens ``--conns`` more, waits ``--settle`` seconds and takes a
second one. Prints the bytes per connection that stayed allocated between the two,
grouped by the line that allocated them (``--group lineno``) or by the whole traceback
(``--group traceback``), beside the RSS growth per connection. tracemalloc slows the
server and adds its own bookkeeping to RSS: read the RSS figure from bench.run instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import httpx

from bench.fixture import Fixture
from bench.loadgen import Target, Workers
from bench.run import specs_for
from bench.server import copy_data, parley_source, rss_bytes

RUN_DIR = Path("/tmp/parley-idle-trace")
SNAPSHOT_WAIT_S = 120


def snapshot(proc: subprocess.Popen, path: Path) -> tracemalloc.Snapshot:
    """Ask the traced server for a snapshot (SIGUSR1) and load it."""
    path.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + SNAPSHOT_WAIT_S
    done = path.with_suffix(".done")
    while not done.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the server wrote no snapshot")
        time.sleep(0.2)
    done.unlink()
    return tracemalloc.Snapshot.load(str(path))


def start(data: Path, port: int, frames: int, snap: Path) -> subprocess.Popen:
    src, _commit = parley_source()
    env = dict(os.environ)
    env.update(
        PYTHONPATH=f"{src}{os.pathsep}{Path(__file__).resolve().parent.parent}",
        PARLEY_SEND_RATE="0",
        PARLEY_WS_TRANSPORT="fast",
        BENCH_TRACE_FRAMES=str(frames),
        BENCH_TRACE_SNAPSHOT=str(snap),
    )
    cmd = [sys.executable, "-m", "bench.traced_server", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--data-dir", str(data)]
    log = open(data / "server.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)
    log.close()
    url = f"http://127.0.0.1:{port}/healthz"
    for _ in range(1500):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: see {data / 'server.log'}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not become healthy")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conns", type=int, default=2000)
    p.add_argument("--rooms", type=int, default=200, help="fixture: rooms of 10")
    p.add_argument("--port", type=int, default=8860)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--settle", type=float, default=5)
    p.add_argument("--frames", type=int, default=12, help="traceback depth")
    p.add_argument("--group", choices=["lineno", "traceback", "filename"], default="lineno")
    p.add_argument("--top", type=int, default=30)
    a = p.parse_args()

    fx = Fixture("parley")
    fx.ensure(rooms=a.rooms, port=a.port + 1)
    tokens = fx.meta["rooms_users"] + fx.meta["fanout_users"]
    conns = [(tokens[i % len(tokens)], None) for i in range(a.conns + 10)]
    data = RUN_DIR / "data"
    copy_data(fx.data, data)
    snap = RUN_DIR / "snapshot"
    proc = start(data, a.port, a.frames, snap)
    workers = Workers(Target("parley", "127.0.0.1", a.port), a.workers)
    try:
        workers.connect(specs_for(conns[:10], sid0=90000))
        time.sleep(2)
        before = snapshot(proc, snap)
        rss0 = rss_bytes(proc.pid)
        ok, failed, err = workers.connect(specs_for(conns[10:], sid0=10))
        print(f"connected {ok}, failed {failed} {err}")
        time.sleep(a.settle)
        rss1 = rss_bytes(proc.pid)
        after = snapshot(proc, snap)
    finally:
        workers.stop()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    n = max(1, ok)
    stats = after.compare_to(before, a.group)
    total = sum(s.size_diff for s in stats)
    print(f"rss +{(rss1 - rss0) / n / 1024:.2f} KiB/conn (traced, slower server)")
    print(f"tracemalloc +{total / n:.0f} B/conn over {ok} connections")
    for s in stats[: a.top]:
        where = s.traceback.format()[-1].strip() if a.group != "traceback" else ""
        print(f"{s.size_diff / n:8.0f} B {s.count_diff / n:6.2f} blocks  {where}")
        if a.group == "traceback":
            for line in s.traceback.format(most_recent_first=True)[:16]:
                print("            " + line)


if __name__ == "__main__":
    main()
