from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hearth.auth.oauth2 import apple_secret
from hearth.errors import BadRequest, FieldError
from hearth.files.storage import StorageUnavailable
from hearth.http import responses
from hearth.http.body import FORM_LOAD_FAILED, read_object
from hearth.http.context import begin, require_superuser
from hearth.http.router import route
from hearth.mail.auth_mail import KINDS, send_test_mail
from hearth.mail.sender import MailError
from hearth.schema.collection import SUPERUSERS
from hearth.schema.fields.email import is_email
from hearth.settings import model

TEST_EMAIL_FAILED = "Failed to send the test email."
TEST_S3_FAILED = "Failed to test the S3 filesystem."
LOAD_FAILED = "An error occurred while loading the submitted data."
S3_FILESYSTEMS = ("storage", "backups")


async def get_settings(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    return responses.json(model.public(await h.settings.get(h.collections.version)))


async def patch_settings(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    new = await h.settings.update(h.collections.version, body)
    await h.collections.refresh()
    return responses.json(model.public(new))


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        # Go cannot bind a non-string into the form's string field.
        raise BadRequest(LOAD_FAILED)
    return value


async def test_email(request: Request) -> Response:
    """POST /api/settings/test/email: send one auth mail template to an address (PocketBase's
    `forms.TestEmailSend`: a dummy record of the collection, `_superusers` by default)."""
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    email, template, collection = (
        _string(body, "email"),
        _string(body, "template"),
        _string(body, "collection"),
    )

    errors: dict[str, FieldError] = {}
    c = h.collections.get(collection or SUPERUSERS)
    if collection:
        if len(collection) > 255:
            errors["collection"] = FieldError(
                "validation_length_out_of_range", "The length must be between 1 and 255."
            )
        elif c is None or not c.is_auth:
            errors["collection"] = FieldError(
                "validation_invalid_auth_collection", "Must be a valid auth collection id or name."
            )
    if not email:
        errors["email"] = FieldError("validation_required", "Cannot be blank.")
    elif len(email) > 255:
        errors["email"] = FieldError(
            "validation_length_out_of_range", "The length must be between 1 and 255."
        )
    elif not is_email(email):
        errors["email"] = FieldError("validation_is_email", "Must be a valid email address.")
    if not template:
        errors["template"] = FieldError("validation_required", "Cannot be blank.")
    elif template not in KINDS:
        errors["template"] = FieldError("validation_in_invalid", "Must be a valid value.")
    if errors:
        raise BadRequest(TEST_EMAIL_FAILED, errors)
    if c is None:  # only if `_superusers` were missing
        raise BadRequest(TEST_EMAIL_FAILED)

    settings = await h.settings.get(h.collections.version)
    try:
        await send_test_mail(h.mailer, settings, c, template, email)
    except MailError as exc:
        raise BadRequest(f"{TEST_EMAIL_FAILED} Raw error: \n{exc}") from None
    return responses.no_content()


async def test_s3(request: Request) -> Response:
    """POST /api/settings/test/s3: PocketBase's `forms.TestS3Filesystem` — with the saved `s3`
    (`storage`) or `backups.s3` block, upload a small test object and delete its prefix."""
    h, auth = await begin(request)
    require_superuser(auth)
    try:
        body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    except BadRequest:  # any body PocketBase cannot bind (malformed JSON, not an object, …)
        raise BadRequest(LOAD_FAILED) from None
    filesystem = _string(body, "filesystem")
    if not filesystem:
        raise BadRequest(TEST_S3_FAILED, {"filesystem": FieldError("validation_required", "Cannot be blank.")})
    if filesystem not in S3_FILESYSTEMS:
        raise BadRequest(TEST_S3_FAILED, {"filesystem": FieldError("validation_in_invalid", "Must be a valid value.")})

    settings = await h.settings.get(h.collections.version)
    block = settings["backups"]["s3"] if filesystem == "backups" else settings["s3"]
    if not block.get("enabled"):
        raise BadRequest(f"{TEST_S3_FAILED} Raw error: \nS3 storage filesystem is not enabled")

    from hearth.files.s3 import S3Config, probe  # obstore is imported only when S3 is used

    try:
        await probe(S3Config.from_settings(block))
    except StorageUnavailable as exc:
        raise BadRequest(f"{TEST_S3_FAILED} Raw error: \n{exc.reason}") from None
    return responses.no_content()


async def apple_client_secret(request: Request) -> Response:
    h, auth = await begin(request)
    require_superuser(auth)
    body = await read_object(request, h.config.max_body_size, message=FORM_LOAD_FAILED)
    return responses.json({"secret": apple_secret.generate(body)})


routes = [
    route("GET", "/api/settings", get_settings, event="settings_list_request"),
    route("PATCH", "/api/settings", patch_settings, event="settings_update_request"),
    route("POST", "/api/settings/test/s3", test_s3),
    route("POST", "/api/settings/test/email", test_email),
    route("POST", "/api/settings/apple/generate-client-secret", apple_client_secret),
]
