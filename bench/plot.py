"""Plot fan-out p99 latency against offered load, Parley and the peer (medians of runs).

python -m bench.plot --tag final   # writes docs/perf-p99-vs-load.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.report import TARGETS, grouped, load, medians
from bench.server import ROOT


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tag", default=None)
    p.add_argument("--scenario", default="fanout")
    p.add_argument("--note", default="", help="a line under the title, e.g. the machine's load")
    p.add_argument("--out", default=str(ROOT / "docs" / "perf-p99-vs-load.png"))
    a = p.parse_args()
    tags = a.tag.split(",") if a.tag else [None]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    colors = {"parley": "tab:blue", "peer": "tab:orange"}
    for k, tag in enumerate(tags):
        g = grouped(load(tag), a.scenario)
        for t, style in zip(TARGETS, ("o-", "s--"), strict=True):
            rows = [medians(phs) for phs in g.get(t, {}).values()]
            rows.sort(key=lambda m: m["offered_deliveries_per_s"])
            xs = [m["offered_deliveries_per_s"] / 1000 for m in rows]
            ys = [m["lat_p99_ms"] for m in rows]
            name = "Parley (Quart + uvicorn)" if t == "parley" else "peer (Flask-SocketIO + gevent)"
            if len(tags) > 1:
                name += f", {tag}"
            ax.plot(xs, ys, style, label=name, color=colors[t], alpha=1.0 if k == 0 else 0.45)
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.text(0.5, 52, "50 ms", color="grey", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("offered load, thousand deliveries/s (one room of 1,000 members)")
    ax.set_ylabel("p99 delivery latency, ms (log)")
    title = "Fan-out: p99 latency against offered load (median of runs)"
    ax.set_title(title + (f"\n{a.note}" if a.note else ""), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
