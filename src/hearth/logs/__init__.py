"""Request logs: PocketBase's `_logs` (store.py: where; service.py: the buffer and its writer)."""
