"""SQL for outbound webhooks: endpoints (`_hearth_webhooks`), the outbox of matched writes
(`_hearth_webhook_outbox`) and the delivery log (`_hearth_webhook_deliveries`). Times are epoch ms; `active` is 0/1 (the same column type on
SQLite and PostgreSQL); `events` is a JSON array of action names.
"""

from __future__ import annotations

from hearth.sql.dialect import Dialect

COLUMNS = (
    "id, name, url, collection, events, filter, secret, active, disabled_reason, failures, failing_since,"
    " created, updated"
)
DELIVERY_COLUMNS = "id, webhook, message, job, attempt, status, latency, response, error, created"


def bootstrap_statements(d: Dialect) -> list[str]:
    ident = "INTEGER PRIMARY KEY" if d.name == "sqlite" else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    return [
        "CREATE TABLE IF NOT EXISTS _hearth_webhooks ("
        " id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL DEFAULT '', url TEXT NOT NULL,"
        " collection TEXT NOT NULL, events TEXT NOT NULL, filter TEXT NOT NULL DEFAULT '',"
        " secret TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, disabled_reason TEXT NOT NULL DEFAULT '',"
        " failures INTEGER NOT NULL DEFAULT 0, failing_since BIGINT NOT NULL DEFAULT 0,"
        " created BIGINT NOT NULL, updated BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS _hearth_webhook_deliveries ("
        " id TEXT PRIMARY KEY NOT NULL, webhook TEXT NOT NULL, message TEXT NOT NULL, job TEXT NOT NULL,"
        " attempt INTEGER NOT NULL, status INTEGER NOT NULL DEFAULT 0, latency INTEGER NOT NULL DEFAULT 0,"
        " response TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', created BIGINT NOT NULL)",
        # Written by every matched record write, in its transaction: the table's own key and
        # nothing else, so a write adds one row to one B-tree (the cheapest durable append).
        f"CREATE TABLE IF NOT EXISTS _hearth_webhook_outbox (seq {ident}, payload TEXT NOT NULL)",
        # The log of one endpoint, newest first (listing and pruning).
        "CREATE INDEX IF NOT EXISTS idx__hearth_webhook_deliveries ON _hearth_webhook_deliveries (webhook, created)",
    ]


def select_all(d: Dialect) -> str:
    return f"SELECT {COLUMNS} FROM _hearth_webhooks ORDER BY created, id"


def select_active(d: Dialect) -> str:
    """What the record hooks match writes against (every process keeps a copy)."""
    return f"SELECT {COLUMNS} FROM _hearth_webhooks WHERE active = 1"


def select_one(d: Dialect) -> str:
    return f"SELECT {COLUMNS} FROM _hearth_webhooks WHERE id = {d.placeholder(1)}"


def insert(d: Dialect) -> str:
    p = d.placeholder
    return f"INSERT INTO _hearth_webhooks ({COLUMNS}) VALUES ({', '.join(p(i) for i in range(1, 14))})"


def update(d: Dialect) -> str:
    """Every settable column of endpoint p12 (placeholders in order of appearance: SQLite's are
    positional)."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_webhooks SET name = {p(1)}, url = {p(2)}, collection = {p(3)}, events = {p(4)},"
        f" filter = {p(5)}, secret = {p(6)}, active = {p(7)}, disabled_reason = {p(8)}, failures = {p(9)},"
        f" failing_since = {p(10)}, updated = {p(11)} WHERE id = {p(12)}"
    )


def delete(d: Dialect) -> str:
    return f"DELETE FROM _hearth_webhooks WHERE id = {d.placeholder(1)}"


def delete_deliveries(d: Dialect) -> str:
    return f"DELETE FROM _hearth_webhook_deliveries WHERE webhook = {d.placeholder(1)}"


def insert_outbox(d: Dialect) -> str:
    """One matched write (no NOTIFY: the writing process wakes its own worker, and a process
    without one finds the row at its next poll)."""
    return f"INSERT INTO _hearth_webhook_outbox (payload) VALUES ({d.placeholder(1)})"


def any_outbox(d: Dialect) -> str:
    return "SELECT 1 FROM _hearth_webhook_outbox LIMIT 1"


def take_outbox(d: Dialect) -> str:
    """Remove and return the oldest p1 rows (in any order: sort by seq). PostgreSQL skips rows
    another process is moving."""
    lock = " FOR UPDATE SKIP LOCKED" if d.name == "postgres" else ""
    return (
        "DELETE FROM _hearth_webhook_outbox WHERE seq IN (SELECT seq FROM _hearth_webhook_outbox"
        f" ORDER BY seq LIMIT {d.placeholder(1)}{lock}) RETURNING seq, payload"
    )


def lock_endpoint(d: Dialect) -> str | None:
    """Serialises the logging of one endpoint's deliveries (PostgreSQL; SQLite writes are serial)."""
    return f"SELECT id FROM _hearth_webhooks WHERE id = {d.placeholder(1)} FOR UPDATE" if d.name == "postgres" else None


def succeeded(d: Dialect) -> str:
    """A delivery got a 2xx: the run of failures of endpoint p1 ends (no write when none)."""
    return (
        "UPDATE _hearth_webhooks SET failures = 0, failing_since = 0"
        f" WHERE id = {d.placeholder(1)} AND failures > 0"
    )


def failed(d: Dialect) -> str:
    """A failed attempt for active endpoint p2: one more in its run of failures, which began at
    p1 (now) if this is the first. Returns the run's length and start."""
    p = d.placeholder
    return (
        "UPDATE _hearth_webhooks SET failures = failures + 1,"
        f" failing_since = CASE WHEN failing_since = 0 THEN {p(1)} ELSE failing_since END"
        f" WHERE id = {p(2)} AND active = 1 RETURNING failures, failing_since"
    )


def disable(d: Dialect) -> str:
    """Endpoint p3 is disabled (reason p1, p2 = now) if still active."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_webhooks SET active = 0, disabled_reason = {p(1)}, updated = {p(2)}"
        f" WHERE id = {p(3)} AND active = 1"
    )


def insert_delivery(d: Dialect) -> str:
    p = d.placeholder
    return (
        f"INSERT INTO _hearth_webhook_deliveries ({DELIVERY_COLUMNS}) VALUES"
        f" ({', '.join(p(i) for i in range(1, 11))})"
    )


def prune_deliveries(d: Dialect) -> str:
    """Keep the newest p3 rows of endpoint p1 (= p2), in the log's order (rows of one
    millisecond included): older ones are deleted."""
    p = d.placeholder
    return (
        f"DELETE FROM _hearth_webhook_deliveries WHERE webhook = {p(1)} AND id NOT IN ("
        f"SELECT id FROM _hearth_webhook_deliveries WHERE webhook = {p(2)}"
        f" ORDER BY created DESC, id DESC LIMIT {p(3)})"
    )


def list_deliveries(d: Dialect) -> str:
    p = d.placeholder
    return (
        f"SELECT {DELIVERY_COLUMNS} FROM _hearth_webhook_deliveries WHERE webhook = {p(1)}"
        f" ORDER BY created DESC, id DESC LIMIT {p(2)} OFFSET {p(3)}"
    )


def count_deliveries(d: Dialect) -> str:
    return f"SELECT COUNT(*) FROM _hearth_webhook_deliveries WHERE webhook = {d.placeholder(1)}"
