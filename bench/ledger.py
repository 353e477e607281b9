"""What one member saw of one room, checked against the contract's guarantees.

Kept apart from bench/multihost.py (which needs root and network namespaces) so that the
checking itself is tested in the ordinary suite (tests/unit/test_bench_ledger.py).

The rules, from shared/contract.md "Guarantees" and docs/websocket.md:
- ``message`` frames of a room reach a member in ``seq`` order and never the same ``seq``
  twice, across reconnects (the member resumes from the last ``seq`` it saw);
- the member's own sends come back as ``ack`` frames (and may come again as ``message``
  frames in a resume's backfill: the live stream never echoes them, a backfill may);
- in the end every stored ``seq`` of the room reached the member one way or the other;
- one ``client_id`` makes at most one message, and every send is acked in the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ledger:
    name: str
    delivered: dict[int, float] = field(default_factory=dict)  # seq -> arrival (time.time())
    acked: dict[str, int] = field(default_factory=dict)  # own client_id -> seq
    last_seq: int = 0  # highest seq seen in a message frame: the resume cursor
    violations: list[str] = field(default_factory=list)

    def message(self, seq: int, now: float) -> bool:
        """Record a message frame; False when it breaks order or arrives twice."""
        if seq in self.delivered:
            self.violations.append(f"{self.name}: seq {seq} delivered twice")
            return False
        if seq <= self.last_seq:
            self.violations.append(f"{self.name}: seq {seq} after {self.last_seq}")
            return False
        self.delivered[seq] = now
        self.last_seq = seq
        return True

    def ack(self, client_id: str, seq: int) -> None:
        earlier = self.acked.get(client_id)
        if earlier is not None and earlier != seq:
            self.violations.append(f"{self.name}: {client_id} acked as {earlier} and as {seq}")
        self.acked[client_id] = seq

    def seen(self) -> set[int]:
        return set(self.delivered) | set(self.acked.values())

    def missing(self, room_last_seq: int) -> list[int]:
        return sorted(set(range(1, room_last_seq + 1)) - self.seen())


def check_room(
    ledgers: list[Ledger], stored: list[tuple[int, str | None]], sent: dict[str, str]
) -> list[str]:
    """Every guarantee over a whole room, once traffic has stopped.

    ``stored`` is the room's messages as (seq, client_id) read back over HTTP; ``sent``
    maps every client_id sent to the member who sent it.
    """
    problems = [v for ledger in ledgers for v in ledger.violations]
    seqs = [seq for seq, _ in stored]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"stored seqs are not 1..{len(seqs)} without gaps")
    by_client: dict[str, int] = {}
    for seq, client_id in stored:
        if client_id is None:
            continue
        if client_id in by_client:
            problems.append(f"client_id {client_id} stored twice ({by_client[client_id]}, {seq})")
        by_client[client_id] = seq
    owners = {ledger.name: ledger for ledger in ledgers}
    for client_id, who in sent.items():
        if client_id not in by_client:
            problems.append(f"{who}'s {client_id} was never stored")
        elif client_id not in owners[who].acked:
            problems.append(f"{who}'s {client_id} was stored but never acked")
        elif owners[who].acked[client_id] != by_client[client_id]:
            problems.append(f"{who}'s {client_id} acked with a seq it was not stored under")
    last = len(seqs)
    for ledger in ledgers:
        gone = ledger.missing(last)
        if gone:
            problems.append(f"{ledger.name} never got seqs {gone[:10]} ({len(gone)} in all)")
    return problems
