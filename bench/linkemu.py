"""A userspace stand-in for `tc netem`: delay, jitter and loss between network namespaces.

bench/multihost.py wants 1-20 ms links with some loss. Where the kernel has sch_netem,
`tc qdisc add dev eth0 root netem delay 5ms 1ms loss 0.3%` does it; kernels built
without it (this project's CI box among them: only pfifo, tbf and htb) get this
instead. It creates one TUN device per namespace (``tunN``, L3, no packet info), each
moved by the caller into its namespace and given an address there, and routes IPv4
packets between them as a router would: a packet from A to B waits A's delay plus B's
(each with up to a quarter of jitter), is dropped with the given probability at each
link, and never overtakes an earlier packet on the same link (so TCP sees latency and
loss, not reordering).

    ip netns exec NS python -m bench.linkemu 10.77.0.1=0 10.77.0.11=2 10.77.0.20=5 --loss 0.003

creates tun0, tun1, tun2 in NS for those addresses (one-way delays in ms), prints
"ready" and routes until its stdin closes or it gets SIGTERM. Its devices vanish with it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def serve(links: list[tuple[str, float]], loss: float, seed: int) -> None:
    rng = random.Random(seed)
    fds = [open_tun(f"tun{i}") for i in range(len(links))]
    by_addr = {bytes(int(part) for part in addr.split(".")): i for i, (addr, _) in enumerate(links)}
    delays = [ms / 1000 for _, ms in links]
    # (due, order, out_fd_index, packet); last_due per link keeps each link FIFO.
    queue: list[tuple[float, int, int, bytes]] = []
    last_due = [0.0] * len(links)
    order = 0
    print("ready", flush=True)
    watched = [*fds, sys.stdin.fileno()]
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
        readable, _, _ = select.select(watched, [], [], timeout)
        if sys.stdin.fileno() in readable and not os.read(sys.stdin.fileno(), 1):
            return  # the caller has gone: stop, and the devices go with us
        now = time.monotonic()
        for src, fd in enumerate(fds):
            if fd not in readable:
                continue
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if len(packet) < 20 or packet[0] >> 4 != 4:
                    continue  # IPv4 only: the rehearsal uses nothing else
                dst = by_addr.get(packet[16:20])
                if dst is None or dst == src:
                    continue
                if rng.random() < loss or rng.random() < loss:  # one chance per link
                    continue
                delay = 0.0
                for link in (src, dst):
                    base = delays[link]
                    delay += base + rng.uniform(-base / 4, base / 4)
                due = max(now + delay, last_due[dst])
                last_due[dst] = due
                order += 1
                heapq.heappush(queue, (due, order, dst, packet))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, dst, packet = heapq.heappop(queue)
            # A device that is down (a cut link) refuses it: lost, as on a wire.
            with contextlib.suppress(OSError):
                os.write(fds[dst], packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("links", nargs="+", help="ADDRESS=ONE_WAY_DELAY_MS, one per device")
    parser.add_argument("--loss", type=float, default=0.0, help="drop probability per link")
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    links = [(addr, float(ms)) for addr, ms in (link.split("=") for link in args.links)]
    serve(links, args.loss, args.seed)


if __name__ == "__main__":
    main()
