"""The auth-with-oauth2 body: types first (a 400 without details), then PocketBase's field rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hearth.auth.oauth2.registry import PROVIDERS, provider_config
from hearth.errors import BadRequest, FieldError
from hearth.schema.collection import Collection

# PocketBase answers both the decoding and the validation failures with this message.
LOAD_FAILED = "An error occurred while loading the submitted data."
MAX_PROVIDER_LENGTH = 100


@dataclass(slots=True)
class OAuth2Form:
    provider: str
    code: str
    code_verifier: str = ""
    redirect_url: str = ""
    create_data: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(LOAD_FAILED)
    return value


def parse_form(c: Collection, body: dict[str, Any]) -> OAuth2Form:
    provider = _string(body, "provider")
    code = _string(body, "code")
    verifier = _string(body, "codeVerifier")
    # `redirectUrl` is the pre-0.23 spelling, used only when the new one is absent.
    redirect_url = _string(body, "redirectURL") or _string(body, "redirectUrl")
    create_data = body.get("createData")
    if create_data is None:
        create_data = {}
    if not isinstance(create_data, dict):
        raise BadRequest(LOAD_FAILED)
    errors: dict[str, Any] = {}
    config = provider_config(c, provider)
    if provider == "":
        errors["provider"] = FieldError("validation_required", "Cannot be blank.")
    elif len(provider) > MAX_PROVIDER_LENGTH:
        errors["provider"] = FieldError(
            "validation_length_too_long",
            f"The length must be no more than {MAX_PROVIDER_LENGTH}.",
            {"max": MAX_PROVIDER_LENGTH, "min": 0},
        )
    elif config is None or provider not in PROVIDERS:
        errors["provider"] = FieldError(
            "validation_invalid_provider",
            f"Provider with name {provider} is missing or is not enabled.",
            {"name": provider},
        )
    if code == "":
        errors["code"] = FieldError("validation_required", "Cannot be blank.")
    if errors:
        raise BadRequest(LOAD_FAILED, errors)
    assert config is not None
    return OAuth2Form(provider, code, verifier, redirect_url, dict(create_data), config)
