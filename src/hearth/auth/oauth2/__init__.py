"""OAuth2 / OpenID Connect login: providers (registry), auth-methods entries, the login flow."""

from hearth.auth.oauth2.methods import legacy_auth_providers, oauth2_methods
from hearth.auth.oauth2.registry import PROVIDERS, provider_list

__all__ = ["PROVIDERS", "legacy_auth_providers", "oauth2_methods", "provider_list"]
