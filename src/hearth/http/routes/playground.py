"""`/api/hearth/collections/{collection}/rules-playground`: the rules playground, for superusers
(beyond PocketBase): which records an auth record or a guest may list or view, and which
top-level parts of the rule a refused record fails (hearth.records.playground)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, collection_or_404, require_superuser
from hearth.http.router import route


async def rules_playground(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    c = collection_or_404(h, request.path_params["collection"])
    body = await read_object(request, h.config.max_body_size)
    return responses.json(await h.playground.run(c, body))


routes = [
    route("POST", "/api/hearth/collections/{collection}/rules-playground", rules_playground),
]
