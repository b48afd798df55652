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


class Hooks:
    """The hooks of one running Hearth."""

    def __init__(self) -> None:
        # ----- records: model tier (inside the transaction) -----
        self.record_create = Hook[ev.RecordWrite]("A record is inserted; `next()` inserts it.")
        self.record_update = Hook[ev.RecordWrite]("A record is updated; `next()` writes the change.")
        self.record_delete = Hook[ev.RecordWrite]("A record is deleted; `next()` deletes its row.")
        # ----- records: after commit -----
        self.record_after_create_success = Hook[ev.RecordCommitted]("A record insert committed.")
        self.record_after_update_success = Hook[ev.RecordCommitted]("A record update committed.")
        self.record_after_delete_success = Hook[ev.RecordCommitted]("A record delete committed.")
        self.record_after_create_error = Hook[ev.RecordFailed]("A record insert did not commit.")
        self.record_after_update_error = Hook[ev.RecordFailed]("A record update did not commit.")
        self.record_after_delete_error = Hook[ev.RecordFailed]("A record delete did not commit.")
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
