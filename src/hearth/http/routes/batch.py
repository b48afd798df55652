"""`POST /api/batch`: read the body, run the batch service, answer the results in request order."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hearth._util.projection import parse_fields_lenient, project
from hearth.errors import BadRequest, PayloadTooLarge
from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin
from hearth.http.router import route
from hearth.records.batch import READ_FAILED, BatchService, limits, parse_requests


async def batch(request: Request) -> Response:
    h, auth = await begin(request)
    lim = limits((await h.settings.get(h.collections.version))["batch"])
    try:
        data = await read_object(request, lim.max_body_size, uploads=True)
    except PayloadTooLarge:
        if "content-length" in request.headers:
            raise
        # A streamed body cut off at the limit is a read failure for PocketBase, not a 413.
        raise BadRequest(READ_FAILED) from None
    except BadRequest:
        raise BadRequest(READ_FAILED) from None
    subs = parse_requests(data, lim.max_requests, getattr(request.state, "uploads", None))
    headers = {k.lower().replace("-", "_"): v for k, v in request.headers.items()}
    outcomes = await BatchService(h.records).run(subs, auth, headers, lim.timeout)
    # Records are serialised after the commit: `?expand=` then reads the committed state.
    results: list[dict[str, Any]] = []
    for o in outcomes:
        if o.collection is None or o.values is None or o.info is None:
            results.append({"body": None, "status": o.status})
            continue
        (api,) = await h.presenter.serialize(o.collection, [o.values], o.info, o.query.get("expand", ""))
        results.append({"body": project(api, parse_fields_lenient(o.query.get("fields", ""))), "status": o.status})
    return responses.json(results)


routes = [route("POST", "/api/batch", batch, own_body_limit=True, event="batch_request")]
