"""An auth record's passwords on the way in: hashed before the write (bcrypt, off the event loop,
never while a transaction holds the write lock), blanked in what the write hands on."""

from __future__ import annotations

from typing import Any

from hearth._util import passwords
from hearth.schema.collection import Collection

# Password hashes made before a transaction opened, by (bcrypt cost, plain password); each is
# used once.
Prehashed = dict[tuple[int, str], list[str]]
MAX_PREHASH_LENGTH = 256  # longer ones fail validation anyway


async def hash_passwords(
    c: Collection, values: dict[str, Any], changed: set[str] | None, hashes: Prehashed | None
) -> None:
    """Replace the plain passwords in `values` by their hashes (from `hashes` when made before);
    on update (`changed` given) an unchanged password leaves `values`: the stored hash stays."""
    for f in c.fields:
        if not getattr(f, "is_password", False):
            continue
        if changed is not None and f.name not in changed:
            values.pop(f.name, None)
            continue
        plain = values.get(f.name) or ""
        cost = int(f.options.get("cost") or 0)
        ready = hashes.get((cost, plain)) if hashes and plain else None
        # One hash per use: two records never share a salt, even with the same password.
        known = ready.pop() if ready else None
        values[f.name] = known or (await passwords.hash_password(plain, cost) if plain else "")


async def prehash(c: Collection, body: dict[str, Any], hashes: Prehashed) -> None:
    """Hash the passwords `body` sets on an auth record into `hashes`, for a create or update
    that will run inside a transaction opened later (a batch, an OAuth2 sign-up): bcrypt
    must not run while the write lock is held."""
    for f in c.fields:
        plain = body.get(f.name) if getattr(f, "is_password", False) else None
        if isinstance(plain, str) and plain and len(plain) <= MAX_PREHASH_LENGTH:
            cost = int(f.options.get("cost") or 0)
            hashes.setdefault((cost, plain), []).append(await passwords.hash_password(plain, cost))


def blank_passwords(c: Collection, values: dict[str, Any]) -> None:
    """Written values go on to events and answers: never with a password hash."""
    for f in c.fields:
        if getattr(f, "is_password", False):
            values[f.name] = ""
