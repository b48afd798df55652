"""Which stored columns may never leave the server: the one place that decides it.

Responses are built only by `hearth.records.codec.RecordCodec.to_api`, which leaves these columns
out for everyone (superusers and API keys included) and answers the other password fields as "";
view collections refuse queries that would copy them under another name (hearth.schema.views).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hearth._util.ids import random_string

if TYPE_CHECKING:
    from hearth.schema.collection import Collection
    from hearth.schema.fields.base import Field

TOKEN_KEY = "tokenKey"
PASSWORD = "password"
TOKEN_KEY_LENGTH = 50


def is_password(f: Field) -> bool:
    return bool(getattr(f, "is_password", False))


def secret_columns(c: Collection) -> frozenset[str]:
    """Columns left out of every response, as PocketBase leaves them out:

    - an auth collection's `tokenKey` (with the collection's token secret it signs the record's
      tokens) and `password` (a bcrypt hash);
    - in a view, a column named `password` or `tokenKey` that is not a password field (a copy of
      one of the above whose type the view could not infer).
    """
    # Other password fields (`_otps.password` included) are answered as "", as PocketBase does.
    out: set[str] = set()
    if c.is_auth:
        out.update(name for name in (TOKEN_KEY, PASSWORD) if name in c.field_map)
    if c.is_view:
        out.update(f.name for f in c.fields if f.name in (TOKEN_KEY, PASSWORD) and not is_password(f))
    return frozenset(out)


def raw_never_shown(c: Collection) -> frozenset[str]:
    """Columns whose stored value no response may carry as it is: the secret columns and every
    password field (answered as "" at most)."""
    return secret_columns(c) | {f.name for f in c.fields if is_password(f)}


def new_token_key(c: Collection) -> str:
    """A fresh tokenKey for a record of auth collection `c`: from the field's autogeneratePattern,
    or 50 random characters when the pattern gives nothing (as PocketBase refreshes it)."""
    f = c.field_map.get(TOKEN_KEY)
    generate = getattr(f, "generate", None)
    generated = generate() if generate is not None else None
    return generated or random_string(TOKEN_KEY_LENGTH)
