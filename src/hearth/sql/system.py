"""SQL for Hearth's own tables: collections, params (settings) and the change counter."""

from __future__ import annotations

from hearth.sql import locks
from hearth.sql.dialect import Dialect, quote


def bootstrap_statements(d: Dialect) -> list[str]:
    json_type = d.column_type("json")
    return [
        "CREATE TABLE IF NOT EXISTS _hearth_state (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
        collections_table(d),
        *collections_indexes(d),
        f"CREATE TABLE IF NOT EXISTS _params (id TEXT PRIMARY KEY NOT NULL, value {json_type},"
        " created TEXT NOT NULL, updated TEXT NOT NULL)",
        # Logged-out sessions, until the last token they could have issued has expired.
        "CREATE TABLE IF NOT EXISTS _hearth_revoked (sid TEXT PRIMARY KEY NOT NULL, expires BIGINT NOT NULL)",
        # The processes that have realtime clients (one row each, id `process:<tag>`: writers
        # publish record changes while there is any), and the events processes pass each other
        # (record changes, requests about one client and their answers). The columns besides id
        # and created date from when each client had a row.
        "CREATE TABLE IF NOT EXISTS _hearth_rt_clients (id TEXT PRIMARY KEY NOT NULL, ip TEXT NOT NULL,"
        " auth_collection TEXT NOT NULL, auth_record TEXT NOT NULL, subscriptions TEXT NOT NULL,"
        " created BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS _hearth_rt_events (seq "
        + (
            "INTEGER PRIMARY KEY AUTOINCREMENT"
            if d.name == "sqlite"
            else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        )
        + ", target TEXT NOT NULL, payload TEXT NOT NULL, created BIGINT NOT NULL)",
        # Server-to-server API keys: only a hash of the secret is kept.
        "CREATE TABLE IF NOT EXISTS _hearth_api_keys (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
        " secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, expires BIGINT NOT NULL,"
        " created TEXT NOT NULL)",
    ] + (_state_trigger() + _auth_change_functions() if d.name == "postgres" else [])


def _state_trigger() -> list[str]:
    """PostgreSQL: every change of _hearth_state NOTIFYs `hearth_state` at commit, so processes
    learn of schema, settings and revocation changes without reading the counters per request."""
    return [
        "CREATE OR REPLACE FUNCTION _hearth_state_changed() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_notify('hearth_state', ''); RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS _hearth_state_changed ON _hearth_state",
        "CREATE TRIGGER _hearth_state_changed AFTER INSERT OR UPDATE ON _hearth_state"
        " FOR EACH STATEMENT EXECUTE FUNCTION _hearth_state_changed()",
    ]


# PostgreSQL: NOTIFYed when auth records change (payload `<collection id>:<record id>`, or
# `<collection id>:` when several did), by triggers on each auth collection's table
# (hearth.sql.ddl.auth_change_triggers): each process keeps the auth records of tokens it
# resolves in memory (hearth.records.auth_cache) and drops what the NOTIFY names.
AUTH_CHANNEL = "hearth_auth"

# What tells two connections reach the same PostgreSQL server (hearth.db.pg_socket): no two
# servers start in the same microsecond.
PG_SERVER_IDENTITY = "SELECT pg_postmaster_start_time(), current_database(), current_user"
# PostgreSQL settings whose value `hearth serve` warns about (hearth.db.postgres
# PostgresDatabase.configuration_warnings).
PG_MAINTENANCE_SETTINGS = "SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'track_counts')"
AUTH_ROWS_CHANGED = "_hearth_auth_rows_changed"
AUTH_TRUNCATED = "_hearth_auth_truncated"
AUTH_TRIGGER = "_hearth_auth_u"  # one of the triggers, whose presence says a table has them all


def _auth_change_functions() -> list[str]:
    """Statement-level, so that a statement changing many rows (a migration filling a column)
    sends one NOTIFY rather than one per row; transition tables name the rows it changed."""
    notify = f"PERFORM pg_notify('{AUTH_CHANNEL}', TG_ARGV[0] || ':'"
    return [
        f"CREATE OR REPLACE FUNCTION {AUTH_ROWS_CHANGED}() RETURNS trigger LANGUAGE plpgsql AS $$"
        " DECLARE n bigint; one text; BEGIN"
        " SELECT count(*), min(id) INTO n, one FROM changed;"
        f" IF n = 1 THEN {notify} || one); ELSIF n > 1 THEN {notify}); END IF;"
        " RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION {AUTH_TRUNCATED}() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {notify}); RETURN NULL; END $$",
    ]


def auth_tables_unwatched(d: Dialect) -> str | None:
    """PostgreSQL: auth collections (name, id) whose table has no change triggers yet (a
    database made before they existed). None on SQLite, which has no such triggers."""
    if d.name != "postgres":
        return None
    return (
        "SELECT c.name, c.id FROM _collections c WHERE c.type = 'auth' AND NOT EXISTS ("
        f" SELECT 1 FROM pg_trigger t WHERE t.tgname = '{AUTH_TRIGGER}'"
        " AND t.tgrelid = to_regclass(quote_ident(c.name)))"
    )


# Rows of _hearth_state: the schema/settings counter, the revoked-sessions counter and the
# number of connected realtime clients (record changes are published only when there are some).
SCHEMA_COUNTER = 1
REVOCATION_COUNTER = 2
REALTIME_CLIENTS = 3


def init_state(d: Dialect) -> str:
    return "INSERT INTO _hearth_state (id, version) VALUES (1, 0), (2, 0), (3, 0) ON CONFLICT (id) DO NOTHING"


def read_version(d: Dialect) -> str:
    """Every counter in one read (it happens on every request where changes are possible)."""
    return "SELECT id, version FROM _hearth_state WHERE id IN (1, 2, 3)"


def add_realtime_clients(d: Dialect) -> str:
    return f"UPDATE _hearth_state SET version = version + {d.placeholder(1)} WHERE id = 3"


def insert_rt_client(d: Dialect) -> str:
    p = d.placeholder
    return (
        "INSERT INTO _hearth_rt_clients (id, ip, auth_collection, auth_record, subscriptions, created)"
        f" VALUES ({p(1)}, {p(2)}, '', '', '[]', {p(3)})"
    )


def select_rt_process(d: Dialect) -> str:
    return f"SELECT id FROM _hearth_rt_clients WHERE id = {d.placeholder(1)}"


def delete_rt_client(d: Dialect) -> str:
    return f"DELETE FROM _hearth_rt_clients WHERE id = {d.placeholder(1)}"


def insert_rt_event(d: Dialect) -> str:
    p = d.placeholder
    insert = f"INSERT INTO _hearth_rt_events (target, payload, created) VALUES ({p(1)}, {p(2)}, {p(3)})"
    if d.name == "postgres":
        # One round trip: the row, and a wake-up for every listening process.
        return f"WITH ins AS ({insert} RETURNING seq) SELECT pg_notify('hearth_rt', '') FROM ins"
    return insert


def select_rt_events(d: Dialect) -> str:
    return (
        "SELECT seq, target, payload FROM _hearth_rt_events"
        f" WHERE seq > {d.placeholder(1)} ORDER BY seq LIMIT 500"
    )


def last_rt_event(d: Dialect) -> str:
    return "SELECT COALESCE(MAX(seq), 0) FROM _hearth_rt_events"


def delete_old_rt_events(d: Dialect) -> str:
    return f"DELETE FROM _hearth_rt_events WHERE created < {d.placeholder(1)}"


def bump_revocations(d: Dialect) -> str:
    return "UPDATE _hearth_state SET version = version + 1 WHERE id = 2"


def revoke_session(d: Dialect) -> str:
    p = d.placeholder
    return f"INSERT INTO _hearth_revoked (sid, expires) VALUES ({p(1)}, {p(2)}) ON CONFLICT (sid) DO NOTHING"


def select_revoked(d: Dialect) -> str:
    return f"SELECT sid FROM _hearth_revoked WHERE expires > {d.placeholder(1)}"


def delete_expired_revoked(d: Dialect) -> str:
    return f"DELETE FROM _hearth_revoked WHERE expires <= {d.placeholder(1)}"


def bump_version(d: Dialect) -> str:
    return "UPDATE _hearth_state SET version = version + 1 WHERE id = 1"


# PocketBase's `_collections` columns, in its order: a PocketBase data directory is read and
# written in place (docs/compatibility.md). JSON columns hold text on SQLite, jsonb on PostgreSQL.
COLLECTION_COLUMNS = (
    "id", "system", "type", "name", "fields", "indexes",
    "listRule", "viewRule", "createRule", "updateRule", "deleteRule", "options", "created", "updated",
)  # fmt: skip
_JSON_COLUMNS = ("fields", "indexes", "options")


def collections_table(d: Dialect, table: str = "_collections") -> str:
    """The table as PocketBase creates it."""
    json_type = d.column_type("json")
    rules = "".join(f" {quote(r)} TEXT DEFAULT NULL," for r in COLLECTION_COLUMNS[6:11])
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " id TEXT PRIMARY KEY NOT NULL, system BOOLEAN DEFAULT FALSE NOT NULL,"
        " type TEXT DEFAULT 'base' NOT NULL, name TEXT UNIQUE NOT NULL,"
        f" fields {json_type} DEFAULT '[]' NOT NULL, indexes {json_type} DEFAULT '[]' NOT NULL,{rules}"
        f" options {json_type} DEFAULT '{{}}' NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL)"
    )


def collections_indexes(d: Dialect) -> list[str]:
    """PocketBase's `type` index, and Hearth's case-insensitive unique name (PocketBase ignores it)."""
    return [
        "CREATE INDEX IF NOT EXISTS idx__collections_type ON _collections (type)",
        "CREATE UNIQUE INDEX IF NOT EXISTS idx__collections_name ON _collections (LOWER(name))",
    ]


def collections_columns(d: Dialect) -> str:
    """The columns `_collections` has now (a data directory of an older Hearth has `data`)."""
    if d.name == "sqlite":
        return "SELECT name FROM pragma_table_info('_collections')"
    return (
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = '_collections'"
    )


# Hearth's first layout (one JSON `data` column) is rewritten into PocketBase's at start
# (hearth.schema.bootstrap): a new table filled from the old rows takes the old one's place.
LEGACY_NEW_TABLE = "_hearth_new_collections"


def select_legacy_collections(d: Dialect) -> str:
    return "SELECT data FROM _collections ORDER BY created, id"


def replace_legacy_collections(d: Dialect) -> list[str]:
    return [
        "DROP TABLE _collections",
        f"ALTER TABLE {LEGACY_NEW_TABLE} RENAME TO _collections",
        *collections_indexes(d),
    ]


def _columns() -> str:
    return ", ".join(quote(c) for c in COLLECTION_COLUMNS)


def select_collections(d: Dialect) -> str:
    return f"SELECT {_columns()} FROM _collections ORDER BY created, id"


def insert_collection(d: Dialect, table: str = "_collections") -> str:
    """Bound in COLLECTION_COLUMNS' order, the JSON ones as text."""
    values = ", ".join(
        d.json_param(d.placeholder(i)) if c in _JSON_COLUMNS else d.placeholder(i)
        for i, c in enumerate(COLLECTION_COLUMNS, 1)
    )
    return f"INSERT INTO {table} ({_columns()}) VALUES ({values})"


def update_collection(d: Dialect) -> str:
    """Bound in COLLECTION_COLUMNS' order without `created` (the id last, as the key)."""
    sets = []
    n = 0
    for c in COLLECTION_COLUMNS[1:]:
        if c == "created":
            continue
        n += 1
        ph = d.placeholder(n)
        sets.append(f"{quote(c)} = {d.json_param(ph) if c in _JSON_COLUMNS else ph}")
    return f"UPDATE _collections SET {', '.join(sets)} WHERE id = {d.placeholder(n + 1)}"


def delete_collection(d: Dialect) -> str:
    return f"DELETE FROM _collections WHERE id = {d.placeholder(1)}"


def select_param(d: Dialect) -> str:
    return f"SELECT value FROM _params WHERE id = {d.placeholder(1)}"


def upsert_param(d: Dialect) -> str:
    p = d.placeholder
    value = d.json_param(p(2))
    return (
        f"INSERT INTO _params (id, value, created, updated) VALUES ({p(1)}, {value}, {p(3)}, {p(4)})"
        f" ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated = excluded.updated"
    )


def records_referencing(d: Dialect, table: str, column: str, multi: bool) -> str:
    """Ids of records in `table` whose relation `column` holds the bound id."""
    cond = (
        d.json_array_contains(quote(column), d.placeholder(1))
        if multi
        else f"{quote(column)} = {d.placeholder(1)}"
    )
    return f"SELECT id FROM {quote(table)} WHERE {cond}"


def list_collections(
    d: Dialect, where: str, order: list[tuple[str, bool]], limit_ph: str, offset_ph: str
) -> str:
    sql = 'SELECT id FROM "_collections"'
    if where:
        sql += f" WHERE {where}"
    terms = [f'"_collections".{quote(name)}{" DESC" if desc else ""}' for name, desc in order]
    terms.append('"_collections"."created"')
    terms.append('"_collections"."id"')
    return sql + f" ORDER BY {', '.join(terms)} LIMIT {limit_ph} OFFSET {offset_ph}"


def count_collections(d: Dialect, where: str) -> str:
    return 'SELECT COUNT(*) FROM "_collections"' + (f" WHERE {where}" if where else "")


def collection_updated(d: Dialect) -> str:
    return f"SELECT updated FROM _collections WHERE id = {d.placeholder(1)}"


def insert_api_key(d: Dialect) -> str:
    p = d.placeholder
    return (
        "INSERT INTO _hearth_api_keys (id, name, secret_hash, scopes, expires, created)"
        f" VALUES ({p(1)}, {p(2)}, {p(3)}, {p(4)}, {p(5)}, {p(6)})"
    )


def select_api_keys(d: Dialect) -> str:
    return "SELECT id, name, secret_hash, scopes, expires, created FROM _hearth_api_keys ORDER BY created, id"


def delete_api_key(d: Dialect) -> str:
    return f"DELETE FROM _hearth_api_keys WHERE id = {d.placeholder(1)}"


def delete_owned(d: Dialect, table: str) -> str:
    """Rows of an auth system collection (`_mfas`, `_otps`, …) that belong to one record."""
    p = d.placeholder
    return f'DELETE FROM {quote(table)} WHERE "collectionRef" = {p(1)} AND "recordRef" = {p(2)}'


def rt_publish_lock(d: Dialect) -> str | None:
    """Serialises realtime publishers (PostgreSQL; SQLite writes are serial already)."""
    return locks.xact_lock(locks.RT_PUBLISH) if d.name == "postgres" else None


def touch_rt_clients(d: Dialect, count: int) -> str:
    """Mark `count` process rows (ids as parameters, then the time) as alive."""
    ids = ", ".join(d.placeholder(i + 1) for i in range(count))
    return f"UPDATE _hearth_rt_clients SET created = {d.placeholder(count + 1)} WHERE id IN ({ids})"


def delete_stale_rt_clients(d: Dialect) -> str:
    return f"DELETE FROM _hearth_rt_clients WHERE created < {d.placeholder(1)}"


def recount_realtime_clients(d: Dialect) -> str:
    return "UPDATE _hearth_state SET version = (SELECT COUNT(*) FROM _hearth_rt_clients) WHERE id = 3"


def installer_lock(d: Dialect) -> str | None:
    """Serialises first-superuser creation across instances (PostgreSQL; a SQLite write
    transaction is BEGIN IMMEDIATE, serial already)."""
    return locks.xact_lock(locks.INSTALLER) if d.name == "postgres" else None
