"""PocketBase's rate limit action tags per route (`collection:action` / `*:action` labels).

PocketBase binds `collectionPathRateLimit(tags...)` to these routes (apis/record_auth.go,
apis/file.go) or checks them inline (apis/record_crud.go). Keyed by the router's route pattern
(`METHOD /path/{param}`); a route absent here is limited by its path labels only, like
PocketBase's global middleware (e.g. `impersonate/{id}`, the collections and settings APIs).
"""

from __future__ import annotations

_C = "/api/collections/{collection}"

ACTIONS: dict[str, tuple[str, ...]] = {
    # records CRUD
    f"GET {_C}/records": ("list",),
    f"GET {_C}/records/{{id}}": ("view",),
    f"POST {_C}/records": ("create",),
    f"PATCH {_C}/records/{{id}}": ("update",),
    f"DELETE {_C}/records/{{id}}": ("delete",),
    # auth (the first tag is the more specific one: `users:authWithPassword` before `users:auth`)
    f"GET {_C}/auth-methods": ("listAuthMethods",),
    f"POST {_C}/auth-refresh": ("authRefresh",),
    f"POST {_C}/auth-with-password": ("authWithPassword", "auth"),
    f"POST {_C}/auth-with-oauth2": ("authWithOAuth2", "auth"),
    f"POST {_C}/request-otp": ("requestOTP",),
    f"POST {_C}/auth-with-otp": ("authWithOTP", "auth"),
    f"POST {_C}/request-password-reset": ("requestPasswordReset",),
    f"POST {_C}/confirm-password-reset": ("confirmPasswordReset",),
    f"POST {_C}/request-verification": ("requestVerification",),
    f"POST {_C}/confirm-verification": ("confirmVerification",),
    f"POST {_C}/request-email-change": ("requestEmailChange",),
    f"POST {_C}/confirm-email-change": ("confirmEmailChange",),
    # files
    "GET /api/files/{collection}/{recordId}/{filename}": ("file",),
}

# PocketBase refuses writes to a view collection (400) before it counts the request.
WRITES = frozenset(("create", "update", "delete"))
