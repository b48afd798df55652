"""The admin dashboard's static files (served at `/_/` by hearth.http.routes.dashboard).

Hand-written HTML, CSS and JavaScript ES modules plus the vendored PocketBase JS SDK: nothing is
built, so the files in `static/` are what the browser runs (see docs/dashboard.md). They are
read once, at import, into memory with their ETags; only names found in `static/` are served,
so a request can never reach another file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    content: bytes
    content_type: str
    etag: str


def _load() -> dict[str, Asset]:
    out: dict[str, Asset] = {}
    for entry in resources.files(__name__).joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if not entry.is_file() or suffix not in _TYPES:
            continue
        content = entry.read_bytes()
        etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
        out[entry.name] = Asset(content, _TYPES[suffix], etag)
    return out


ASSETS = _load()
INDEX = "index.html"


def asset(name: str) -> Asset | None:
    """The file called `name` in static/, or None (also for the index, served only at `/_/`)."""
    return None if name == INDEX else ASSETS.get(name)
