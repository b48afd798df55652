"""Moving a whole database between PocketBase's SQLite layout and Hearth on any engine:
`hearth import pocketbase` (a pb_data directory into PostgreSQL) and `hearth export pocketbase`
(any Hearth database into a pb_data directory the real PocketBase opens). docs/migration-from-pocketbase.md."""
