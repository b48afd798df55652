"""Every collection's record endpoints and the schemas of its records (read, create, update)."""

from __future__ import annotations

from typing import Any

from hearth.openapi import common
from hearth.openapi.common import EXPAND, FIELDS, FILTER, PAGE, PER_PAGE, SKIP_TOTAL, SORT, Schema, ref
from hearth.openapi.rules import in_words
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.fields.relation import RelationField
from hearth.schema.secrets import secret_columns

# An auth record's write-only companions of its password.
_PASSWORD_CONFIRM = {"type": "string", "writeOnly": True, "description": "The same as `password`."}
_OLD_PASSWORD = {
    "type": "string",
    "writeOnly": True,
    "description": "The current password: needed to change `password` unless the requester is a "
    "superuser or passes the manageRule.",
}
# What each update modifier does, by its spelling.
_MODIFIERS = {
    "+": ("{name}+", "added to the current value (number) or appended to the current values"),
    "^": ("+{name}", "prepended to the current values"),
    "-": ("{name}-", "subtracted from the current value (number) or removed from the current values"),
}


def schema_names(c: Collection) -> tuple[str, str, str]:
    """The component names of a collection's record, create body and update body."""
    return f"{c.name}.record", f"{c.name}.create", f"{c.name}.update"


def shown(c: Collection) -> list[Field]:
    """The fields a response may carry: hidden fields (superusers see them) and secrets never
    appear in the description."""
    secrets = secret_columns(c)
    return [f for f in c.fields if not f.hidden and f.name not in secrets]


def writable(c: Collection) -> list[Field]:
    secrets = secret_columns(c) - {"password"}  # an auth record's password is written, never read
    return [f for f in c.fields if f.writable and f.name not in secrets]


def record_schema(c: Collection, lookup: Any) -> Schema:
    props: dict[str, Schema] = {
        "collectionId": {"type": "string", "const": c.id},
        "collectionName": {"type": "string", "const": c.name},
    }
    for f in shown(c):
        props[f.name] = _described(f, f.json_schema())
    if c.is_auth and "email" in props:
        props["email"]["description"] = (
            "Left out unless emailVisibility is true, the requester is this record, a superuser, "
            "or passes the manageRule."
        )
    props["expand"] = _expand_schema(c, lookup)
    example = {"collectionId": c.id, "collectionName": c.name, **{f.name: f.example() for f in shown(c)}}
    schema: Schema = {
        "type": "object",
        "description": "Every field is present unless `?fields=` leaves it out (and an auth "
        "record's e-mail when it is not visible to the requester).",
        "properties": props,
        "examples": [example],
    }
    hidden = [f for f in c.fields if f.hidden and f.name not in secret_columns(c)]
    # Superusers also get the hidden fields, which the description does not name.
    schema["additionalProperties"] = bool(hidden)
    return schema


def _expand_schema(c: Collection, lookup: Any) -> Schema:
    props: dict[str, Schema] = {}
    for f in c.fields:
        if not isinstance(f, RelationField) or f.hidden:
            continue
        target = lookup(f.collection_id)
        if target is None:
            continue
        one = ref(schema_names(target)[0])
        props[f.name] = {"type": "array", "items": one} if f.is_multiple else one
    return {
        "type": "object",
        "description": "Present with `?expand=`: the related records by relation field "
        "(back-relations are named `<collection>_via_<field>`).",
        "properties": props,
        "additionalProperties": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
    }


def _described(f: Field, schema: Schema) -> Schema:
    if f.help and "description" not in schema:
        schema["description"] = f.help
    return schema


def write_schema(c: Collection, *, create: bool, upload: bool = False) -> Schema:
    props: dict[str, Schema] = {}
    required: list[str] = []
    example: dict[str, Any] = {}
    for f in writable(c):
        value = f.upload_schema() if upload else f.json_schema(write=True)
        props[f.name] = _described(f, value)
        if f.hidden and not f.system:
            props[f.name]["description"] = "A hidden field: only superusers may set it (others' values are ignored)."
        if create and not upload and f.type != "file" and (f.required or not f.hidden) and not _generated(f):
            example[f.name] = f.example()
        if not create:
            for mod in sorted(f.modifiers):
                spelling, effect = _MODIFIERS[mod]
                props[spelling.format(name=f.name)] = {
                    **(f.upload_schema() if upload else f.json_schema(write=True)),
                    "description": f"Changes `{f.name}`: the value is {effect}.",
                }
        elif f.required and not _generated(f):
            required.append(f.name)
    if c.is_auth:
        props["passwordConfirm"] = dict(_PASSWORD_CONFIRM)
        if create:
            required.append("passwordConfirm")
            if "password" in example:
                example["passwordConfirm"] = example["password"]
        else:
            props["oldPassword"] = dict(_OLD_PASSWORD)
    if create and "id" in props:
        props["id"]["description"] = "Optional: a new id is generated when absent."
    schema: Schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    if example:
        schema["examples"] = [example]
    return schema


def _generated(f: Field) -> bool:
    return bool(getattr(f, "autogenerate_pattern", "")) or f.name == "id"


def components(c: Collection, lookup: Any) -> dict[str, Schema]:
    read, create, update = schema_names(c)
    out = {read: record_schema(c, lookup)}
    if not c.is_view:
        out[create] = write_schema(c, create=True)
        out[update] = write_schema(c, create=False)
        if _has_files(c):
            out[create + ".multipart"] = write_schema(c, create=True, upload=True)
            out[update + ".multipart"] = write_schema(c, create=False, upload=True)
    return out


def _has_files(c: Collection) -> bool:
    return any(f.type == "file" for f in writable(c))


def paths(c: Collection) -> dict[str, dict[str, Any]]:
    read, create, update = schema_names(c)
    base = f"/api/collections/{c.name}/records"
    one = f"{base}/{{id}}"
    tag = [c.name]
    rid = common.path("id", "The record id.")
    record = ref(read)

    def access(rule: str) -> str:
        return "Access: " + in_words(rule, c.rules.get(rule))

    out: dict[str, dict[str, Any]] = {
        base: {
            "get": {
                "operationId": f"{c.name}.list",
                "tags": tag,
                "summary": f"List {c.name} records",
                "description": access("listRule"),
                "parameters": [PAGE, PER_PAGE, SORT, FILTER, EXPAND, FIELDS, SKIP_TOTAL],
                "responses": {
                    **common.ok(common.page_of(record), "A page of records."),
                    **common.errors(400, 403, 404),
                },
            }
        },
        one: {
            "parameters": [rid],
            "get": {
                "operationId": f"{c.name}.view",
                "tags": tag,
                "summary": f"View a {c.name} record",
                "description": access("viewRule"),
                "parameters": [EXPAND, FIELDS],
                "responses": {**common.ok(record, "The record."), **common.errors(400, 403, 404)},
            },
        },
    }
    if c.is_view:
        return out
    out[base]["post"] = {
        "operationId": f"{c.name}.create",
        "tags": tag,
        "summary": f"Create a {c.name} record",
        "description": access("createRule"),
        "parameters": [EXPAND, FIELDS],
        "requestBody": _write_body(c, create),
        "responses": {**common.ok(record, "The new record."), **common.errors(400, 403, 404, 413)},
    }
    out[one]["patch"] = {
        "operationId": f"{c.name}.update",
        "tags": tag,
        "summary": f"Update a {c.name} record",
        "description": access("updateRule"),
        "parameters": [EXPAND, FIELDS],
        "requestBody": _write_body(c, update),
        "responses": {**common.ok(record, "The updated record."), **common.errors(400, 403, 404, 413)},
    }
    out[one]["delete"] = {
        "operationId": f"{c.name}.delete",
        "tags": tag,
        "summary": f"Delete a {c.name} record",
        "description": access("deleteRule")
        + " A record that a required relation of another record points to cannot be deleted (400).",
        "responses": {**common.no_content("Deleted."), **common.errors(400, 403, 404)},
    }
    return out


def _write_body(c: Collection, name: str) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": ref(name)}}
    if _has_files(c):
        content["multipart/form-data"] = {"schema": ref(name + ".multipart")}
    return {"required": True, "content": content}


def tag(c: Collection) -> dict[str, Any]:
    kind = {"base": "Base", "auth": "Auth", "view": "View"}[c.type]
    lines = [f"{kind} collection `{c.name}` (id `{c.id}`)."]
    if c.is_view:
        lines.append("A view: its records are read-only.")
    if c.is_auth:
        lines.append("Who may log in: " + in_words("authRule", c.auth.get("authRule", "")))
        manage = c.auth.get("manageRule")
        lines.append(
            "Managing other records (setting their e-mail, password or verified without the old "
            + ("password): superusers only." if manage is None else f"password): when `{manage}` holds.")
        )
    return {"name": c.name, "description": " ".join(lines)}
