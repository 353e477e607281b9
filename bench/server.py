"""Start, watch and stop the server under test; read its CPU and memory from /proc."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.loadgen import prioritise

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        if ppid == pid:
            kids.append(int(d))
    return kids


def proc_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of the server and its children, from /proc/<pid>/stat."""
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLK_TCK


def rss_bytes(pid: int) -> int:
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def parley_source() -> tuple[Path, str]:
    """Where to run Parley from, and which commit it is.

    The work tree may hold someone's half-made edits, so by default the server runs from a
    snapshot of the committed HEAD (``git archive``). ``BENCH_PARLEY_SRC=worktree`` runs the
    work tree as it is; any other value is a commit or branch to snapshot.
    """
    ref = os.environ.get("BENCH_PARLEY_SRC", "HEAD")
    if ref == "worktree":
        return ROOT, "worktree"
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    dst = Path("/tmp/parley-bench-src") / commit[:12]
    if not (dst / "parley").exists():
        dst.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "src/parley"],
            capture_output=True,
            check=True,
        ).stdout
        # The package is under src/ (src layout): dst/parley is what PYTHONPATH=dst imports.
        untar = ["tar", "-x", "--strip-components=1", "-C", str(dst)]
        subprocess.run(untar, input=archive, check=True)
    return dst, commit


class Server:
    """One server process of the target, on a copy of a fixture's data folder."""

    def __init__(
        self, target: str, data_dir: Path, port: int, database_url: str | None = None
    ) -> None:
        self.target = target
        self.data_dir = data_dir
        self.port = port
        self.database_url = database_url
        self.proc: subprocess.Popen | None = None
        self.commit = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(self.url + "/healthz", timeout=1)
            raise RuntimeError(f"something already answers on port {self.port}")
        env = dict(os.environ)
        cwd = ROOT
        if self.target == "parley":
            cwd, self.commit = parley_source()
            env["PYTHONPATH"] = str(cwd)
            cmd = [sys.executable, "-m", "parley", "serve", "--host", "127.0.0.1"]
            cmd += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
            env["PARLEY_SEND_RATE"] = "0"
            # The figures are the fast WebSocket transport's, never the ASGI fallback's.
            env["PARLEY_WS_TRANSPORT"] = "fast"
            if self.database_url:
                env["PARLEY_DATABASE_URL"] = self.database_url
        else:
            cmd = [sys.executable, str(ROOT / "bench/peers/flask_socketio_chat.py")]
            cmd += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
            env["PEER_FAST_HASH"] = "1"
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=log,
            preexec_fn=prioritise,
            start_new_session=True,  # its own scheduler autogroup, apart from the generator
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: see {self.data_dir / 'server.log'}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    time.sleep(0.3)
                    if self.proc.poll() is not None:
                        raise RuntimeError("server exited: is the port taken?")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become healthy")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def copy_data(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("server.log"))
