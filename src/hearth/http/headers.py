"""Default response headers (PocketBase's) and CORS constants (allow all, as PocketBase by default)."""

from __future__ import annotations

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-xss-protection", b"1; mode=block"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"vary", b"Origin"),
]
ALLOW_METHODS = b"GET,HEAD,PUT,PATCH,POST,DELETE"
