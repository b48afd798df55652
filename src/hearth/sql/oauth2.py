"""Statements of the OAuth2 login: `_externalAuths` links and the mapped-username check."""

from __future__ import annotations

from hearth.sql.dialect import Dialect, quote

EXTERNAL_AUTHS = quote("_externalAuths")


def find_link(d: Dialect) -> str:
    """The linked record id for (collectionRef, provider, providerId)."""
    p = d.placeholder
    return (
        f'SELECT "recordRef" FROM {EXTERNAL_AUTHS}'
        f' WHERE "collectionRef" = {p(1)} AND "provider" = {p(2)} AND "providerId" = {p(3)} LIMIT 1'
    )


def delete_links(d: Dialect) -> str:
    """Every link of one record (collectionRef, recordRef)."""
    p = d.placeholder
    return f'DELETE FROM {EXTERNAL_AUTHS} WHERE "collectionRef" = {p(1)} AND "recordRef" = {p(2)}'


def value_taken(d: Dialect, table: str, column: str, nocase: bool) -> str:
    """Whether any record of `table` holds the value (case-insensitively for NOCASE indexes)."""
    col = quote(column)
    p = d.placeholder(1)
    cond = f"{d.nocase_column(col)} = {d.nocase_column(p)}" if nocase else f"{col} = {p}"
    return f"SELECT 1 FROM {quote(table)} WHERE {cond} LIMIT 1"
