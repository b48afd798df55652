"""Migrations in version control: Python files in `hearth_migrations/` (beside the data
directory), applied in order at start and by `hearth migrate`, recorded in `_migrations`
(PocketBase's table); in `--dev`, a file written for every collection change (files.py, auto.py,
runner.py; docs/migrations.md)."""
