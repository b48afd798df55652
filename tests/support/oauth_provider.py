"""A real OAuth2 / OpenID Connect provider for tests, built on Authlib's Flask server.

Run as a script: it listens on 127.0.0.1 (a free port, printed as the first line of stdout) and
serves
- GET  /authorize  authorization-code grant with PKCE (S256) required; auto-approves the user
                   named by `login_hint` (see USERS) and redirects to `redirect_uri` with
                   `code` and `state`
- POST /token      checks the client credentials (Basic header or form), the code, the
                   redirect URI and the PKCE verifier
- GET  /userinfo   the OIDC standard claims of the token's user (Bearer token)
- GET  /health     readiness probe
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any

# Loopback tests speak plain HTTP; Authlib refuses it unless told otherwise.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

CLIENT_ID = "hearth-test-client"
CLIENT_SECRET = "hearth-test-secret"
REDIRECT_URIS = ("http://127.0.0.1/oauth2-callback", "http://127.0.0.1/other-callback")

# login_hint → OIDC claims. `carol` has an address the provider did not verify.
USERS: dict[str, dict[str, Any]] = {
    "alice": {
        "sub": "alice-sub-1",
        "name": "Alice Liddell",
        "preferred_username": "alice",
        "email": "alice@example.com",
        "email_verified": True,
        "picture": "https://images.example.com/alice.png",
    },
    # Her picture is served by this provider (its address is filled in when asked).
    "dora": {
        "sub": "dora-sub-4",
        "name": "Dora",
        "preferred_username": "dora",
        "email": "dora@example.com",
        "email_verified": True,
        "picture": "{base}avatar.png",
    },
    "bob": {
        "sub": "bob-sub-2",
        "name": "Bob Builder",
        "preferred_username": "bob",
        "email": "bob@example.com",
        "email_verified": True,
    },
    "carol": {
        "sub": "carol-sub-3",
        "name": "Carol",
        "preferred_username": "carol",
        "email": "carol@example.com",
        "email_verified": False,
    },
}


class Client(ClientMixin):
    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> str:
        return REDIRECT_URIS[0]

    def get_allowed_scope(self, scope: str) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in REDIRECT_URIS

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    user: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token(TokenMixin):
    access_token: str
    user: str
    scope: str
    issued_at: float = field(default_factory=time.time)
    expires_in: int = 3600

    def check_client(self, client: Any) -> bool:
        return True

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> str:
        return self.user

    def get_client(self) -> Client:
        return CLIENT


CLIENT = Client()
CODES: dict[str, Code] = {}
TOKENS: dict[str, Token] = {}


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, req: Any) -> None:
        CODES[code] = Code(
            code=code,
            user=req.user,
            redirect_uri=req.payload.redirect_uri,
            scope=req.scope or "",
            code_challenge=req.payload.data.get("code_challenge"),
            code_challenge_method=req.payload.data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Any) -> Code | None:
        return CODES.get(code)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        CODES.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> str:
        return authorization_code.user


class Validator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> Token | None:
        return TOKENS.get(token_string)


def _save_token(token: dict[str, Any], req: Any) -> None:
    TOKENS[token["access_token"]] = Token(token["access_token"], req.user, token.get("scope", ""))


app = Flask(__name__)
server = AuthorizationServer(
    app, query_client=lambda cid: CLIENT if cid == CLIENT_ID else None, save_token=_save_token
)
server.register_grant(CodeGrant, [CodeChallenge(required=True)])
require_oauth = ResourceProtector()
require_oauth.register_token_validator(Validator())


@app.get("/authorize")
def authorize() -> Any:
    user = request.args.get("login_hint", "")
    if user not in USERS:
        return "unknown login_hint", 400
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as exc:
        return jsonify(error=exc.error, error_description=exc.description), 400
    return server.create_authorization_response(grant=grant, grant_user=user)


@app.post("/token")
def issue_token() -> Any:
    return server.create_token_response()


@app.get("/userinfo")
@require_oauth()
def userinfo() -> Any:
    claims = dict(USERS[current_token.user])
    if str(claims.get("picture", "")).startswith("{base}"):
        claims["picture"] = claims["picture"].replace("{base}", request.host_url)
    return jsonify(claims)


# A 2x1 PNG: what /avatar.png serves.
AVATAR_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000010806000000f4227f8a0000000e49444154789c63f8cfc0f01f840111f703fde3c5f5ef0000000049454e44ae426082"
)


@app.get("/avatar.png")
def avatar() -> Any:
    return AVATAR_PNG, 200, {"Content-Type": "image/png"}


@app.get("/health")
def health() -> Any:
    return "ok"


def main() -> None:
    http = make_server("127.0.0.1", 0, app, threaded=True)
    print(http.server_port, flush=True)
    http.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
