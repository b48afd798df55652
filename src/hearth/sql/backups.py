"""SQL of backups and restores (hearth.backups): what a restore keeps of the live database, the
counters it moves so every process reloads, and PostgreSQL's one-transaction replacement.

Runtime tables describe the running processes, not the data (realtime presence and events, the
job queue, the webhook outbox): a restore into a live database keeps the live ones, so sequence
numbers that processes follow never go back and queued work is not lost or replayed.
"""

from __future__ import annotations

from hearth.sql import locks
from hearth.sql.dialect import Dialect, quote

RUNTIME_TABLES = ("_hearth_rt_clients", "_hearth_rt_events", "_hearth_jobs", "_hearth_webhook_outbox")
LOCK_KEYS = locks.BACKUP


def table_exists(d: Dialect, schema: str = "main") -> str:
    """SQLite: whether table ? exists in the attached schema."""
    return f"SELECT 1 FROM {quote(schema)}.sqlite_master WHERE type = 'table' AND name = ?"


def sqlite_tables() -> str:
    return "SELECT name FROM sqlite_master WHERE type = 'table'"


def clear_table(schema: str, table: str) -> str:
    return f"DELETE FROM {quote(schema)}.{quote(table)}"


def copy_table(source: str, target: str, table: str) -> str:
    return f"INSERT INTO {quote(target)}.{quote(table)} SELECT * FROM {quote(source)}.{quote(table)}"


def sqlite_sequence_of(schema: str) -> str:
    return f"SELECT seq FROM {quote(schema)}.sqlite_sequence WHERE name = ?"


def set_sqlite_sequence(schema: str) -> tuple[str, str]:
    """Raise the AUTOINCREMENT counter of table ?2 to at least ?1 (two statements: the update,
    and the insert when the table never had a row)."""
    s = quote(schema)
    return (
        f"UPDATE {s}.sqlite_sequence SET seq = MAX(seq, ?1) WHERE name = ?2",
        f"INSERT INTO {s}.sqlite_sequence (name, seq) SELECT ?2, ?1"
        f" WHERE NOT EXISTS (SELECT 1 FROM {s}.sqlite_sequence WHERE name = ?2)",
    )


def state_counters(schema: str) -> str:
    return f"SELECT id, version FROM {quote(schema)}._hearth_state WHERE id IN (1, 2)"


def move_state_past(schema: str) -> str:
    """The schema and revocation counters (ids 1, 2) moved past the live value ?2 for id ?1: each
    process sees them change and reloads its collections, settings and revoked sessions."""
    return f"UPDATE {quote(schema)}._hearth_state SET version = version + ?2 + 1 WHERE id = ?1"


def recount_rt_clients(schema: str) -> str:
    s = quote(schema)
    return f"UPDATE {s}._hearth_state SET version = (SELECT COUNT(*) FROM {s}._hearth_rt_clients) WHERE id = 3"


def forget_rt_clients(schema: str) -> str:
    """A backup's copy: no process of the backed-up server is running where it is restored."""
    return f"DELETE FROM {quote(schema)}._hearth_rt_clients"


def zero_rt_clients(schema: str) -> str:
    return f"UPDATE {quote(schema)}._hearth_state SET version = 0 WHERE id = 3"


# ----- PostgreSQL ----------------------------------------------------------------------------


def pg_try_lock() -> str:
    return f"SELECT pg_try_advisory_lock({LOCK_KEYS[0]}, {LOCK_KEYS[1]})"


def pg_unlock() -> str:
    return f"SELECT pg_advisory_unlock({LOCK_KEYS[0]}, {LOCK_KEYS[1]})"


def pg_locked() -> str:
    return (
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        f" AND classid = {LOCK_KEYS[0]} AND objid = {LOCK_KEYS[1]} AND objsubid = 2)"
    )


def _array(names: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + n + "'" for n in names) + "]::name[]"


def pg_restore_prepare() -> str:
    """First statements of the restore's transaction: the live counters kept aside, every table
    locked at once (in one order, so concurrent writers wait rather than deadlock with a drop
    half-way), then every object of `public` dropped but the runtime tables, so the dump's objects
    are recreated into an empty schema (a collection created after the backup leaves no table)."""
    keep = _array(RUNTIME_TABLES)
    return f"""
CREATE TEMP TABLE _hearth_restore_live ON COMMIT DROP AS SELECT id, version FROM public._hearth_state;
DO $hearth$
DECLARE r record; tables text;
BEGIN
  SELECT string_agg(format('public.%I', c.relname), ', ' ORDER BY c.relname) INTO tables
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p');
  IF tables IS NOT NULL THEN
    EXECUTE 'LOCK TABLE ' || tables || ' IN ACCESS EXCLUSIVE MODE';
  END IF;
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm') LOOP
    IF r.relkind = 'v' THEN
      EXECUTE format('DROP VIEW IF EXISTS public.%I CASCADE', r.relname);
    ELSE
      EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS public.%I CASCADE', r.relname);
    END IF;
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> ALL ({keep}) LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.prokind = 'f' LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.sig);
  END LOOP;
END $hearth$;
"""


def pg_restore_finish() -> str:
    """Last statements of the restore's transaction: the counters moved past the live ones (their
    trigger NOTIFYs every process at commit), realtime presence recounted from the kept table, and
    every auth collection's cached records dropped in every process."""
    return """
SET search_path = public;
UPDATE public._hearth_state s SET version = s.version + l.version + 1
  FROM _hearth_restore_live l WHERE s.id = l.id AND s.id IN (1, 2);
UPDATE public._hearth_state SET version = (SELECT COUNT(*) FROM public._hearth_rt_clients) WHERE id = 3;
SELECT pg_notify('hearth_auth', id || ':') FROM public._collections WHERE type = 'auth';
"""
