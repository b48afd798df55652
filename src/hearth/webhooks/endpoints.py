"""A webhook endpoint: its values as stored and shown, and the checks a superuser's input goes
through (unknown fields, the URL and its address, the collection, events, the filter as API rules
are checked, the secret). Each bad field is named in one 400, as PocketBase answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from hearth._util import netguard
from hearth._util.times import format_datetime
from hearth.errors import BadRequest, FieldError
from hearth.filter import FilterSyntaxError, parse_filter, walk_identifiers
from hearth.query.compile import FilterError, compile_filter
from hearth.query.resolve import Resolver, UnknownIdentifier, Unsupported
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.sql.dialect import Dialect
from hearth.webhooks import signing

EVENTS = ("create", "update", "delete")
MAX_URL = 2048
MAX_NAME = 255
FIELDS = ("name", "url", "collection", "events", "filter", "secret", "active")


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    name: str
    url: str
    collection: str  # the collection's id
    events: tuple[str, ...]
    filter: str
    secret: str
    active: bool
    disabled_reason: str
    failures: int
    failing_since: int  # epoch ms; 0: not failing
    created: int
    updated: int

    @classmethod
    def from_row(cls, r: Any) -> Endpoint:
        events = orjson.loads(r[4])
        return cls(str(r[0]), str(r[1]), str(r[2]), str(r[3]), tuple(events), str(r[5]), str(r[6]),
                   bool(r[7]), str(r[8]), int(r[9]), int(r[10]), int(r[11]), int(r[12]))  # fmt: skip

    def public(self, collections: CollectionRepository) -> dict[str, Any]:
        c = collections.get(self.collection)
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "collection": c.name if c is not None else self.collection,
            "collectionId": self.collection,
            "events": list(self.events),
            "filter": self.filter,
            "secret": self.secret,
            "active": self.active,
            "disabledReason": self.disabled_reason,
            "failures": self.failures,
            "created": when(self.created),
            "updated": when(self.updated),
        }


def when(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC)) if ms else ""


async def validate(
    body: dict[str, Any], current: Endpoint | None, message: str, *, collections: CollectionRepository,
    dialect: Dialect, allow_private: bool,
) -> dict[str, Any]:
    """The endpoint's values after `body` (create: `current` None), or a 400 naming each bad field."""
    errors: dict[str, FieldError] = {}
    for key in body:
        if key not in FIELDS:
            errors[key] = FieldError("validation_unknown_field", "Unknown field.")
    v: dict[str, Any] = (
        {
            "name": "",
            "url": None,
            "collection": None,
            "events": list(EVENTS),
            "filter": "",
            "secret": signing.new_secret(),
            "active": True,
        }  # fmt: skip
        if current is None
        else {
            "name": current.name,
            "url": current.url,
            "collection": current.collection,
            "events": list(current.events),
            "filter": current.filter,
            "secret": current.secret,
            "active": current.active,
        }  # fmt: skip
    )
    if "name" in body:
        if not isinstance(body["name"], str) or len(body["name"]) > MAX_NAME:
            errors["name"] = FieldError(
                "validation_invalid_value", f"Must be a string of at most {MAX_NAME} characters."
            )
        else:
            v["name"] = body["name"].strip()
    if "url" in body or current is None:
        url = body.get("url")
        problem = await url_problem(url, allow_private)
        if problem is not None:
            errors["url"] = problem
        else:
            v["url"] = url
    c: Collection | None = collections.get(v["collection"]) if v["collection"] else None
    if "collection" in body or current is None:
        raw = body.get("collection")
        c = collections.get(raw) if isinstance(raw, str) and raw else None
        if c is None:
            errors["collection"] = FieldError(
                "validation_missing_collection" if not raw else "validation_invalid_collection",
                "Cannot be blank." if not raw else "Missing or invalid collection.",
            )
        else:
            v["collection"] = c.id
    if "events" in body:
        events = body["events"]
        if (
            not isinstance(events, list)
            or not events
            or any(not isinstance(x, str) or x not in EVENTS for x in events)
        ):
            errors["events"] = FieldError(
                "validation_invalid_value", f"Must be a non-empty list of: {', '.join(EVENTS)}."
            )
        else:
            v["events"] = [x for x in EVENTS if x in events]
    if "filter" in body:
        if not isinstance(body["filter"], str):
            errors["filter"] = FieldError("validation_invalid_value", "Must be a string.")
        else:
            v["filter"] = body["filter"].strip()
    if v["filter"] and c is not None and "filter" not in errors:
        problem = filter_problem(v["filter"], c, collections, dialect)
        if problem is not None:
            errors["filter"] = problem
    if "secret" in body:
        secret = body["secret"]
        if not isinstance(secret, str) or not signing.valid_secret(secret):
            errors["secret"] = FieldError(
                "validation_invalid_secret",
                "Must be whsec_ followed by the base64 of 24-64 random bytes.",
            )
        else:
            v["secret"] = secret
    if "active" in body:
        if not isinstance(body["active"], bool):
            errors["active"] = FieldError("validation_invalid_value", "Must be true or false.")
        else:
            v["active"] = body["active"]
    if errors:
        raise BadRequest(message, dict(errors))
    return v

async def url_problem(url: Any, allow_private: bool) -> FieldError | None:
    if not isinstance(url, str) or not url.strip():
        return FieldError("validation_required", "Cannot be blank.")
    if len(url) > MAX_URL:
        return FieldError("validation_invalid_url", f"Must be at most {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return FieldError("validation_invalid_url", "Must be a valid url.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return FieldError("validation_invalid_url", "Must be a valid http or https url.")
    if parts.username or parts.password:
        return FieldError("validation_invalid_url", "Credentials in the url are not allowed.")
    if not allow_private:
        reason = await netguard.refused_reason(parts.hostname, port)
        if reason:
            return FieldError("validation_invalid_url", f"The url is not allowed: {reason}.")
    return None

def filter_problem(
    text: str, c: Collection, collections: CollectionRepository, dialect: Dialect
) -> FieldError | None:
    """The filter checked as API rules are: its syntax, then each identifier against the
    collection; then compiled, so that an endpoint never holds a filter that cannot run."""
    try:
        tree = parse_filter(text)
    except FilterSyntaxError:
        return FieldError(
            "validation_invalid_filter",
            "Invalid filter. Raw error: invalid or incomplete filter expression.",
        )
    resolver = Resolver(c, allow_hidden=True, dialect=dialect, lookup=collections.get)
    for ident in walk_identifiers(tree):
        if ident.name.startswith("@request."):
            return FieldError(
                "validation_invalid_filter", f'Invalid filter: "{ident.name}" - a webhook has no request.'
            )
        try:
            resolver.resolve(ident.name)
        except UnknownIdentifier:
            return FieldError("validation_invalid_filter",
                              f'Invalid filter. Raw error: invalid left operand "{ident.name}" - unknown field "{ident.name}".')  # fmt: skip
        except Unsupported:
            continue
    try:
        compile_filter(dialect, c, text, rule=True)
    except (FilterError, Unsupported) as exc:
        return FieldError("validation_invalid_filter", f"Invalid filter: {exc or 'not supported'}.")
    return None
