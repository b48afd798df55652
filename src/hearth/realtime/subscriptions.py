"""Parsing of realtime subscription strings, as the SDKs send them.

`posts/*`, `posts/RECORD_ID`, `@oauth2`, each optionally followed by
`?options={"query":{"filter":…,"expand":…,"fields":…},"headers":{…}}` (URL-encoded JSON). The event
name a client receives is the subscription string exactly as it sent it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qs

import orjson

from hearth._util import deepjson

MAX_SUBSCRIPTIONS = 1000
MAX_LENGTH = 2500


@dataclass(frozen=True, slots=True)
class Subscription:
    raw: str
    topic: str  # without the options
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # The options as one hashable value: subscriptions with equal options see the same events.
    options: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = ((), ())

    @property
    def collection(self) -> str:
        return self.topic.partition("/")[0]

    @property
    def record(self) -> str:
        """`*` for every record of the collection, else one record id ("" for non-record topics)."""
        return self.topic.partition("/")[2]


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else deepjson.dumps(v).decode() for k, v in value.items()}


@lru_cache(maxsize=4096)
def parse(raw: str) -> Subscription:
    """Cached: thousands of clients subscribe with the same few strings and share one frozen
    Subscription (and its string) instead of holding a copy with two dicts apiece."""
    topic, _, query = raw.partition("?")
    options: dict[str, object] = {}
    if query:
        values = parse_qs(query).get("options")
        if values:
            try:
                loaded = orjson.loads(values[0])
            except orjson.JSONDecodeError:
                loaded = {}
            options = loaded if isinstance(loaded, dict) else {}
    headers = {k.lower(): v for k, v in _strings(options.get("headers")).items()}
    params = _strings(options.get("query"))
    return Subscription(raw, topic, params, headers, (tuple(sorted(params.items())), tuple(sorted(headers.items()))))
