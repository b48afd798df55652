"""What the writer of a record may set, and what an auth record's writer must confirm: the
password twice, the old password (unless privileged), `email`/`verified` only with the
collection's manageRule; a new password or e-mail rotates the tokenKey."""

from __future__ import annotations

from typing import Any

from hearth._util import passwords
from hearth.errors import FieldError
from hearth.query.context import AuthState, RequestInfo
from hearth.records.reads import RecordReader
from hearth.rules import enforce
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.secrets import PASSWORD, TOKEN_KEY, new_token_key
from hearth.sql.dialect import Dialect


def may_write(c: Collection, f: Field, auth: AuthState) -> bool:
    """Hidden fields (an auth record's tokenKey included) take values from superusers only;
    anyone else's are ignored, as PocketBase ignores them. An auth record's password is hidden but
    set by its user."""
    if c.is_auth and f.name in (PASSWORD, TOKEN_KEY):
        return f.name == PASSWORD or auth.is_superuser
    return not f.hidden or auth.is_superuser


def _check_password_confirm(body: dict[str, Any], errors: dict[str, Any]) -> None:
    confirm = body.get("passwordConfirm")
    if confirm in (None, ""):
        errors["passwordConfirm"] = FieldError("validation_required", "Cannot be blank.")
    elif confirm != body.get("password"):
        errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")


NOT_MANAGER = FieldError("validation_values_mismatch", "Values don't match.")


def check_create(
    d: Dialect,
    c: Collection,
    body: dict[str, Any],
    values: dict[str, Any],
    info: RequestInfo,
    errors: dict[str, Any],
) -> enforce.Constraint | None:
    """A new auth record: errors for what its writer may not set or did not confirm; its
    tokenKey (unless a superuser gave one). A `verified` set by someone the manageRule may admit
    gives back that rule's condition, to be met by the new row inside the transaction (as the
    create rule is): PocketBase lets a manager create verified records."""
    _check_password_confirm(body, errors)
    if not body.get("password"):
        errors.setdefault("password", FieldError("validation_required", "Cannot be blank."))
    manage: enforce.Constraint | None = None
    if values.get("verified") and not info.auth.is_superuser:
        rule = c.auth.get("manageRule")
        manage = enforce.DENY if rule is None else enforce.constraint(d, c, rule, info)
        if manage.deny:
            errors["verified"] = NOT_MANAGER
        manage = manage if manage.condition is not None else None
    values["tokenKey"] = values.get("tokenKey") or new_token_key(c)
    return manage


async def check_update(
    reads: RecordReader,
    c: Collection,
    body: dict[str, Any],
    values: dict[str, Any],
    old: dict[str, Any],
    row: Any,
    auth: AuthState,
    errors: dict[str, Any],
    changed: set[str],
) -> None:
    """A changed auth record (`row`: as stored): errors for what its writer may not change or
    did not confirm; `changed` gains or loses the password and gains a new tokenKey."""
    privileged = auth.is_superuser or (
        auth.record is not None
        and await reads.matches_rule(c, old["id"], c.auth.get("manageRule"), RequestInfo(auth=auth))
    )
    if not privileged:
        for name in ("email", "verified"):
            if name in changed:
                errors[name] = FieldError("validation_values_mismatch", "Values don't match.")
    password = values.get("password") or ""
    if password:
        changed.add("password")
        _check_password_confirm(body, errors)
        if not privileged:
            old_password = body.get("oldPassword")
            stored = reads.codec(c).raw_value(row, "password")
            if not isinstance(old_password, str) or not old_password:
                errors["oldPassword"] = FieldError("validation_required", "Cannot be blank.")
            elif not await passwords.verify_password(old_password, stored):
                errors["oldPassword"] = FieldError(
                    "validation_invalid_old_password", "Missing or invalid old password."
                )
    else:
        changed.discard("password")
    if "password" in changed or "email" in changed:
        # A new password or e-mail revokes every token of the record.
        values["tokenKey"] = new_token_key(c)
        changed.add("tokenKey")
