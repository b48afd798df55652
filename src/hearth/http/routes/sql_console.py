"""`POST /api/sql`: the superuser SQL console (hearth.sqlconsole)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.http import responses
from hearth.http.body import read_object
from hearth.http.context import begin, require_superuser
from hearth.http.router import route


async def run_sql(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size)
    return responses.json(await h.sql_console.run(body))


routes = [route("POST", "/api/sql", run_sql)]
