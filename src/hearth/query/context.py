"""Who is making a request: built by the HTTP layer, read by services, rules and the filter
compiler (`@request.*`). It lives in query, the lowest package that reads it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hearth.schema.collection import Collection


@dataclass(slots=True)
class AuthState:
    """The authenticated record (None for guests) and its collection."""

    collection: Collection | None = None
    record: dict[str, Any] | None = None
    # False for tokens auth-refresh gives back unchanged (impersonation tokens, as PocketBase).
    refreshable: bool = False
    # The login session the token belongs to (kept across refreshes; auth-logout revokes it).
    session: str = ""
    # An API key acting with superuser rights within its scopes (hearth.auth.api_keys).
    api_key: Any = None

    @property
    def is_guest(self) -> bool:
        return self.record is None

    @property
    def is_superuser(self) -> bool:
        return self.collection is not None and self.collection.is_superusers

    @property
    def id(self) -> str:
        return str(self.record["id"]) if self.record else ""


GUEST = AuthState()


class RequestInfo:
    """What rules may read through `@request.*`.

    Query and headers are read lazily: most rules never look at them, and building the dicts
    on every request would cost the hot path.
    """

    __slots__ = ("auth", "method", "body", "context", "_query", "_headers", "_query_src", "_headers_src")

    def __init__(
        self,
        auth: AuthState = GUEST,
        method: str = "GET",
        query: dict[str, str] | Callable[[], dict[str, str]] | None = None,
        headers: dict[str, str] | Callable[[], dict[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        context: str = "default",
    ) -> None:
        self.auth = auth
        self.method = method
        self.body = body or {}
        self.context = context
        self._query = query if isinstance(query, dict) else None
        self._headers = headers if isinstance(headers, dict) else None
        self._query_src = query if callable(query) else None
        self._headers_src = headers if callable(headers) else None

    def with_body(self, body: dict[str, Any]) -> RequestInfo:
        """The same request with another body (rules read modifiers' results, not their keys)."""
        other = RequestInfo(self.auth, self.method, None, None, body, self.context)
        other._query, other._headers = self._query, self._headers
        other._query_src, other._headers_src = self._query_src, self._headers_src
        return other

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._query = self._query_src() if self._query_src else {}
        return self._query

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = self._headers_src() if self._headers_src else {}
        return self._headers
