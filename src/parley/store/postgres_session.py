"""Session settings of Parley's PostgreSQL connections: the server's pool, its writer
process (:mod:`parley.store.postgres_writer`) and the tools beside them. A module of its
own so that the writer process starts without the rest of the store."""

from __future__ import annotations

# A node cut off from the network in the middle of a transaction keeps its row locks (a
# room's seq row, say) until its connection dies, and every other node's writes to that
# room wait behind it: 30 s of partition was 30 s of silence in the room for everyone
# (bench/multihost.py). PostgreSQL ends such a transaction after this long idle. Parley's
# own transactions never wait between statements on anything but the database itself.
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 5000
# Session settings of every PostgreSQL connection. JIT is off: the planner compiles a
# statement whose estimated cost passes jit_above_cost, and the room list's unread
# counts (a count per room, estimated from the whole room, not from the read marker)
# pass it at 10M messages: 342 ms of compiling for 30 ms of work (bench/datascale.py,
# plans). Parley's statements are short; none gains from compiling.
PG_SESSION_SETTINGS = {
    "idle_in_transaction_session_timeout": str(PG_IDLE_IN_TRANSACTION_TIMEOUT_MS),
    "jit": "off",
}
# And of the writer process's connection. Its statements are prepared once and run for
# the connection's lifetime, and from a statement's sixth run PostgreSQL may keep one
# generic plan for it. Made while the tables were small, that plan joined the batch's
# client_ids to messages by a sequential scan (18 ms at 100,000 messages, growing with
# the history) and kept it until an ANALYZE came; planned for each batch's own arrays,
# it is an index probe per key (0.1 ms).
WRITER_SESSION_SETTINGS = {**PG_SESSION_SETTINGS, "plan_cache_mode": "force_custom_plan"}
