"""PocketBase's endpoints that are not a collection's: health, collections, settings, batch,
realtime, file downloads, crons, OAuth2 helpers, and this description itself."""

from __future__ import annotations

from typing import Any

from hearth.openapi import common
from hearth.openapi.common import (
    BOOLEAN,
    FIELDS,
    FILTER,
    INTEGER,
    PAGE,
    PER_PAGE,
    SKIP_TOTAL,
    SORT,
    STRING,
    Schema,
    closed,
    infer,
    partial,
    ref,
)
from hearth.schema.fields.registry import FIELD_TYPES
from hearth.schema.scaffolds import scaffolds
from hearth.settings import model as settings_model

SUPERUSERS_ONLY = "Access: **superusers only**."
_RULE = {"type": ["string", "null"]}


def field_schema() -> Schema:
    """A field definition: one closed shape per field type (its options and their JSON types)."""
    shapes = []
    for name, cls in sorted(FIELD_TYPES.items()):
        shape = infer(cls(name="x").to_dict())
        shape["properties"]["type"] = {"type": "string", "const": name}
        for key, value in cls.option_defaults.items():
            if value is None:  # a number option that may be unset (number min/max)
                shape["properties"][key] = {"type": ["number", "null"]}
        shapes.append(partial(shape))  # `?fields=fields.name` leaves the other keys out
    return {"anyOf": shapes}


def collection_schema() -> Schema:
    sample = scaffolds()
    props: dict[str, Schema] = {}
    for kind in ("base", "view", "auth"):
        props.update(infer(sample[kind])["properties"])
    for key in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule", "manageRule"):
        props[key] = dict(_RULE)
    props["fields"] = {"type": "array", "items": ref("CollectionField")}
    props["type"] = {"type": "string", "enum": ["base", "auth", "view"]}
    # Nothing required: `?fields=` may leave any key out.
    return closed(props, required=[], description="A view has no create/update/delete rules and has "
                  "`viewQuery`; an auth collection has its auth options (secrets left out). Every key "
                  "of its type is present unless `?fields=` leaves it out.")  # fmt: skip


def settings_schema() -> Schema:
    return infer(settings_model.public(settings_model.defaults()))


def components() -> dict[str, Schema]:
    return {
        "CollectionField": field_schema(),
        "Collection": collection_schema(),
        "Settings": settings_schema(),
        "SettingsPatch": partial(infer(settings_model.defaults())),
    }


def superuser_op(op_id: str, tag: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": SUPERUSERS_ONLY + (" " + extra.pop("description") if "description" in extra else ""),
        "responses": {**responses, **common.errors(401, 403)},
        **extra,
    }


def paths() -> dict[str, dict[str, Any]]:
    coll = ref("Collection")
    name = common.path("collection", "The collection's id or name.")
    health_data = closed(
        {"canBackup": BOOLEAN, "realIP": STRING, "possibleProxyHeader": STRING},
        description="Filled for superusers only; `{}` for anyone else.",
        required=[],
    )
    return {
        "/api/health": {
            "get": {
                "operationId": "health",
                "tags": ["system"],
                "summary": "Whether the server can serve (its database answers)",
                "description": "Access: anyone. 503 while the database cannot be reached.",
                "responses": common.ok(closed({"message": STRING, "code": INTEGER, "data": health_data})),
            }
        },
        "/api/collections": {
            "get": superuser_op(
                "collections.list", "collections", "List collections",
                {**common.ok(common.page_of(coll)), **common.errors(400)},
                parameters=[PAGE, PER_PAGE, SORT, FILTER, FIELDS, SKIP_TOTAL],
            ),
            "post": superuser_op(
                "collections.create", "collections", "Create a collection",
                {**common.ok(coll), **common.errors(400, 413)},
                requestBody=common.body(_collection_input(["name"])),
            ),
        },  # fmt: skip
        "/api/collections/import": {
            "put": superuser_op(
                "collections.import", "collections", "Replace or merge collections",
                {**common.no_content("Imported."), **common.errors(400, 413)},
                requestBody=common.body(closed(
                    {"collections": {"type": "array", "items": _collection_input(["name"])},
                     "deleteMissing": {"type": "boolean", "description": "Delete the collections (and "
                                       "their records) that the list does not hold."}},
                    required=["collections"])),
            ),
        },  # fmt: skip
        "/api/collections/meta/scaffolds": {
            "get": superuser_op(
                "collections.scaffolds", "collections", "Blank collections of each type",
                common.ok(closed({"auth": coll, "base": coll, "view": coll})),
            ),
        },
        "/api/collections/meta/dry-run-view": {
            "post": superuser_op(
                "collections.dryRunView", "collections", "The fields and up to 10 sample records a view "
                "collection with this query would have (nothing is stored)",
                {**common.ok(closed({"fields": {"type": "array", "items": ref("CollectionField")},
                                     "sample": {"type": "array", "items": {"type": "object"}}})),
                 **common.errors(400, 413)},
                requestBody=common.body(closed({"query": STRING})),
            ),
        },
        "/api/settings/apple/generate-client-secret": {
            "post": superuser_op(
                "settings.appleClientSecret", "settings", "A Sign in with Apple client secret (an ES256 "
                "JWT signed with the team's PKCS#8 key, valid `duration` seconds, at most six months)",
                {**common.ok(closed({"secret": STRING})), **common.errors(400, 413)},
                requestBody=common.body(closed({"clientId": STRING, "teamId": STRING, "keyId": STRING,
                                                 "privateKey": STRING, "duration": INTEGER})),
            ),
        },
        "/api/sql": {
            "post": superuser_op(
                "sql.run", "sql", "Run SQL as written (several statements: the last one's result); "
                "at most 1000 rows, 5000 characters, 3 minutes; no rule, hook or realtime event sees "
                "its writes",
                {**common.ok(closed({
                    "execTime": INTEGER, "affectedRows": INTEGER,
                    "columns": {"type": "array", "items": closed({"name": STRING, "type": STRING, "nullable": BOOLEAN})},
                    "rows": {"type": "array", "items": {"type": "array", "items": {"type": ["string", "null"]}}},
                 })), **common.errors(400, 413)},
                requestBody=common.body(closed({"query": STRING})),
            ),
        },
        "/api/collections/meta/oauth2-providers": {
            "get": superuser_op(
                "collections.oauth2Providers", "collections", "The OAuth2 providers Hearth knows",
                common.ok({"type": "array", "items": closed({"name": STRING, "displayName": STRING, "logo": STRING})}),
            ),
        },
        "/api/collections/{collection}": {
            "parameters": [name],
            "get": superuser_op(
                "collections.view", "collections", "View a collection",
                {**common.ok(coll), **common.errors(404)}, parameters=[FIELDS],
            ),
            "patch": superuser_op(
                "collections.update", "collections", "Update a collection (its records follow: see "
                "docs/compatibility.md)",
                {**common.ok(coll), **common.errors(400, 404, 413)},
                requestBody=common.body(_collection_input([])),
            ),
            "delete": superuser_op(
                "collections.delete", "collections", "Delete a collection and its records",
                {**common.no_content("Deleted."), **common.errors(400, 404)},
            ),
        },  # fmt: skip
        "/api/collections/{collection}/truncate": {
            "parameters": [name],
            "delete": superuser_op(
                "collections.truncate", "collections", "Delete every record of a collection",
                {**common.no_content("Emptied."), **common.errors(400, 404)},
            ),
        },
        "/api/settings": {
            "get": superuser_op("settings.view", "settings", "The settings (secrets left out)",
                              common.ok(partial(settings_schema()) | {"description": "Every key is present "
                                        "unless `?fields=` leaves it out."}), parameters=[FIELDS]),
            "patch": superuser_op("settings.update", "settings", "Change some settings",
                                {**common.ok(ref("Settings")), **common.errors(400, 413)},
                                requestBody=common.body(ref("SettingsPatch"))),
        },  # fmt: skip
        "/api/settings/test/s3": {
            "post": superuser_op(
                "settings.testS3", "settings", "Check the S3 connection of the files or backups storage",
                {**common.no_content("The storage answers."), **common.errors(400, 413)},
                requestBody=common.body(closed({"filesystem": {"type": "string", "enum": ["storage", "backups"]}})),
            ),
        },
        "/api/settings/test/email": {
            "post": superuser_op(
                "settings.testEmail", "settings", "Send a test e-mail with one of the auth templates",
                {**common.no_content("Sent."), **common.errors(400, 413)},
                requestBody=common.body(closed(
                    {"email": {"type": "string", "format": "email"},
                     "template": {"type": "string", "enum": ["verification", "password-reset", "email-change", "otp", "login-alert"]},
                     "collection": {"type": "string", "description": "An auth collection (default `_superusers`)."}},
                    required=["email", "template"])),
            ),
        },  # fmt: skip
        "/api/batch": {
            "post": {
                "operationId": "batch",
                "tags": ["system"],
                "summary": "Several record writes in one transaction",
                "description": "Access: each request by its own rule; batching must be enabled in "
                "settings (`batch.enabled`, else 403). One failing request rolls back all (400 "
                "with `data.requests.<index>`).",
                "requestBody": common.body(_batch_input()),
                "responses": {
                    **common.ok({"type": "array", "items": closed({"status": INTEGER, "body": {}})},
                                "Each request's status and body, in order."),
                    **common.errors(400, 403, 413),
                },  # fmt: skip
            }
        },
        "/api/realtime": {
            "get": {
                "operationId": "realtime.connect",
                "tags": ["realtime"],
                "summary": "Open the event stream (Server-Sent Events)",
                "description": "Access: anyone. The first event, `PB_CONNECT`, carries `{clientId}`; "
                "record events follow for the subscriptions set with POST, each checked against "
                "the list/view rule for the client's auth.",
                "responses": {"200": {"description": "An endless event stream.",
                                      "content": {"text/event-stream": {"schema": STRING}}}},
            },  # fmt: skip
            "post": {
                "operationId": "realtime.subscribe",
                "tags": ["realtime"],
                "summary": "Set the subscriptions of a connected client (and its auth, from this request's token)",
                "description": "Subscriptions: `<collection>` or `<collection>/<id>` or `<collection>/*`, "
                "with an optional `?options={\"query\":…,\"headers\":…}`.",
                "requestBody": common.body(closed(
                    {"clientId": {"type": "string", "minLength": 1, "maxLength": 255},
                     "subscriptions": {"type": ["array", "null"], "items": {"type": "string", "minLength": 1}}},
                    required=["clientId"])),
                "responses": {**common.no_content("Subscribed."), **common.errors(400, 403, 404, 413)},
            },  # fmt: skip
        },
        "/api/oauth2-redirect": {
            op: {
                "operationId": f"oauth2Redirect.{op}",
                "tags": ["realtime"],
                "summary": "Where OAuth2 providers send the browser back (the all-in-one SDK flow)",
                "description": "Passes `state`/`code` to the realtime client waiting for them and "
                "redirects to the dashboard's success or failure page.",
                **({"parameters": [common.query(k, STRING, f"The provider's `{k}`.")
                                   for k in ("state", "code", "error")]} if op == "get" else {}),
                "responses": {
                    status: {"description": "Redirect to the result page.",
                             "headers": {"Location": {"schema": STRING}}},
                },
            }  # fmt: skip
            for op, status in (("get", "307"), ("post", "303"))
        },
        "/api/files/{collection}/{recordId}/{filename}": {
            "get": {
                "operationId": "files.download",
                "tags": ["files"],
                "summary": "Download a file of a record (or a thumb of an image)",
                "description": "Access: the collection's viewRule for the record; protected files "
                "need `?token=` from POST /api/files/token. Ranges and conditional requests "
                "(ETag, Last-Modified) are honoured.",
                "parameters": [
                    common.path("collection", "The collection's id or name."),
                    common.path("recordId", "The record id."),
                    common.path("filename", "The stored file name."),
                    common.query("thumb", STRING, "A thumb size of the field, e.g. `100x100`, `0x50`, `100x100t`."),
                    common.query("token", STRING, "A file token (protected files)."),
                    common.query("download", STRING, "Any non-empty value other than `0`/`false`: "
                                 "answer as an attachment."),
                ],
                "responses": {
                    "200": {"description": "The file.", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                    "206": {"description": "A range of the file.", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                    "304": {"description": "Not modified."},
                    **common.errors(400, 404),
                    "416": {"description": "The range cannot be satisfied."},
                },
            }  # fmt: skip
        },
        "/api/crons": {
            "get": superuser_op("crons.list", "crons", "The registered crons",
                              common.ok({"type": "array", "items": closed({"id": STRING, "expression": STRING})})),
        },  # fmt: skip
        "/api/crons/{id}": {
            "post": superuser_op("crons.run", "crons", "Run a cron now",
                               {**common.no_content("Ran."), **common.errors(404)},
                               parameters=[common.path("id", "The cron id.")]),
        },  # fmt: skip
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "tags": ["system"],
                "summary": "This description",
                "description": "Access: superusers, unless the server runs with "
                "`HEARTH_OPENAPI_PUBLIC=1` (it reveals the schema and the rules).",
                "responses": {**common.ok({"type": "object"}, "The OpenAPI 3.1 document."),
                              **common.errors(401, 403)},
            }  # fmt: skip
        },
        "/api/docs": {
            "get": {
                "operationId": "docs",
                "tags": ["system"],
                "summary": "Interactive documentation of this API (Swagger UI)",
                "description": "Access: anyone (the page holds no data; it loads this description "
                "with the token a superuser gives it).",
                "responses": {"200": {"description": "The page.", "content": {"text/html": {"schema": STRING}}}},
            }  # fmt: skip
        },
    }


def _collection_input(required: list[str]) -> Schema:
    props = {k: v for k, v in collection_schema()["properties"].items() if k not in ("created", "updated")}
    props["fields"] = {"type": "array", "items": {"type": "object", "properties": {
        "type": {"type": "string", "enum": sorted(FIELD_TYPES)}, "name": STRING}}}  # fmt: skip
    return {"type": "object", "properties": props, "required": required,
            "description": "Options left out keep their current (or default) values."}  # fmt: skip


def _batch_input() -> Schema:
    request = closed(
        {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "url": {"type": "string", "description": "A record endpoint, e.g. `/api/collections/posts/records`."},
            "headers": {"type": "object", "additionalProperties": STRING},
            "body": {"type": "object"},
        },
        required=["method", "url"],
    )
    return closed({"requests": {"type": "array", "items": request}})


