"""Schema migrations: MIGRATIONS[n] takes a store from version n-1 to n.

Each database speaks its own dialect, so every version has one list of statements per store
(`MIGRATIONS` for SQLite, `POSTGRES_MIGRATIONS` for PostgreSQL); the version numbers, recorded
in the `schema_version` table, mean the same schema in both.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, "
        "PRIMARY KEY (kind, key)) WITHOUT ROWID",
    ],
}

# The body stays the JSON text we wrote (not jsonb, which would reorder keys and refuse what
# SQLite accepts); keys collate as "C" so `load` orders them byte-wise, as SQLite does.
POSTGRES_MIGRATIONS: dict[int, list[str]] = {
    1: [
        'CREATE TABLE records (kind TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, '
        "body TEXT NOT NULL, PRIMARY KEY (kind, key))",
    ],
}

assert set(MIGRATIONS) == set(POSTGRES_MIGRATIONS) == set(range(1, SCHEMA_VERSION + 1))
