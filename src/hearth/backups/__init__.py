"""Backups as PocketBase's `/api/backups`: zip archives of the database and the local files,
kept on local disk or in S3, created on demand or by the `backups.cron` schedule, restored into
the running server. service.py (create, list, restore…), archive.py (names and the zip), one
engine per database behind engine.py (sqlite.py, postgres.py). docs/operations.md, "Backups".
"""
