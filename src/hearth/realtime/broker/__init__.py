"""Realtime brokers: how the processes of one Hearth pass realtime events (base.py says what
every broker does)."""

from __future__ import annotations

import os

from hearth.db.base import Database
from hearth.realtime.broker.base import Active, Broker, Handler
from hearth.realtime.broker.database import DatabaseBroker


def open_broker(db: Database, handle: Handler, active: Active) -> Broker:
    """Redis Streams when HEARTH_REDIS_URL is set (many instances), else the database."""
    from hearth.ratelimit.counters import DEFAULT_PREFIX, REDIS_PREFIX_ENV, REDIS_URL_ENV

    url = os.environ.get(REDIS_URL_ENV, "")
    if url:
        from hearth.realtime.broker.redis import RedisBroker

        return RedisBroker(url, handle, active, prefix=os.environ.get(REDIS_PREFIX_ENV) or DEFAULT_PREFIX)
    return DatabaseBroker(db, handle, active)
