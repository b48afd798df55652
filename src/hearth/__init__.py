"""Hearth: an open-source backend that speaks PocketBase's HTTP API, on SQLite or PostgreSQL."""

__version__ = "0.1.0"
__all__ = ["__version__"]
