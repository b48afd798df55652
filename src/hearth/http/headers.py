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
# The docs page (http/routes/openapi.py) loads only its own scripts and styles from this origin;
# Swagger UI sets style attributes and draws data: images, hence those two allowances.
DOCS_SECURITY_HEADERS = [
    *SECURITY_HEADERS,
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        b"frame-ancestors 'self'",
    ),
]
# The dashboard (http/routes/dashboard.py) runs only its own files, sets no inline script or style,
# and talks only to this origin's API: a strict policy, so injected markup could not run.
DASHBOARD_SECURITY_HEADERS = [
    *SECURITY_HEADERS,
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'self'",
    ),
]
ALLOW_METHODS = b"GET,HEAD,PUT,PATCH,POST,DELETE"
