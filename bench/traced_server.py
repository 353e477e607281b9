"""``parley`` under tracemalloc, dumping a snapshot on SIGUSR1 (see bench.idle_trace).

The snapshot goes to ``$BENCH_TRACE_SNAPSHOT``, then an empty ``.done`` file beside it
says it is complete. Collected garbage first: the question is what stays held.
"""

from __future__ import annotations

import gc
import os
import runpy
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType


def _dump(_sig: int, _frame: FrameType | None) -> None:
    path = Path(os.environ["BENCH_TRACE_SNAPSHOT"])
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    snapshot.dump(str(path))
    path.with_suffix(".done").touch()


def main() -> None:
    tracemalloc.start(int(os.environ.get("BENCH_TRACE_FRAMES", "12")))
    signal.signal(signal.SIGUSR1, _dump)
    sys.argv = ["parley", *sys.argv[1:]]
    runpy.run_module("parley", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
