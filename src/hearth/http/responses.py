"""JSON responses (orjson) and PocketBase's error envelope."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hearth._util import deepjson
from hearth.errors import ApiError


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return deepjson.dumps(content)  # a json field may nest deeper than orjson encodes


def json(content: Any, status: int = 200) -> Response:
    return JSONResponse(content, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


def error(exc: ApiError) -> Response:
    response = JSONResponse(exc.envelope(), status_code=exc.status)
    if exc.retry_after is not None:
        response.headers["retry-after"] = str(exc.retry_after)
    return response
