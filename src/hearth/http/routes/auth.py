"""`/api/collections/{collection}/…`: auth methods, every login method, token refresh,
impersonation and the account flows by e-mail (verification, password reset, e-mail change)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.projection import project
from hearth.app import Hearth
from hearth.auth.logins import LoginContext
from hearth.auth.service import TOKEN_REQUIRED, bearer_token
from hearth.errors import Unauthorized
from hearth.http import responses
from hearth.http.body import FORM_LOAD_FAILED, read_object, rules_body
from hearth.http.context import RECORD_KEY, begin, projection
from hearth.http.router import route
from hearth.schema.collection import Collection


def login_context(request: Request, body: dict[str, Any]) -> LoginContext:
    mfa_id = request.query_params.get("mfaId") or body.get("mfaId") or ""
    return LoginContext(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", ""),
        mfa_id=mfa_id if isinstance(mfa_id, str) else "",
        body=body,
    )


async def _auth_collection(request: Request) -> tuple[Hearth, Any, Collection]:
    h, auth = await begin(request)
    return h, auth, h.auth.auth_collection(request.path_params["collection"])


async def _respond(
    request: Request, h: Hearth, c: Collection, token: str, values: dict[str, Any]
) -> Response:
    body = await h.auth.auth_response(c, token, values, request.query_params.get("expand", ""))
    return responses.json(project(body, projection(request)))


async def auth_methods(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    return responses.json(project(h.auth.methods(c), projection(request)))


async def _own_collection(request: Request) -> tuple[Hearth, Any, Collection]:
    h, auth = await begin(request)
    return h, auth, h.auth.own_collection(request.path_params["collection"], auth)


async def auth_with_password(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.auth.require_password_auth(c)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    token, values = await h.auth.with_password(c, body, login_context(request, body))
    return await _respond(request, h, c, token, values)


async def request_otp(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.otp.require_enabled(c)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    return responses.json({"otpId": await h.otp.request(c, body)})


async def auth_with_otp(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.otp.require_enabled(c)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    row, _ = await h.otp.authenticate(c, body)
    token, values = await h.auth.finish_login(c, row, "otp", login_context(request, body))
    return await _respond(request, h, c, token, values)


async def auth_refresh(request: Request) -> Response:
    h, auth, c = await _own_collection(request)
    # PocketBase reads the body here once the token is known to fit (a malformed one: 400).
    await rules_body(request, h.config.max_body_size)
    token, values = await h.auth.refresh(c, auth, bearer_token(request.headers.get("authorization")))
    return await _respond(request, h, c, token, values)


async def auth_logout(request: Request) -> Response:
    """Beyond PocketBase: end this session (`?all=1`: every session of the record). 204."""
    h, auth, c = await _own_collection(request)
    everywhere = request.query_params.get("all", "") in ("1", "true")
    await h.auth.logout(c, auth, everywhere)
    return responses.no_content()


async def file_token(request: Request) -> Response:
    """`{"token"}`: a file token for protected files. The `file_token_request` event's `e.record`
    is the token's record (its password hash left out); a handler may replace `e.response`."""
    h, auth = await begin(request)
    token = await h.auth.file_token(auth)
    if auth.record is not None:
        request.scope[RECORD_KEY] = {k: v for k, v in auth.record.items() if k != "password"}
    return responses.json({"token": token})


async def impersonate(request: Request) -> Response:
    h, auth = await begin(request)
    if h.collections.get(request.path_params["collection"]) is not None and auth.is_guest:
        raise Unauthorized(TOKEN_REQUIRED)  # PocketBase asks a guest for a token before anything else
    c = h.auth.auth_collection(request.path_params["collection"])
    token, values = await h.auth.impersonate(
        c,
        auth,
        request.path_params["id"],
        lambda: read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED),
    )
    return await _respond(request, h, c, token, values)


async def request_verification(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.account.check_verification(c)
    await h.account.request_verification(c, await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED))
    return responses.no_content()


async def confirm_verification(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.account.check_verification(c)
    await h.account.confirm_verification(c, await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED))
    return responses.no_content()


async def request_password_reset(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.account.require_password_reset(c)
    await h.account.request_password_reset(c, await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED))
    return responses.no_content()


async def confirm_password_reset(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    await h.account.confirm_password_reset(c, await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED))
    return responses.no_content()


async def request_email_change(request: Request) -> Response:
    h, auth, c = await _own_collection(request)
    h.account.check_email_change(c)
    await h.account.request_email_change(c, auth, await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED))
    return responses.no_content()


async def confirm_email_change(request: Request) -> Response:
    h, _, c = await _auth_collection(request)
    h.account.check_email_change(c)
    await h.account.confirm_email_change(c, await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED))
    return responses.no_content()


_BASE = "/api/collections/{collection}"
routes = [
    route("GET", f"{_BASE}/auth-methods", auth_methods, event="record_auth_methods_request"),
    route(
        "POST", f"{_BASE}/auth-with-password", auth_with_password, event="record_auth_with_password_request"
    ),
    route("POST", f"{_BASE}/request-otp", request_otp, event="record_request_otp_request"),
    route("POST", f"{_BASE}/auth-with-otp", auth_with_otp, event="record_auth_with_otp_request"),
    route("POST", f"{_BASE}/auth-refresh", auth_refresh, event="record_auth_refresh_request"),
    route("POST", f"{_BASE}/auth-logout", auth_logout, event="record_auth_logout_request"),
    route("POST", f"{_BASE}/impersonate/{{id}}", impersonate, event="record_impersonate_request"),
    route("POST", "/api/files/token", file_token, event="file_token_request"),
    route(
        "POST",
        f"{_BASE}/request-verification",
        request_verification,
        event="record_request_verification_request",
    ),
    route(
        "POST",
        f"{_BASE}/confirm-verification",
        confirm_verification,
        event="record_confirm_verification_request",
    ),
    route(
        "POST",
        f"{_BASE}/request-password-reset",
        request_password_reset,
        event="record_request_password_reset_request",
    ),
    route(
        "POST",
        f"{_BASE}/confirm-password-reset",
        confirm_password_reset,
        event="record_confirm_password_reset_request",
    ),
    route(
        "POST",
        f"{_BASE}/request-email-change",
        request_email_change,
        event="record_request_email_change_request",
    ),
    route(
        "POST",
        f"{_BASE}/confirm-email-change",
        confirm_email_change,
        event="record_confirm_email_change_request",
    ),
]
