"""The superuser SQL console (`POST /api/sql`, PocketBase 0.40)."""
