"""The OpenAPI 3.1 description of this server, generated from the live collections.

document.py assembles it (cached per schema version); each area describes its own endpoints:
records.py (every collection's record endpoints), auth.py (an auth collection's login and account
endpoints), system.py (health, collections, settings, batch, realtime, files, crons),
hearth_api.py (`/api/hearth/…`: jobs, webhooks, API keys), rules.py (an API rule in words),
common.py (the error envelope, parameters, response helpers). See docs/operations.md, "OpenAPI".
"""
