"""Schema migrations: MIGRATIONS[n] takes a store from version n-1 to n."""

from __future__ import annotations

SCHEMA_VERSION = 1

MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, "
        "PRIMARY KEY (kind, key)) WITHOUT ROWID",
    ],
}
