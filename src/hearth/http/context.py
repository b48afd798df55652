"""Per-request preamble shared by the route modules: schema freshness and who is asking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from hearth._util.projection import FieldsError, Tree, parse_fields
from hearth.audit import actor
from hearth.auth.api_keys import required_scope
from hearth.errors import BadRequest, Forbidden, NotFound, Unauthorized
from hearth.query.context import AuthState, RequestInfo
from hearth.ratelimit.ips import in_list, real_ip
from hearth.schema.collection import SUPERUSERS, SUPERUSERS_ID, Collection

if TYPE_CHECKING:
    from hearth.app import Hearth

MISSING_COLLECTION = "Missing collection context."
# Set by record routes: the record their answer holds (hearth.hooks.events.RequestEvent.record).
RECORD_KEY = "hearth.record"


def hearth(request: Request) -> Hearth:
    return request.app.state.hearth  # type: ignore[no-any-return]


async def begin(request: Request) -> tuple[Hearth, AuthState]:
    """Reload the schema if another process changed it, then resolve the auth token."""
    h = hearth(request)
    revocations = h.collections.revocations
    reloaded = await h.collections.refresh()
    # The rate limiter may have resolved the caller already (against the same collections and
    # the same revoked sessions and API keys).
    stale = reloaded or revocations != h.collections.revocations
    auth = None if stale else request.scope.get("hearth.auth")
    if auth is None:
        auth = await h.auth.resolve(request.headers.get("authorization"))
        request.scope["hearth.auth"] = auth  # a request hook and its handler resolve it once
    if auth.is_superuser or (auth.is_guest and request.scope["path"].startswith(_SUPERUSER_PATHS)):
        await _superuser_ip_allowed(h, request)
    actor.from_request(auth, request.scope)  # who the audit trail names for this request's writes
    if auth.api_key is not None:
        check_api_key_scope(h, auth, request.method, request.scope["path"])
    return h, auth


# `superuserIPs`: a superuser's requests, and signing in as one, only from these addresses.
_SUPERUSER_PATHS = (f"/api/collections/{SUPERUSERS}/", f"/api/collections/{SUPERUSERS_ID}/")
NOT_ALLOWED = "You are not allowed to perform this request."


async def _superuser_ip_allowed(h: Hearth, request: Request) -> None:
    """403 (PocketBase's answer) when `superuserIPs` is set and the client's IP, as the trusted
    proxy settings give it, is in none of its addresses or subnets."""
    settings = await h.settings.get(h.collections.version)
    allowed = settings.get("superuserIPs") or ()
    if not allowed:
        return
    proxy = settings.get("trustedProxy") or {}
    ip = real_ip(request.scope["headers"], request.scope.get("client"), proxy.get("headers") or (),
                 bool(proxy.get("useLeftmostIP")))  # fmt: skip
    if not in_list(allowed, ip):
        raise Forbidden(NOT_ALLOWED)


def check_api_key_scope(h: Hearth, auth: AuthState, method: str, path: str) -> None:
    """An API key reaches only what its scopes name (403 otherwise)."""
    scope = required_scope(method, path)
    if scope != "admin":
        name, _, action = scope.partition(":")
        c = h.collections.get(name) if name != "*" else None
        # System collections (superusers, MFA/OTP/OAuth2 rows…) need the admin scope: a key
        # that could write `_superusers` could make itself an administrator.
        scope = (
            "admin"
            if (c is not None and c.system) or name.startswith("_")
            else f"{c.name if c else name}:{action}"
        )
    if not auth.api_key.allows(scope):
        raise Forbidden(f"The API key is not allowed to perform this action (needs the {scope} scope).")


MISSING_WRITE_COLLECTION = "Missing or invalid collection context."  # PocketBase's, on create/update


def collection_or_404(h: Hearth, id_or_name: str, message: str = MISSING_COLLECTION) -> Collection:
    c = h.collections.get(id_or_name)
    if c is None:
        raise NotFound(message)
    return c


def require_superuser(auth: AuthState) -> None:
    if auth.is_guest:
        raise Unauthorized("The request requires valid record authorization token.")
    if not auth.is_superuser:
        raise Forbidden("The authorized record is not allowed to perform this action.")


def query_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest() from None
    if not -(2**63) <= value < 2**63:
        raise BadRequest()  # Go's Atoi range, as PocketBase parses it
    return value


def paging(request: Request, max_per_page: int) -> tuple[int, int]:
    """`page` (from 1) and `perPage` (30 when absent or not positive, at most `max_per_page`) of
    Hearth's own lists; a non-integer is a 400."""
    page = max(1, query_int(request, "page", 1))
    per_page = query_int(request, "perPage", 30)
    return page, 30 if per_page <= 0 else min(per_page, max_per_page)


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("", "0", "f", "F", "FALSE", "false", "False")


def query_bool(request: Request, name: str) -> bool:
    """Go's strconv.ParseBool, as PocketBase reads `skipTotal`; anything else is a 400."""
    raw = request.query_params.get(name, "")
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadRequest()


def projection(request: Request) -> Tree | None:
    try:
        return parse_fields(request.query_params.get("fields", ""))
    except FieldsError:
        raise BadRequest() from None


def page_envelope(
    items: list[Any], page: int, per_page: int, total_items: int, total_pages: int
) -> dict[str, Any]:
    return {
        "items": items,
        "page": page,
        "perPage": per_page,
        "totalItems": total_items,
        "totalPages": total_pages,
    }


def request_info(request: Request, auth: AuthState, body: dict[str, Any] | None = None) -> RequestInfo:
    """What rules can read as `@request.*` (header names lowercased, `-` → `_`)."""
    return RequestInfo(
        auth=auth,
        method=request.method,
        query=lambda: dict(request.query_params),
        headers=lambda: {k.lower().replace("-", "_"): v for k, v in request.headers.items()},
        body=body,
    )
