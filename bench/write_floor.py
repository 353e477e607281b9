"""The kernel's share of a delivery: CPU per ``send()`` of one frame on loopback TCP.

    python -m bench.write_floor [--sockets 1000] [--rounds 50] [--frames 1,2,5,10]

Opens ``--sockets`` connected TCP pairs on 127.0.0.1 (TCP_NODELAY, as a server's
sockets are) and, for each count in ``--frames``, writes that many 300-byte frames to
every socket in one ``send()`` per socket, ``--rounds`` times, draining the readers
between rounds. Reports this process's CPU (user + system, from ``getrusage``) per
frame written, excluding the reads. On loopback the sender's ``send()`` also runs the
receiver's TCP input (softirq in the sender's context), which is why it costs what a
server pays per recipient when every frame is its own write. No server, no Python
framing: the floor under any server's per-delivery cost at one frame per write.
"""

from __future__ import annotations

import argparse
import resource
import socket
import statistics

FRAME = b"\x81\x7e\x01\x2c" + b"x" * 300


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pairs(count: int) -> list[tuple[socket.socket, socket.socket]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(count)
    made = []
    for _ in range(count):
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.setblocking(False)
        made.append((server, client))
    listener.close()
    return made


def drain(sockets: list[tuple[socket.socket, socket.socket]]) -> None:
    for _, client in sockets:
        try:
            while client.recv(1 << 20):
                pass
        except BlockingIOError:
            pass


def measure(sockets: list[tuple[socket.socket, socket.socket]], frames: int, rounds: int) -> float:
    """Median over rounds of CPU microseconds per frame written."""
    payload = FRAME * frames
    samples = []
    for _ in range(rounds):
        start = cpu_s()
        for server, _ in sockets:
            server.send(payload)
        samples.append((cpu_s() - start) / (len(sockets) * frames) * 1e6)
        drain(sockets)
    return statistics.median(samples)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sockets", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--frames", default="1,2,5,10")
    a = p.parse_args()
    sockets = pairs(a.sockets)
    try:
        for frames in (int(f) for f in a.frames.split(",")):
            us = measure(sockets, frames, a.rounds)
            print(f"{frames:3d} frame(s) per send(): {us:6.2f} us CPU per frame")
    finally:
        for server, client in sockets:
            server.close()
            client.close()


if __name__ == "__main__":
    main()
