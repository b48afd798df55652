"""Every event Hearth triggers, one hook each, in PocketBase's three tiers:

- model events run inside the write's transaction and wrap the write (`next()` performs it);
- after-commit events run once the transaction committed (or failed: the `_error` ones);
- request events (added with the HTTP hooks) wrap an API request.

A capability that reacts to something (realtime, mail, login limits...) binds a handler here
when it is built; nothing is told about changes any other way. docs/hooks.md lists the same
events (a test compares them).
"""

from __future__ import annotations

from hearth.hooks import events as ev
from hearth.hooks.chain import Hook

REQUEST_EVENTS = {
    "records_list_request": "GET /api/collections/{collection}/records",
    "record_view_request": "GET /api/collections/{collection}/records/{id}",
    "record_create_request": "POST /api/collections/{collection}/records",
    "record_update_request": "PATCH /api/collections/{collection}/records/{id}",
    "record_delete_request": "DELETE /api/collections/{collection}/records/{id}",
    "record_auth_methods_request": "GET /api/collections/{collection}/auth-methods",
    "record_auth_with_password_request": "POST /api/collections/{collection}/auth-with-password",
    "record_auth_with_otp_request": "POST /api/collections/{collection}/auth-with-otp",
    "record_auth_with_oauth2_request": "POST /api/collections/{collection}/auth-with-oauth2",
    "record_auth_refresh_request": "POST /api/collections/{collection}/auth-refresh",
    "record_auth_logout_request": "POST /api/collections/{collection}/auth-logout",
    "record_impersonate_request": "POST /api/collections/{collection}/impersonate/{id}",
    "record_request_otp_request": "POST /api/collections/{collection}/request-otp",
    "record_request_verification_request": "POST /api/collections/{collection}/request-verification",
    "record_confirm_verification_request": "POST /api/collections/{collection}/confirm-verification",
    "record_request_password_reset_request": "POST /api/collections/{collection}/request-password-reset",
    "record_confirm_password_reset_request": "POST /api/collections/{collection}/confirm-password-reset",
    "record_request_email_change_request": "POST /api/collections/{collection}/request-email-change",
    "record_confirm_email_change_request": "POST /api/collections/{collection}/confirm-email-change",
    "file_token_request": "POST /api/files/token",
    "collections_list_request": "GET /api/collections",
    "collection_view_request": "GET /api/collections/{collection}",
    "collection_create_request": "POST /api/collections",
    "collection_update_request": "PATCH /api/collections/{collection}",
    "collection_delete_request": "DELETE /api/collections/{collection}",
    "collection_truncate_request": "DELETE /api/collections/{collection}/truncate",
    "collections_import_request": "PUT /api/collections/import",
    "settings_list_request": "GET /api/settings",
    "settings_update_request": "PATCH /api/settings",
    "batch_request": "POST /api/batch",
    "realtime_connect_request": "GET /api/realtime (a client connects)",
    "realtime_subscribe_request": "POST /api/realtime (a client sets its subscriptions)",
}


class Hooks:
    """The hooks of one running Hearth."""

    def __init__(self) -> None:
        # ----- records: model tier (inside the transaction) -----
        self.record_create = Hook[ev.RecordWrite]("A record is inserted; `next()` inserts it.")
        self.record_update = Hook[ev.RecordWrite]("A record is updated; `next()` writes the change.")
        self.record_delete = Hook[ev.RecordWrite]("A record is deleted; `next()` deletes its row.")
        self.record_validate = Hook[ev.RecordValidate](
            "A record about to be written is checked; `next()` runs the built-in checks."
        )
        # ----- records: after commit -----
        self.record_after_create_success = Hook[ev.RecordCommitted]("A record insert committed.")
        self.record_after_update_success = Hook[ev.RecordCommitted]("A record update committed.")
        self.record_after_delete_success = Hook[ev.RecordCommitted]("A record delete committed.")
        self.record_after_create_error = Hook[ev.RecordFailed]("A record insert did not commit.")
        self.record_after_update_error = Hook[ev.RecordFailed]("A record update did not commit.")
        self.record_after_delete_error = Hook[ev.RecordFailed]("A record delete did not commit.")
        # ----- collections -----
        self.collection_create = Hook[ev.CollectionChange]("A collection is created; `next()` creates it.")
        self.collection_update = Hook[ev.CollectionChange]("A collection is changed; `next()` migrates it.")
        self.collection_delete = Hook[ev.CollectionChange]("A collection is deleted; `next()` drops it.")
        self.collection_after_create_success = Hook[ev.CollectionChange]("A collection was created.")
        self.collection_after_update_success = Hook[ev.CollectionChange]("A collection was changed.")
        self.collection_after_delete_success = Hook[ev.CollectionChange]("A collection was deleted.")
        # ----- auth -----
        self.record_credential_check = Hook[ev.CredentialCheck](
            "A password or OTP is checked for an identity; `next()` checks it and sets `ok`."
        )
        self.record_session_ended = Hook[ev.SessionEnded]("A login session was ended (auth-logout).")
        # ----- mail: `next()` sends it -----
        self.mailer_record_verification_send = Hook[ev.AuthMail]("A verification mail is sent.")
        self.mailer_record_password_reset_send = Hook[ev.AuthMail]("A password-reset mail is sent.")
        self.mailer_record_email_change_send = Hook[ev.AuthMail]("An e-mail change confirmation is sent.")
        self.mailer_record_otp_send = Hook[ev.AuthMail]("A one-time password mail is sent.")
        self.mailer_record_auth_alert_send = Hook[ev.AuthMail]("A login-from-a-new-location alert is sent.")

        # ----- what a client sees -----
        self.record_enrich = Hook[ev.RecordEnrich]("A record is about to be shown to a client.")
        self.realtime_message_send = Hook[ev.RealtimeMessage](
            "A record change is about to be sent to one realtime client."
        )
        self.file_download_request = Hook[ev.FileDownload](
            "A record's file (or thumb) is about to be served; `next()` serves it."
        )
        # ----- background work -----
        self.job_run = Hook[ev.JobRun]("A durable job runs; `next()` runs its registered function.")
        # ----- backups -----
        self.backup_create = Hook[ev.BackupEvent]("A backup is created; `next()` writes the archive.")
        self.backup_restore = Hook[ev.BackupEvent]("A backup is restored; `next()` replaces the live data.")
        # ----- observing requests -----
        self.request_done = Hook[ev.RequestDone](
            "An HTTP request was answered (any route or none; after the response was sent)."
        )
        # ----- lifecycle -----
        self.bootstrap = Hook[ev.Lifecycle]("The services are built (database open, tables ready).")
        self.serve = Hook[ev.Lifecycle]("The process is about to take requests.")
        self.terminate = Hook[ev.Lifecycle]("The process is stopping.")
        # ----- request tier: one per API route, `next()` runs the built-in handler -----
        for name, doc in REQUEST_EVENTS.items():
            setattr(self, name, Hook[ev.RequestEvent](doc))

    def request_hook(self, name: str) -> Hook[ev.RequestEvent]:
        hook: Hook[ev.RequestEvent] = getattr(self, name)
        return hook

    def catalog(self) -> dict[str, str]:
        """Every event's name and one-line description."""
        return {name: hook.doc for name, hook in vars(self).items() if isinstance(hook, Hook)}

    def mail_hook(self, kind: str) -> Hook[ev.AuthMail]:
        """The hook of one auth mail kind (verification, password-reset, email-change, otp,
        login-alert)."""
        return {
            "verification": self.mailer_record_verification_send,
            "password-reset": self.mailer_record_password_reset_send,
            "email-change": self.mailer_record_email_change_send,
            "otp": self.mailer_record_otp_send,
            "login-alert": self.mailer_record_auth_alert_send,
        }[kind]
