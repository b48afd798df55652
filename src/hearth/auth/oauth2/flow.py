"""`POST …/auth-with-oauth2`: code → provider user → linked, matched or new record → auth token.

The order is PocketBase's: an `_externalAuths` link wins, then the requester's own record (when
it is of this collection), then a record with the provider's verified e-mail; otherwise a new
record is created as an `oauth2`-context create request (so the createRule applies).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from hearth._util.ids import random_string
from hearth.auth.logins import LoginContext
from hearth.auth.oauth2.avatar import fetch_avatar
from hearth.auth.oauth2.base import TIMEOUT, AuthUser, OAuth2Error
from hearth.auth.oauth2.form import OAuth2Form, parse_form
from hearth.auth.oauth2.registry import init_provider
from hearth.auth.service import AuthService
from hearth.db.base import Transaction
from hearth.errors import BadRequest, Forbidden
from hearth.query.context import AuthState, RequestInfo
from hearth.records.passwords import Prehashed, prehash
from hearth.records.service import RecordService
from hearth.schema.collection import SUPERUSERS, Collection
from hearth.sql import oauth2 as sql

log = logging.getLogger(__name__)

OAUTH2_DISABLED = "The collection is not configured to allow OAuth2 authentication."
TOKEN_FAILED = "Failed to fetch OAuth2 token."
USER_FAILED = "Failed to fetch OAuth2 user."
AUTH_FAILED = "Failed to authenticate."
EXTERNAL_AUTHS = "_externalAuths"
RANDOM_PASSWORD_LENGTH = 30


class OAuth2Flow:
    def __init__(self, auth: AuthService, records: RecordService, fetch_private: bool = False) -> None:
        self.auth = auth
        self.fetch_private = fetch_private
        self.records = records
        self.collections = records.collections

    @staticmethod
    def require_enabled(c: Collection) -> None:
        """403 unless the collection allows OAuth2 (checked before the body is read)."""
        if not c.auth.get("oauth2", {}).get("enabled"):
            raise Forbidden(OAUTH2_DISABLED)

    async def authenticate(
        self,
        c: Collection,
        body: dict[str, Any],
        requester: AuthState,
        expand: str = "",
        ctx: LoginContext | None = None,
    ) -> dict[str, Any]:
        """The auth response (`token`, `record`) plus PocketBase's `meta` about the provider user."""
        if not c.auth.get("oauth2", {}).get("enabled"):
            raise Forbidden(OAUTH2_DISABLED)
        form = parse_form(c, body)
        user = await self._provider_user(form)
        row, is_new = await self._submit(c, form, user, requester)
        token, values = await self.auth.finish_login(c, row, "oauth2", ctx)
        response = await self.auth.auth_response(c, token, values, expand)
        response["meta"] = user.meta(is_new)
        return response

    async def _provider_user(self, form: OAuth2Form) -> AuthUser:
        provider = init_provider(form.config)
        if provider is None:  # parse_form admits only known names
            raise BadRequest(AUTH_FAILED)
        provider.redirect_url = form.redirect_url
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            try:
                token = await provider.fetch_token(client, form.code, form.code_verifier)
            except OAuth2Error as exc:
                log.info("oauth2 %s: token exchange failed: %s", form.provider, exc)
                raise BadRequest(TOKEN_FAILED) from None
            try:
                return await provider.fetch_user(client, token)
            except OAuth2Error as exc:
                log.info("oauth2 %s: user fetch failed: %s", form.provider, exc)
                raise BadRequest(USER_FAILED) from None

    # ----- which record ---------------------------------------------------------------------
    async def _submit(
        self, c: Collection, form: OAuth2Form, user: AuthUser, requester: AuthState
    ) -> tuple[Any, bool]:
        """Find, link or create the record in one transaction; its row after commit and isNew."""
        d = self.records.db.dialect
        link = await self.records.db.fetch_one(sql.find_link(d), (c.id, form.provider, user.id))
        row = await self.records.reads.find_row(c, str(link[0])) if link is not None else None
        linked = row is not None
        if row is None and requester.record is not None and requester.collection is not None:
            if requester.collection.id == c.id:
                row = await self.records.reads.find_row(c, requester.id)
        if row is None and user.email:
            codec = self.records.reads.codec(c)
            row = await self.records.db.fetch_one(codec.sql.by_field("email"), (user.email,))
        if row is None and c.name == SUPERUSERS:
            raise BadRequest(AUTH_FAILED)  # superusers never sign up through OAuth2
        payload: dict[str, Any] = {}
        hashes: Prehashed = {}
        if row is None:
            payload = await self._signup_payload(c, form, user)
            await prehash(c, payload, hashes)  # bcrypt before the write lock
        async with self.records.db.transaction() as tx:
            if link is not None and not linked:
                # The record of a link is gone: drop the stale link, as a cascade would have.
                await tx.execute(sql.delete_links(d), (c.id, str(link[0])))
            if row is None:
                rid = await self._create(tx, c, payload, hashes, user, requester)
            else:
                rid = str(self.records.reads.codec(c).raw_value(row, "id"))
                linked = await self._update_existing(tx, c, row, user, requester) and linked
            if not linked:
                await self.records.create(
                    self._external_auths(),
                    {
                        "collectionRef": c.id,
                        "recordRef": rid,
                        "provider": form.provider,
                        "providerId": user.id,
                    },
                    self._system(),
                    tx,
                )
        return await self.records.reads.find_row(c, rid), row is None

    async def _signup_payload(self, c: Collection, form: OAuth2Form, user: AuthUser) -> dict[str, Any]:
        """The body of a new account: the client's createData, the provider's e-mail and mapped
        fields, a random password when none is given."""
        payload = dict(form.create_data)
        email = payload.get("email")
        if not isinstance(email, str) or email == "":
            payload["email"] = user.email
        await self._map_fields(c, payload, user)
        if "password" not in payload:
            # The account has no password of its own until the user sets one.
            password = random_string(RANDOM_PASSWORD_LENGTH)
            payload["password"] = payload["passwordConfirm"] = password
        return payload

    async def _create(
        self,
        tx: Transaction,
        c: Collection,
        payload: dict[str, Any],
        hashes: Prehashed,
        user: AuthUser,
        requester: AuthState,
    ) -> str:
        info = RequestInfo(auth=requester, method="POST", body=payload, context="oauth2")
        values = await self.records.create(c, payload, info, tx, hashes)
        if values.get("email") == user.email and not values.get("verified"):
            # The provider vouches for this address (or neither side has one).
            await self.records.update(c, values["id"], {"verified": True}, self._system(), tx)
        return str(values["id"])

    async def _map_fields(self, c: Collection, payload: dict[str, Any], user: AuthUser) -> None:
        """`oauth2.mappedFields`: provider values for fields the client did not send."""
        mapped = c.auth.get("oauth2", {}).get("mappedFields", {}) or {}

        def target(key: str) -> str:
            name = mapped.get(key)
            return name if isinstance(name, str) and name in c.field_map and name not in payload else ""

        if name := target("id"):
            payload[name] = user.id
        if name := target("name"):
            payload[name] = user.name
        if (name := target("username")) and await self._username_free(c, name, user.username):
            payload[name] = user.username
        if (name := target("avatarURL")) and user.avatar_url:
            if c.field_map[name].type == "file":
                # Downloaded before the transaction; stored by the record write as an upload.
                upload = await fetch_avatar(user.avatar_url, self.fetch_private)
                if upload is not None:
                    payload[name] = upload
            else:
                payload[name] = user.avatar_url

    async def _username_free(self, c: Collection, name: str, username: str) -> bool:
        """A mapped username is used only when it is valid for the field and not taken (PocketBase
        keeps sign-ups from failing on a clash this way)."""
        f = c.field_map[name]
        if f.type == "text" and f.validate(username) is not None:
            return False
        for idx in c.parsed_indexes():
            if idx.unique and len(idx.columns) == 1 and idx.columns[0].name == name and not idx.where:
                d = self.records.db.dialect
                stmt = sql.value_taken(d, c.name, name, idx.columns[0].collate_nocase)
                return await self.records.db.fetch_one(stmt, (username,)) is None
        return True

    async def _update_existing(
        self, tx: Transaction, c: Collection, row: Any, user: AuthUser, requester: AuthState
    ) -> bool:
        """Guard a matched record against pre-hijacking, then verify it; False when its links
        were dropped (so the caller links it again)."""
        codec = self.records.reads.codec(c)
        rid = str(codec.raw_value(row, "id"))
        verified = bool(codec.raw_value(row, "verified"))
        email = str(codec.raw_value(row, "email") or "")
        is_requester = requester.collection is not None and requester.collection.id == c.id
        is_requester = is_requester and requester.id == rid
        changes: dict[str, Any] = {}
        kept_links = True
        if not verified:
            if not is_requester:
                # Someone may have registered this address first: their password must not work.
                password = random_string(RANDOM_PASSWORD_LENGTH)
                changes["password"] = changes["passwordConfirm"] = password
            # An unverified record keeps at most the link being made now.
            await tx.execute(sql.delete_links(self.records.db.dialect), (c.id, rid))
            kept_links = False
        if email == "" and user.email:
            changes["email"] = email = user.email
        if not verified and (email == "" or email == user.email):
            changes["verified"] = True
        if changes:
            await self.records.update(c, rid, changes, self._system(), tx)
        return kept_links

    # ----- helpers ------------------------------------------------------------------------
    def _external_auths(self) -> Collection:
        c = self.collections.get(EXTERNAL_AUTHS)
        assert c is not None, "the _externalAuths system collection is built in"
        return c

    def _system(self) -> RequestInfo:
        """Writes PocketBase makes without API rules (links, verified flags) run as a superuser."""
        return RequestInfo(auth=AuthState(self.collections.get(SUPERUSERS)), method="POST")
