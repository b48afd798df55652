"""Hearth's own endpoints (`/api/hearth/…`): jobs, webhooks, API keys, the rules playground
(superusers only); the first-run installer."""

from __future__ import annotations

from typing import Any

from hearth.openapi import common
from hearth.openapi.common import BOOLEAN, INTEGER, PAGE, STRING, STRINGS, Schema, closed, ref
from hearth.openapi.system import SUPERUSERS_ONLY

_WHEN = {"type": "string", "description": "PocketBase's datetime form, \"\" when unset."}
_STATES = ["pending", "running", "done", "failed", "cancelled"]
_EVENTS = ["create", "update", "delete"]
_PER_PAGE = common.query("perPage", {"type": "integer", "minimum": 1, "default": 30},
                         "Items per page (capped: 1000 jobs, 500 webhooks or deliveries).")  # fmt: skip


_JOIN = {"type": "string", "enum": ["", "&&", "||"]}
_PLAYGROUND: Schema = {
    **common.page_of({"type": "object", "description": "A record as that requester would see it."}),
    "description": "The records the rule admits (a page), and the explained record when one was asked for.",
}
_PLAYGROUND["properties"] = {
    **_PLAYGROUND["properties"],
    "rule": {"type": "string", "enum": ["list", "view"]},
    "expression": {"type": ["string", "null"], "description": "The rule (null: superusers only)."},
    "auth": {"oneOf": [{"type": "null"}, closed({"collection": STRING, "id": STRING})]},
    "superuser": BOOLEAN,
    "access": {"type": "string", "enum": ["superusers", "everyone", "expression"]},
    "checked": {"type": "object", "additionalProperties": BOOLEAN, "description": "Each id of `check`: admitted?"},
    "record": closed({
        "id": STRING, "allowed": BOOLEAN, "operator": _JOIN,
        "parts": {"type": "array", "items": ref("RulePart")}, "error": STRING,
    }, required=["id", "allowed", "operator", "parts"]),
}  # fmt: skip
_PLAYGROUND["required"] = [*_PLAYGROUND["required"], "rule", "expression", "auth", "superuser", "access"]


def components() -> dict[str, Schema]:
    api_key = {
        "id": STRING,
        "name": STRING,
        "scopes": STRINGS,
        "expires": {"type": "integer", "description": "Unix seconds; 0: never."},
        "created": _WHEN,
    }
    return {
        "Job": closed({
            "id": STRING, "name": STRING, "payload": {"description": "Any JSON value."},
            "state": {"type": "string", "enum": _STATES}, "key": STRING, "attempts": INTEGER,
            "maxAttempts": INTEGER, "runAt": _WHEN, "lastError": STRING, "created": _WHEN,
            "updated": _WHEN, "finished": _WHEN,
        }),
        "Webhook": closed({
            "id": STRING, "name": STRING, "url": STRING, "collection": STRING, "collectionId": STRING,
            "events": {"type": "array", "items": {"type": "string", "enum": _EVENTS}}, "filter": STRING,
            "secret": STRING, "active": BOOLEAN, "disabledReason": STRING, "failures": INTEGER,
            "created": _WHEN, "updated": _WHEN,
        }),
        "WebhookDelivery": closed({
            "id": STRING, "webhook": STRING, "message": STRING, "job": STRING, "attempt": INTEGER,
            "status": INTEGER, "latency": {"type": "integer", "description": "Milliseconds."},
            "response": STRING, "error": STRING, "created": _WHEN,
        }),
        "RulePart": closed({
            "expression": STRING,
            "result": {"type": ["boolean", "null"], "description": "null when the part cannot be evaluated."},
            "error": STRING,
            "operator": _JOIN,
            "parts": {"type": "array", "items": ref("RulePart"), "description": "A part made of parts."},
        }, required=["expression", "result"]),
        "ApiKey": closed(api_key),
        "NewApiKey": closed({**api_key, "key": {"type": "string", "description": "The key, shown this once."}}),
    }  # fmt: skip


def _op(op_id: str, tag: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": SUPERUSERS_ONLY,
        "responses": {**responses, **common.errors(401, 403)},
        **extra,
    }


def paths() -> dict[str, dict[str, Any]]:
    job, hook = ref("Job"), ref("Webhook")
    jid = common.path("id", "The job id.")
    wid = common.path("id", "The webhook id.")
    webhook_input = {
        "name": STRING,
        "url": {"type": "string", "format": "uri", "description": "http(s); private addresses are refused."},
        "collection": {"type": "string", "description": "A collection's id or name."},
        "events": {"type": "array", "items": {"type": "string", "enum": _EVENTS}, "minItems": 1},
        "filter": {"type": "string", "description": "A filter (rule syntax) the record must match."},
        "secret": {"type": "string", "description": "The signing secret (`whsec_…`; generated when absent)."},
        "active": BOOLEAN,
    }
    return {
        "/api/hearth/jobs": {
            "get": _op("jobs.list", "jobs", "List durable jobs", {**common.ok(common.page_of(job)), **common.errors(400)},
                       parameters=[PAGE, _PER_PAGE,
                                   common.query("state", {"type": "string", "enum": ["", *_STATES]}, "Only this state."),
                                   common.query("name", STRING, "Only this job name.")]),
        },
        "/api/hearth/jobs/{id}": {
            "get": _op("jobs.view", "jobs", "View a job", {**common.ok(job), **common.errors(404)},
                       parameters=[jid]),
        },
        "/api/hearth/jobs/{id}/retry": {
            "post": _op("jobs.retry", "jobs", "Run a failed or cancelled job again",
                        {**common.ok(job), **common.errors(400, 404)}, parameters=[jid]),
        },
        "/api/hearth/jobs/{id}/cancel": {
            "post": _op("jobs.cancel", "jobs", "Cancel a pending job",
                        {**common.ok(job), **common.errors(400, 404)}, parameters=[jid]),
        },
        "/api/hearth/webhooks": {
            "get": _op("webhooks.list", "webhooks", "List webhooks",
                       {**common.ok(common.page_of(hook)), **common.errors(400)}, parameters=[PAGE, _PER_PAGE]),
            "post": _op("webhooks.create", "webhooks", "Create a webhook",
                        {**common.ok(hook), **common.errors(400, 413)},
                        requestBody=common.body(closed(webhook_input, required=["url", "collection"]))),
        },
        "/api/hearth/webhooks/{id}": {
            "parameters": [wid],
            "get": _op("webhooks.view", "webhooks", "View a webhook", {**common.ok(hook), **common.errors(404)}),
            "patch": _op("webhooks.update", "webhooks", "Change a webhook",
                         {**common.ok(hook), **common.errors(400, 404, 413)},
                         requestBody=common.body(closed(webhook_input, required=[]))),
            "delete": _op("webhooks.delete", "webhooks", "Delete a webhook (and its delivery log)",
                          {**common.no_content("Deleted."), **common.errors(404)}),
        },
        "/api/hearth/webhooks/{id}/deliveries": {
            "get": _op("webhooks.deliveries", "webhooks", "The delivery log of a webhook, newest first",
                       {**common.ok(common.page_of(ref("WebhookDelivery"))), **common.errors(400, 404)},
                       parameters=[wid, PAGE, _PER_PAGE]),
        },
        "/api/hearth/collections/{collection}/rules-playground": {
            "post": _op("rulesPlayground", "rules playground",
                        "Which records an auth record or a guest may list or view, and why one is refused",
                        {**common.ok(_PLAYGROUND), **common.errors(400, 404, 413)},
                        parameters=[common.path("collection", "The collection's id or name.")],
                        requestBody=common.body(closed({
                            "auth": {"description": "null for a guest, or the auth record to act as.",
                                     "oneOf": [{"type": "null"}, closed({"collection": STRING, "id": STRING})]},
                            "rule": {"type": "string", "enum": ["list", "view"], "default": "list"},
                            "record": {"type": "string", "description": "A record to explain (its rule's parts)."},
                            "check": {"type": "array", "items": STRING, "maxItems": 100,
                                      "description": "Record ids: whether the rule admits each."},
                            "page": {"type": "integer", "default": 1},
                            "perPage": {"type": "integer", "default": 30},
                        }, required=[]))),
        },
        "/api/hearth/api-keys": {
            "get": _op("apiKeys.list", "api keys", "List API keys (never the keys themselves)",
                       common.ok({"type": "array", "items": ref("ApiKey")})),
            "post": _op("apiKeys.create", "api keys", "Create an API key",
                        {**common.ok(ref("NewApiKey")), **common.errors(400, 413)},
                        requestBody=common.body(closed({
                            "name": {"type": "string", "minLength": 1, "maxLength": 255},
                            "scopes": {"type": "array", "minItems": 1, "items": {
                                "type": "string", "pattern": r"^(admin|(\*|[A-Za-z0-9_]+):(read|write))$"}},
                            "duration": {"type": "integer", "minimum": 0, "description": "Seconds; 0: never expires."},
                        }, required=["name", "scopes"]))),
        },
        "/api/hearth/installer": {
            "post": {
                "operationId": "installer.create",
                "tags": ["system"],
                "summary": "Create the first superuser with the installer token `hearth serve` printed",
                "description": "No auth: the token in the body is the credential. Refused (400) when it is bad "
                               "or expired, or once any superuser exists. See docs/dashboard.md.",
                "responses": {**common.no_content("Created."), **common.errors(400, 413)},
                "requestBody": common.body(closed({
                    "token": STRING, "email": STRING, "password": STRING, "passwordConfirm": STRING,
                }, required=["token", "email", "password", "passwordConfirm"])),
            },
        },
        "/api/hearth/api-keys/{id}": {
            "delete": _op("apiKeys.delete", "api keys", "Revoke an API key",
                          {**common.no_content("Revoked."), **common.errors(404)},
                          parameters=[common.path("id", "The key id.")]),
        },
    }  # fmt: skip
