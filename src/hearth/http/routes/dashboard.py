"""The admin dashboard: `/_/` (its page) and `/_/<file>` (its scripts, styles and the vendored
SDK), from hearth.dashboard. The page is a client of the public API; these routes only serve
files, with no auth (the page signs in through the API as the SDK does)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hearth.dashboard import ASSETS, INDEX, Asset, asset
from hearth.errors import NotFound
from hearth.http.headers import DASHBOARD_SECURITY_HEADERS
from hearth.http.router import route


class _DashboardResponse(Response):
    security_headers = DASHBOARD_SECURITY_HEADERS


def _serve(request: Request, found: Asset) -> Response:
    # The file names carry no version, so a browser revalidates every time (a 304 is cheap): an
    # upgraded Hearth never runs with last release's scripts.
    headers = {"cache-control": "no-cache", "etag": found.etag}
    if found.etag in request.headers.get("if-none-match", ""):
        return _DashboardResponse(status_code=304, headers=headers)
    response = _DashboardResponse(found.content, headers=headers)
    response.headers["content-type"] = found.content_type
    return response


async def index(request: Request) -> Response:
    if not request.url.path.endswith("/"):
        # The page loads its files by relative URLs (so Hearth may sit under a path prefix);
        # from `/_` they would resolve one level up. Relative too, for the same reason.
        return RedirectResponse("_/", status_code=301)
    return _serve(request, ASSETS[INDEX])


async def dashboard_asset(request: Request) -> Response:
    found = asset(request.path_params["asset"])
    if found is None:
        raise NotFound("File not found.")
    return _serve(request, found)


routes = [
    route("GET", "/_", index),
    route("GET", "/_/{asset}", dashboard_asset),
]
