"""Rows ↔ record values for one collection, precomputed per schema version.

`RecordCodec.to_api` is the only way a record's values become a response (lists, views, writes,
auth responses, expand, batch, realtime events all go through `RecordPresenter.present`), and
`hearth.schema.secrets.secret_columns` is the one place that decides which stored columns never
leave the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hearth._util import deepjson
from hearth.db.base import Row
from hearth.schema.collection import Collection
from hearth.schema.fields.base import JSON, Field
from hearth.schema.secrets import is_password, secret_columns
from hearth.sql.checks import StoredCheck
from hearth.sql.dialect import Dialect
from hearth.sql.records import RecordSQL


class RecordCodec:
    """Holds the statements and converters of one collection version."""

    def __init__(self, d: Dialect, c: Collection) -> None:
        self.collection = c
        nocase_unique = [
            idx.columns[0].name
            for idx in c.parsed_indexes()
            if idx.unique and len(idx.columns) == 1 and idx.columns[0].collate_nocase
        ]
        self.sql = RecordSQL(d, c.name, [(f.name, f.storage) for f in c.fields], nocase_unique)
        self.fields: list[Field] = list(c.fields)
        self._from_db = [(i, f.name, f.from_db) for i, f in enumerate(self.fields)]
        self._json = [f.storage == JSON for f in self.fields]
        self.secret = secret_columns(c)
        self.hidden = frozenset(f.name for f in self.fields if f.hidden)
        # Password fields that may be shown are shown as "" (PocketBase does the same).
        self._blank = frozenset(f.name for f in self.fields if is_password(f))
        # API output keys are sorted (PocketBase marshals records as Go maps). Secret columns are
        # not among them, so no flag or caller can put them into a response.
        names = [f.name for f in self.fields if f.name not in self.secret]
        self._out_order = sorted([*names, "collectionId", "collectionName"])
        # What each field checks of a stored value, in SQL (an update in one statement); None
        # when one field cannot say (hearth.sql.checks).
        checks = {f.name: check for f in self.fields if (check := f.stored_check()) is not None}
        self.stored_checks: dict[str, StoredCheck] | None = checks if len(checks) == len(self.fields) else None

    def values_from_row(self, row: Row) -> dict[str, Any]:
        """A row → {field name: value}. Internal: it holds secret columns (tokenKey); password
        fields read as "" (their hashes only through `raw_value`)."""
        out: dict[str, Any] = {}
        for i, name, conv in self._from_db:
            out[name] = conv(row[i])
        return out

    def raw_value(self, row: Row, name: str) -> Any:
        return row[self.sql.columns.index(name)]

    def params(self, values: dict[str, Any], names: Sequence[str]) -> list[Any]:
        out: list[Any] = []
        for name in names:
            f = self.collection.field_map[name]
            v = f.to_db(values.get(name, f.zero()))
            if f.storage == JSON:
                # Keys sorted, as PocketBase (Go maps) stores JSON objects; text comparisons see it.
                v = None if v is None else deepjson.dumps(v, sort_keys=True).decode()
            out.append(v)
        return out

    def to_api(
        self, values: dict[str, Any], show_hidden: bool = False, show_email: bool = True
    ) -> dict[str, Any]:
        """The record as a response shows it: `show_hidden` (superusers) adds the fields marked
        hidden, `show_email` an auth record's e-mail. Secret columns are never in it."""
        c = self.collection
        out: dict[str, Any] = {}
        hidden = () if show_hidden else self.hidden
        for key in self._out_order:
            if key == "collectionId":
                out[key] = c.id
            elif key == "collectionName":
                out[key] = c.name
            elif key in hidden:
                continue
            elif key == "email" and not show_email and c.is_auth:
                continue
            elif key in self._blank:
                out[key] = ""
            else:
                out[key] = values.get(key)
        return out


def codec_for(d: Dialect, c: Collection) -> RecordCodec:
    """Cached on the collection object, which is rebuilt whenever the schema changes."""
    codec = c.__dict__.get("_codec")
    if codec is None:
        codec = RecordCodec(d, c)
        c.__dict__["_codec"] = codec
    return codec
