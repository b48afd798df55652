"""Password hashing with bcrypt, as PocketBase stores it, off the event loop.

bcrypt keeps PocketBase data imports working unchanged (their hashes verify as they are).
Hashing takes tens of milliseconds, so it runs in a small thread pool (bcrypt releases the GIL).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import bcrypt

DEFAULT_COST = 10  # PocketBase's default (bcrypt.DefaultCost)
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearth-hash")
# Fixed hashes to verify against when the identity is unknown, so both paths take the same
# time: one per cost, made on first use (a collection may set its own cost).
_DUMMY_HASHES: dict[int, str] = {}


def _dummy(cost: int) -> str:
    if cost not in _DUMMY_HASHES:
        _DUMMY_HASHES[cost] = bcrypt.hashpw(b"hearth-dummy-password", bcrypt.gensalt(cost)).decode()
    return _DUMMY_HASHES[cost]


def _hash(password: str, cost: int) -> str:
    return bcrypt.hashpw(password.encode()[:MAX_PASSWORD_BYTES], bcrypt.gensalt(cost)).decode()


def _verify(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:MAX_PASSWORD_BYTES], hashed.encode())
    except ValueError:
        return False


async def hash_password(password: str, cost: int = 0) -> str:
    cost = cost if 4 <= cost <= 31 else DEFAULT_COST
    return await asyncio.get_running_loop().run_in_executor(_pool, _hash, password, cost)


async def verify_password(password: str, hashed: str | None, cost: int = 0) -> bool:
    """Constant work whether or not the record exists (`hashed` None verifies a dummy of the
    field's `cost`)."""
    cost = cost if 4 <= cost <= 31 else DEFAULT_COST
    loop = asyncio.get_running_loop()
    target = hashed if hashed else await loop.run_in_executor(_pool, _dummy, cost)
    ok = await loop.run_in_executor(_pool, _verify, password, target)
    return ok and hashed is not None
