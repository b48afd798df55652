"""The OpenAPI description (`GET /api/openapi.json`) and the docs page, through a running Hearth:
who may read it, what it says of collections (fields, constraints, rules in words, no hidden
fields or secrets), that real responses match it, that it follows schema changes, and the page's
assets. The schemathesis run against a live server is tests/e2e/test_openapi_schemathesis.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from hearth.backups import archive
from hearth.config import Config
from hearth.schema.fields.registry import FIELD_TYPES
from tests.conftest import Api, start_api, unique
from tests.support.openapi_fixture import MEMBERS_LIST_RULE, POST, members_body, posts_body, stats_body


@pytest.fixture(scope="module")
async def described(api: Api) -> dict[str, Any]:
    """The collections of tests/support/openapi_fixture.py, one post, and the description."""
    members = await api.create_collection(members_body())
    await api.create_collection(posts_body(members["id"]))
    await api.create_collection(stats_body())
    r = await api.client.post("/api/collections/oa_posts/records", json=POST)
    assert r.status_code == 200, r.text
    r = await api.client.get("/api/openapi.json", headers=api.su())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return dict(r.json())


def validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for one component schema, its `$ref`s resolved within the document."""
    registry: Registry[Any] = Registry().with_resource("urn:doc", Resource(doc, DRAFT202012))
    schema = {"$ref": f"urn:doc#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry)


async def test_the_document_is_valid_openapi_3_1(described: dict[str, Any]) -> None:
    validate_spec(described)  # raises on any error
    assert described["openapi"] == "3.1.0"
    paths = described["paths"]
    for p in ("/api/collections/oa_posts/records", "/api/collections/oa_posts/records/{id}",
              "/api/collections/oa_members/auth-with-password", "/api/collections/oa_members/auth-with-otp",
              "/api/collections/oa_members/auth-with-oauth2", "/api/collections/oa_members/auth-refresh",
              "/api/collections/oa_members/impersonate/{id}", "/api/realtime", "/api/batch", "/api/files/token",
              "/api/health", "/api/settings", "/api/hearth/jobs", "/api/hearth/webhooks", "/api/hearth/api-keys",
              "/api/crons"):  # fmt: skip
        assert p in paths, p
    assert set(paths["/api/collections/oa_posts/records"]) == {"get", "post"}
    # A view is read-only; a base collection has no auth endpoints.
    assert set(paths["/api/collections/oa_stats/records/{id}"]) == {"parameters", "get"}
    assert "/api/collections/oa_posts/auth-with-password" not in paths
    # Multipart bodies only where there are file fields.
    create = paths["/api/collections/oa_posts/records"]["post"]["requestBody"]["content"]
    assert set(create) == {"application/json", "multipart/form-data"}
    assert set(paths["/api/collections/oa_members/records"]["post"]["requestBody"]["content"]) == {"application/json"}
    scheme = described["components"]["securitySchemes"]["pocketbaseToken"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "Authorization", "description": scheme["description"]}
    errors = described["paths"]["/api/collections/oa_posts/records"]["get"]["responses"]
    assert {"200", "400", "403", "429"} <= set(errors)
    assert errors["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


async def test_fields_types_and_constraints(described: dict[str, Any]) -> None:
    schemas = described["components"]["schemas"]
    create = schemas["oa_posts.create"]
    props = create["properties"]
    assert create["required"] == ["title"] and create["additionalProperties"] is False
    assert props["title"] == {"type": "string", "maxLength": 80, "minLength": 2}
    assert props["slug"]["anyOf"][1]["pattern"] == "^[a-z0-9-]+$"
    assert props["views"]["type"] == "integer"
    assert props["views"]["anyOf"][1] == {"minimum": 0, "maximum": 1000000}
    assert props["status"]["anyOf"][1]["enum"] == ["draft", "live"]
    assert props["labels"]["items"]["enum"] == ["a", "b", "c"] and props["labels"]["maxItems"] == 3
    assert props["contact"]["anyOf"][1] == {"format": "email"}
    assert "created" not in props and "updated" not in props  # set by the server
    upload = schemas["oa_posts.create.multipart"]["properties"]
    assert upload["cover"]["format"] == "binary" and upload["attachments"]["items"]["format"] == "binary"
    update = schemas["oa_posts.update"]["properties"]
    assert {"views+", "views-", "labels+", "+labels", "labels-"} <= set(update)
    assert "required" not in schemas["oa_posts.update"]
    record = schemas["oa_posts.record"]
    assert record["properties"]["collectionName"]["const"] == "oa_posts"
    assert record["properties"]["created"]["readOnly"] is True
    assert record["properties"]["expand"]["properties"]["author"] == {"$ref": "#/components/schemas/oa_members.record"}
    assert record["additionalProperties"] is False


async def test_hidden_fields_and_secrets_are_never_in_responses(described: dict[str, Any]) -> None:
    schemas = described["components"]["schemas"]
    member = schemas["oa_members.record"]
    assert "secretNote" not in member["properties"]
    for secret in ("password", "tokenKey"):
        assert secret not in member["properties"]
        assert secret not in schemas["_superusers.record"]["properties"]
    # Superusers receive hidden fields: the record is open to properties it does not name.
    assert member["additionalProperties"] is True
    create = schemas["oa_members.create"]["properties"]
    assert create["password"]["writeOnly"] is True and "passwordConfirm" in create
    assert "tokenKey" not in create
    assert "oldPassword" in schemas["oa_members.update"]["properties"]


async def test_rules_in_words(described: dict[str, Any]) -> None:
    members = described["paths"]["/api/collections/oa_members/records"]
    assert MEMBERS_LIST_RULE in members["get"]["description"]
    assert "signed in" in members["get"]["description"]
    assert "Anyone" in members["post"]["description"]
    delete = described["paths"]["/api/collections/oa_members/records/{id}"]["delete"]
    assert "Superusers only" in delete["description"]
    assert "Superusers only" in described["paths"]["/api/collections/_superusers/records"]["get"]["description"]


async def test_real_responses_match_the_description(api: Api, described: dict[str, Any]) -> None:
    r = await api.client.get("/api/collections/oa_posts/records?expand=author")
    assert r.status_code == 200
    assert r.json()["items"], "the fixture's post"
    page = {"type": "object", "properties": {"items": {"type": "array", "items": {}}}}
    assert Draft202012Validator(page).is_valid(r.json())
    record_check = validator(described, "oa_posts.record")
    for item in r.json()["items"]:
        record_check.validate(item)
    # A superuser also sees the hidden field, which the open record schema allows.
    member = await api.client.post("/api/collections/oa_members/records", json={
        "email": "m@example.com", "password": "12345678", "passwordConfirm": "12345678", "secretNote": "s"}, headers=api.su())  # fmt: skip
    assert member.status_code == 200, member.text
    seen = await api.client.get(f"/api/collections/oa_members/records/{member.json()['id']}", headers=api.su())
    assert seen.json()["secretNote"] == "s"
    validator(described, "oa_members.record").validate(seen.json())
    # A wrong value is caught: the schema is not loose.
    assert not record_check.is_valid({**r.json()["items"][0], "views": "3"})
    assert not record_check.is_valid({**r.json()["items"][0], "unknown": 1})
    bad = await api.client.get("/api/collections/oa_posts/records?filter=(((")
    assert bad.status_code == 400
    validator(described, "Error").validate(bad.json())


async def test_superusers_only_and_cached_per_schema_version(api: Api, described: dict[str, Any]) -> None:
    r = await api.client.get("/api/openapi.json")
    assert r.status_code == 401 and set(r.json()) == {"status", "message", "data"}
    email = f"{unique('m')}@example.com"  # its own member: the test runs alone too
    member = await api.client.post("/api/collections/oa_members/records", headers=api.su(),
                                   json={"email": email, "password": "12345678", "passwordConfirm": "12345678"})  # fmt: skip
    assert member.status_code == 200, member.text
    login = await api.client.post("/api/collections/oa_members/auth-with-password",
                                  json={"identity": email, "password": "12345678"})  # fmt: skip
    assert login.status_code == 200, login.text
    r = await api.client.get("/api/openapi.json", headers={"Authorization": login.json()["token"]})
    assert r.status_code == 403
    first = await api.client.get("/api/openapi.json", headers=api.su())
    again = await api.client.get("/api/openapi.json", headers=api.su())
    assert first.content == again.content
    await api.create_collection({"name": "oa_later", "type": "base", "fields": [{"name": "n", "type": "number"}]})
    later = await api.client.get("/api/openapi.json", headers=api.su())
    assert "/api/collections/oa_later/records" in later.json()["paths"]
    assert "/api/collections/oa_later/records" not in first.json()["paths"]


@pytest.fixture
async def public_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    config = Config(data_dir=tmp_path_factory.mktemp("public"), openapi_public=True)
    async for started in start_api(config, "sqlite"):
        yield started


async def test_public_when_the_server_says_so(public_api: Api) -> None:
    r = await public_api.client.get("/api/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"] == "3.1.0"


async def test_docs_page_and_its_assets(api: Api) -> None:
    page = await api.client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    for name, kind in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                       ("hearth-docs.js", "text/javascript"), ("favicon-32x32.png", "image/png")):  # fmt: skip
        assert f"/api/docs/{name}" in page.text or name == "hearth-docs.js" and "hearth-docs.js" in page.text
        r = await api.client.get(f"/api/docs/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith(kind), name
        assert len(r.content) > 100
    assert "SwaggerUIBundle" in (await api.client.get("/api/docs/swagger-ui-bundle.js")).text
    script = (await api.client.get("/api/docs/hearth-docs.js")).text
    assert "pocketbase_auth" in script and "/api/openapi.json" in script
    missing = await api.client.get("/api/docs/..%2Fsettings.py")
    assert missing.status_code == 404 and set(missing.json()) == {"status", "message", "data"}


@pytest.mark.parametrize("kind", sorted(FIELD_TYPES))
def test_each_field_type_describes_its_values(kind: str) -> None:
    """Every field type's schemas are valid JSON Schema, and a write schema agrees with the
    field's own validation on the blank value (accepted unless required)."""
    for required in (False, True):
        field = FIELD_TYPES[kind](name="f", required=required)
        if kind == "select":
            field.options["values"] = ["a"]
        for schema in (field.json_schema(), field.json_schema(write=True), field.upload_schema()):
            Draft202012Validator.check_schema(schema)
        if not field.writable or kind in ("password", "file"):
            continue  # set by the server; checked apart from validate (password on update, uploads)
        blank_ok = field.validate(field.prepare(field.zero())) is None
        schema_ok = Draft202012Validator(field.json_schema(write=True)).is_valid(field.zero())
        assert blank_ok == schema_ok, (kind, required)
        Draft202012Validator(field.json_schema()).validate(field.zero())


async def test_examples_fit_their_schemas(described: dict[str, Any]) -> None:
    schemas = described["components"]["schemas"]
    for name in ("oa_posts.record", "oa_posts.create", "oa_members.record", "oa_members.create", "oa_stats.record"):
        examples = schemas[name]["examples"]
        assert examples and examples[0], name
        for example in examples:
            validator(described, name).validate(example)
    assert schemas["oa_members.create"]["examples"][0]["passwordConfirm"] == schemas["oa_members.create"]["examples"][0]["password"]


async def test_every_route_is_described(described: dict[str, Any]) -> None:
    """Each built-in route has its operation in the description (collection routes under a
    collection of the right type); a new route fails here until it is described."""
    from hearth.http.server import all_routes

    # Static files, not API operations: the docs page's assets and the dashboard (/_/, an HTML
    # page that is itself a client of the described API).
    skipped = {("GET", "/api/docs/{asset}"), ("GET", "/_"), ("GET", "/_/{asset}")}
    paths = described["paths"]
    missing = []
    for r in all_routes():
        if (r.method, r.path) in skipped:
            continue
        concrete = r.path
        if r.path.startswith("/api/collections/{collection}/") and r.path != "/api/collections/{collection}/truncate":
            concrete = r.path.replace("{collection}", "oa_members")
        if not (concrete in paths and r.method.lower() in paths[concrete]):
            missing.append(f"{r.method} {r.path}")
    assert not missing, missing


async def test_operations_answers_match_the_description(api: Api, described: dict[str, Any]) -> None:
    """Logs, backups, the audit trail and metrics as their handlers really answer; the examples
    fit too. (schemathesis covers their bad input.)"""
    schemas = described["components"]["schemas"]
    for name in ("LogEntry", "LogStats", "Backup", "AuditEntry", "AuditSettings"):
        for example in schemas[name]["examples"]:
            validator(described, name).validate(example)
    su = api.su()
    # An audited write, and a failed request for the logs (failures are always logged).
    r = await api.client.patch("/api/hearth/audit/settings", json={"collections": ["oa_posts"]}, headers=su)
    assert r.status_code == 200, r.text
    validator(described, "AuditSettings").validate(r.json())
    validator(described, "AuditSettings").validate((await api.client.get("/api/hearth/audit/settings", headers=su)).json())
    created = await api.client.post("/api/collections/oa_posts/records", json={**POST, "slug": "audited"}, headers=su)
    assert created.status_code == 200, created.text
    await api.client.get("/api/collections/oa_posts/records/missing0000000")
    await api.app.state.hearth.logs.flush()
    audit = await api.client.get("/api/hearth/audit", headers=su)
    assert audit.status_code == 200 and audit.json()["items"], audit.text
    entry = audit.json()["items"][0]
    validator(described, "AuditEntry").validate(entry)
    assert entry["action"] == "create" and entry["before"] is None
    one = await api.client.get(f"/api/hearth/audit/{entry['id']}", headers=su)
    validator(described, "AuditEntry").validate(one.json())
    logs = await api.client.get("/api/logs", params={"sort": "-created"}, headers=su)
    assert logs.status_code == 200 and logs.json()["items"], logs.text
    for item in logs.json()["items"]:
        validator(described, "LogEntry").validate(item)
    view = await api.client.get(f"/api/logs/{logs.json()['items'][0]['id']}", headers=su)
    validator(described, "LogEntry").validate(view.json())
    stats = await api.client.get("/api/logs/stats", headers=su)
    assert stats.json(), stats.text
    validator(described, "LogStats").validate(stats.json())
    backups = await api.client.get("/api/backups", headers=su)
    assert backups.status_code == 200
    Draft202012Validator(described["paths"]["/api/backups"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
                         registry=Registry().with_resource("urn:doc", Resource(described, DRAFT202012))).validate(backups.json())  # fmt: skip
    # Errors are the envelope, as described.
    for path, status in (("/api/logs/nope", 404), ("/api/hearth/audit/nope", 404), ("/api/logs?filter=(((", 400)):
        r = await api.client.get(path, headers=su)
        assert r.status_code == status, (path, r.text)
        validator(described, "Error").validate(r.json())
    assert not validator(described, "LogEntry").is_valid({**view.json(), "level": "0"})
    r = await api.client.patch("/api/hearth/audit/settings", json={"collections": []}, headers=su)
    assert r.status_code == 200
    ops = described["paths"]
    assert ops["/metrics"]["get"]["security"] == [{"metricsToken": []}]
    assert described["components"]["securitySchemes"]["metricsToken"] == {
        "type": "http", "scheme": "bearer", "description": described["components"]["securitySchemes"]["metricsToken"]["description"]}  # fmt: skip
    assert set(ops["/api/backups/upload"]["post"]["requestBody"]["content"]) == {"multipart/form-data"}
    assert "application/zip" in ops["/api/backups/{key}"]["get"]["responses"]["200"]["content"]
    name = ops["/api/backups"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["name"]
    assert name["maxLength"] == archive.MAX_NAME  # kept by hand: openapi may not import backups
