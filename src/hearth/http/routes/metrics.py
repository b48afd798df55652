"""`GET /metrics`: the instance's Prometheus metrics, for requests bearing the metrics token.

Without a token configured (`--metrics-token` / HEARTH_METRICS_TOKEN) the route answers as an
unknown path does, so an instance does not even say that it could serve metrics. Not gated by
`begin` (which reads the database): metrics must answer while the database is away, and say so
(`hearth_database_up 0`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hearth.errors import NotFound, Unauthorized
from hearth.http.router import route
from hearth.metrics.families import CONTENT_TYPE


async def metrics(request: Request) -> Response:
    service = request.app.state.hearth.metrics
    if service is None:
        raise NotFound("File not found.")  # what any unknown GET path answers
    if not service.admits(request.headers.get("authorization", "")):
        raise Unauthorized("The request requires the metrics token (Authorization: Bearer TOKEN).")
    return Response(await service.scrape(), headers={"content-type": CONTENT_TYPE})


routes = [route("GET", "/metrics", metrics)]
