"""Default response headers (PocketBase's) and CORS constants (allow all, as PocketBase by default)."""

from __future__ import annotations

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-xss-protection", b"1; mode=block"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"vary", b"Origin"),
]
# Served files may be embedded in other pages (PocketBase drops X-Frame-Options for them).
FILE_SECURITY_HEADERS = [h for h in SECURITY_HEADERS if h[0] != b"x-frame-options"]
ALLOW_METHODS = b"GET,HEAD,PUT,PATCH,POST,DELETE"
