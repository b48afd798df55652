"""Realtime: server-sent events for record changes (and `@oauth2`), with the API rules applied."""
