"""The multi-host rehearsal's checker (bench/ledger.py) catches each broken guarantee.

bench/multihost.py needs root and network namespaces, so it is run by hand; what it
concludes rests on this checker, which is tested here: fed a clean history it finds
nothing, fed each kind of fault it names it.
"""

from __future__ import annotations

from bench.ledger import Ledger, check_room


def clean() -> tuple[list[Ledger], list[tuple[int, str | None]], dict[str, str]]:
    """Ana sends seq 1 and 3, Ben seq 2; each gets the other's as message frames."""
    ana, ben = Ledger("ana"), Ledger("ben")
    ana.ack("a1", 1)
    ben.message(1, 0.0)
    ben.ack("b1", 2)
    ana.message(2, 0.0)
    ana.ack("a2", 3)
    ben.message(3, 0.0)
    stored: list[tuple[int, str | None]] = [(1, "a1"), (2, "b1"), (3, "a2")]
    return [ana, ben], stored, {"a1": "ana", "b1": "ben", "a2": "ana"}


def test_a_clean_history_breaks_nothing() -> None:
    assert check_room(*clean()) == []


def test_a_resume_backfill_may_bring_back_my_own_acked_message() -> None:
    ledgers, stored, sent = clean()
    ana = ledgers[0]
    ana.last_seq = 0  # as if Ana reconnected having seen no message frame yet
    ana.delivered.clear()
    for seq in (1, 2, 3):  # the backfill: her own 1 and 3 as message frames too
        assert ana.message(seq, 0.0)
    assert check_room(ledgers, stored, sent) == []


def test_a_message_delivered_twice_is_caught() -> None:
    ledgers, stored, sent = clean()
    assert not ledgers[1].message(3, 0.0)
    assert check_room(ledgers, stored, sent) == ["ben: seq 3 delivered twice"]


def test_a_message_out_of_order_is_caught() -> None:
    ana = Ledger("ana")
    ana.message(2, 0.0)
    assert not ana.message(1, 0.0)
    assert ana.violations == ["ana: seq 1 after 2"]


def test_a_message_that_never_arrived_is_caught() -> None:
    ledgers, stored, sent = clean()
    ben = Ledger("ben")
    ben.message(1, 0.0)
    ben.ack("b1", 2)
    ledgers[1] = ben
    assert check_room(ledgers, stored, sent) == ["ben never got seqs [3] (1 in all)"]


def test_one_client_id_stored_twice_is_caught() -> None:
    ledgers, stored, sent = clean()
    stored.append((4, "a2"))
    ledgers[1].message(4, 0.0)
    ledgers[0].message(4, 0.0)
    assert "client_id a2 stored twice (3, 4)" in check_room(ledgers, stored, sent)


def test_a_send_stored_but_never_acked_is_caught() -> None:
    ledgers, stored, sent = clean()
    del ledgers[0].acked["a2"]
    ledgers[0].message(3, 0.0)
    assert check_room(ledgers, stored, sent) == ["ana's a2 was stored but never acked"]


def test_a_send_never_stored_and_a_gap_in_seqs_are_caught() -> None:
    ledgers, stored, sent = clean()
    sent["a3"] = "ana"
    del stored[1]
    problems = check_room(ledgers, stored, sent)
    assert "stored seqs are not 1..2 without gaps" in problems
    assert "ana's a3 was never stored" in problems
