"""The interactive docs page: Swagger UI's files from the `swagger-ui-py` package (no CDN, no
Node), and Hearth's page and script around them.

The description is for superusers unless the server is run with HEARTH_OPENAPI_PUBLIC=1, so the
page brings the token: it reuses the `pocketbase_auth` entry that PocketBase's JS SDK (and
dashboard) keep in this origin's localStorage, or signs a superuser in with a small form and
stores the token there the same way. Every request the page sends (the description, "Try it
out") carries that token. The page has no inline script or style, so it is served with a strict
Content-Security-Policy.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Swagger UI's files the page loads, with their content types.
_VENDOR = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hearth API</title>
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png" sizes="32x32">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="stylesheet" href="/api/docs/hearth-docs.css">
</head>
<body>
<div id="hearth-bar">
  <strong>Hearth API</strong>
  <span id="hearth-who"></span>
  <form id="hearth-login" hidden>
    <input name="identity" type="email" placeholder="superuser e-mail" autocomplete="username" required>
    <input name="password" type="password" placeholder="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
    <span id="hearth-error"></span>
  </form>
  <button id="hearth-logout" type="button" hidden>Sign out</button>
</div>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/hearth-docs.js"></script>
</body>
</html>
"""

SCRIPT = """(function () {
  "use strict";
  var KEY = "pocketbase_auth"; // where PocketBase's JS SDK keeps its auth in localStorage
  function stored() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "null") || {}; } catch (e) { return {}; }
  }
  function token() { return stored().token || ""; }
  var who = document.getElementById("hearth-who");
  var form = document.getElementById("hearth-login");
  var logout = document.getElementById("hearth-logout");
  var error = document.getElementById("hearth-error");
  function show() {
    var auth = stored();
    var record = auth.record || auth.model || {};
    form.hidden = !!auth.token;
    logout.hidden = !auth.token;
    who.textContent = auth.token ? "as " + (record.email || record.id || "token") : "";
  }
  function load() {
    show();
    window.ui = SwaggerUIBundle({
      url: "/api/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      requestInterceptor: function (req) {
        var t = token();
        if (t && !req.headers.Authorization) { req.headers.Authorization = t; }
        return req;
      }
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    fetch("/api/collections/_superusers/auth-with-password", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        identity: form.elements.namedItem("identity").value,
        password: form.elements.namedItem("password").value
      })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.message || r.statusText); }
        window.localStorage.setItem(KEY, JSON.stringify({ token: body.token, record: body.record }));
        load();
      });
    }).catch(function (e) { error.textContent = e.message; });
  });
  logout.addEventListener("click", function () {
    window.localStorage.removeItem(KEY);
    load();
  });
  load();
})();
"""

STYLE = """#hearth-bar { display: flex; gap: 1em; align-items: center; padding: 0.6em 1.2em;
  font-family: sans-serif; background: #1f2430; color: #fff; flex-wrap: wrap; }
#hearth-bar form { display: flex; gap: 0.5em; align-items: center; margin: 0; }
#hearth-bar input { padding: 0.3em; }
#hearth-error { color: #ff9b9b; }
"""

_OWN = {
    "hearth-docs.js": (SCRIPT.encode(), "text/javascript; charset=utf-8"),
    "hearth-docs.css": (STYLE.encode(), "text/css; charset=utf-8"),
}
_cache: dict[str, tuple[bytes, str]] = {}


def vendor_dir() -> Path | None:
    """Swagger UI's files, found without importing the package (its handlers need Jinja2)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def asset(name: str) -> tuple[bytes, str] | None:
    """An asset of the page by file name: (content, content type), or None when unknown."""
    if name in _OWN:
        return _OWN[name]
    if name not in _VENDOR:
        return None
    if name not in _cache:
        folder = vendor_dir()
        if folder is None or not (folder / name).is_file():
            return None
        _cache[name] = ((folder / name).read_bytes(), _VENDOR[name])
    return _cache[name]
