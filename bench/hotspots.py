"""Top functions in a py-spy raw (collapsed stacks) profile: self and inclusive time.

python -m bench.hotspots bench/results/profile-fanout.txt
"""

from __future__ import annotations

import re
import sys
from collections import Counter


def main() -> None:
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in open(path):  # noqa: SIM115
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        self_c[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    print(f"{total} samples\n\nself time:")
    for f, c in self_c.most_common(n):
        print(f"{100 * c / total:5.1f}%  {f}")
    print("\ninclusive time:")
    for f, c in incl.most_common(n):
        print(f"{100 * c / total:5.1f}%  {f}")


if __name__ == "__main__":
    main()
