"""The ASGI application of a `hearth serve` worker: Hearth with the hooks folder loaded."""

from __future__ import annotations

from hearth.config import Config
from hearth.extend.app import App
from hearth.http.router import App as AsgiApp


def create_app() -> AsgiApp:
    """Factory for ASGI servers (granian/uvicorn --factory); reads HEARTH_* env."""
    return App(config=Config.from_env()).asgi
