"""`/api/realtime` (server-sent events) and `/api/oauth2-redirect` (the SDK's OAuth2 popup flow)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hearth.errors import BadRequest, FieldError
from hearth.http import responses
from hearth.http.body import RECORD_LOAD_FAILED, read_object
from hearth.http.context import begin
from hearth.http.router import route
from hearth.http.sse import EventStream
from hearth.realtime.hub import sse
from hearth.realtime.subscriptions import MAX_LENGTH, MAX_SUBSCRIPTIONS

SUCCESS = "../_/#/auth/oauth2-redirect-success"
FAILURE = "../_/#/auth/oauth2-redirect-failure"


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def connect(request: Request) -> Response:
    h, _ = await begin(request)
    client = await h.realtime.connect(_ip(request))
    client.send(sse(client.id, "PB_CONNECT", {"clientId": client.id}))
    return EventStream(client, h.realtime.disconnect)


async def subscribe(request: Request) -> Response:
    h, auth = await begin(request)
    body = await read_object(request, h.config.max_body_size, message=RECORD_LOAD_FAILED)
    client_id, subs = body.get("clientId"), body.get("subscriptions", [])
    client_id = "" if client_id is None else client_id  # Go decodes null into ""
    if not isinstance(client_id, str) or not isinstance(subs, list | None):
        raise BadRequest()
    # As Go decodes the list: null is an empty topic, any other non-string a plain 400.
    subs = ["" if t is None else t for t in subs or []]
    if not all(isinstance(t, str) for t in subs):
        raise BadRequest()
    errors: dict[str, Any] = {}
    if not client_id:
        errors["clientId"] = FieldError("validation_required", "Cannot be blank.")
    elif len(client_id.encode()) > 255:  # lengths in bytes, as PocketBase counts them
        errors["clientId"] = FieldError(
            "validation_length_out_of_range", "The length must be between 1 and 255.", {"max": 255, "min": 1}
        )
    if len(subs) > MAX_SUBSCRIPTIONS:
        errors["subscriptions"] = FieldError(
            "validation_length_too_long",
            f"The length must be no more than {MAX_SUBSCRIPTIONS}.",
            {"max": MAX_SUBSCRIPTIONS, "min": 0},
        )
    else:
        too_long = {
            str(i): FieldError(
                "validation_length_too_long", f"The length must be no more than {MAX_LENGTH}.",
                {"max": MAX_LENGTH, "min": 0},
            )
            for i, t in enumerate(subs)
            if len(t.encode()) > MAX_LENGTH
        }  # fmt: skip
        if too_long:
            errors["subscriptions"] = too_long
    if errors:
        raise BadRequest("", errors)
    # An empty topic is accepted and matches nothing (PocketBase keeps it; no event has it).
    await h.realtime.subscribe(client_id, [t for t in subs if t], auth, _ip(request))
    return responses.no_content()


async def oauth2_redirect(request: Request) -> Response:
    h, _ = await begin(request)
    if request.method == "POST":
        try:
            body = await read_object(request, h.config.max_body_size)
        except BadRequest:
            body = {}
    else:
        body = dict(request.query_params)
    data = {k: str(body.get(k, "")) for k in ("state", "code", "error")}
    status = 303 if request.method == "POST" else 307
    message = {"state": data["state"], "code": data["code"]}
    if data["error"]:
        message["error"] = data["error"]
    if not await h.realtime.oauth2_redirect(data["state"], _ip(request), message):
        return RedirectResponse(FAILURE, status_code=status)
    if data["error"] or not data["code"]:
        return RedirectResponse(FAILURE, status_code=status)
    return RedirectResponse(SUCCESS, status_code=status)


routes = [
    route("GET", "/api/realtime", connect, event="realtime_connect_request"),
    route("POST", "/api/realtime", subscribe, event="realtime_subscribe_request"),
    route("GET", "/api/oauth2-redirect", oauth2_redirect),
    route("POST", "/api/oauth2-redirect", oauth2_redirect),
]
