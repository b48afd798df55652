"""Hearth's event spine: hooks (chains of handlers) and the catalog of every event."""
