"""The auth collections' e-mails (verification, password reset, e-mail change, OTP, login alert),
rendered as PocketBase's `mails/record.go` renders them.

Placeholders: {APP_NAME} and {APP_URL} from the settings, {TOKEN}, {OTP}, {OTP_ID} or
{ALERT_INFO} as the kind of mail has them, and {RECORD:field} for every field of the record that
is not hidden. {ALERT_INFO} and the record's values are HTML-escaped (as Go's html.EscapeString
does), except date, autodate, bool and number fields; the others go in as they are. A placeholder
the mail does not know stays as written (a hidden field's, {TOKEN} in an OTP mail, …). The
replaced body is wrapped in PocketBase's HTML layout; the subject gets the same replacements.

PocketBase replaces one placeholder after another in Go's random map order, so a value that itself
contains a placeholder may or may not be expanded; Hearth replaces all of them in one pass and
never expands text that came from a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hearth._util import deepjson, times
from hearth._util.ids import random_string
from hearth.auth import tokens
from hearth.mail import layout
from hearth.schema.auth_options import DEFAULT_AUTH_OPTIONS
from hearth.schema.secrets import raw_never_shown

if TYPE_CHECKING:
    from hearth.mail.sender import Mailer
    from hearth.schema.collection import Collection

VERIFICATION = "verification"
PASSWORD_RESET = "password-reset"
EMAIL_CHANGE = "email-change"
OTP = "otp"
LOGIN_ALERT = "login-alert"
KINDS = (VERIFICATION, PASSWORD_RESET, EMAIL_CHANGE, OTP, LOGIN_ALERT)

# kind → the path of its template in the auth options
_TEMPLATE_PATH: dict[str, tuple[str, ...]] = {
    VERIFICATION: ("verificationTemplate",),
    PASSWORD_RESET: ("resetPasswordTemplate",),
    EMAIL_CHANGE: ("confirmEmailChangeTemplate",),
    OTP: ("otp", "emailTemplate"),
    LOGIN_ALERT: ("authAlert", "emailTemplate"),
}
# Field types whose values are not escaped (PocketBase's `nonescapeTypes`).
_NOT_ESCAPED = frozenset({"autodate", "date", "bool", "number"})
_GO_HTML_ESCAPES = str.maketrans({"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;"})


def escape(text: str) -> str:
    """Go's html.EscapeString."""
    return text.translate(_GO_HTML_ESCAPES)


def template_for(c: Collection, kind: str) -> dict[str, str]:
    """The collection's {subject, body} for a kind of mail (PocketBase's default when unset)."""
    if kind not in _TEMPLATE_PATH:
        raise ValueError(f"unknown auth mail kind {kind!r}")
    path = _TEMPLATE_PATH[kind]
    node: Any = c.auth
    default: Any = DEFAULT_AUTH_OPTIONS
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
        default = default[key]
    if not isinstance(node, Mapping):
        node = default
    return {"subject": str(node.get("subject") or ""), "body": str(node.get("body") or "")}


def _go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64): the shortest exact digits, never an exponent."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)).normalize(), "f")
    return "0" if text == "-0" else text


def field_string(field_type: str, value: Any) -> str:
    """A record value as PocketBase's `record.GetString` gives it (cast.ToString)."""
    if field_type == "json":  # the stored JSON text ("null" when empty)
        return deepjson.dumps(value, sort_keys=True).decode()  # may nest past orjson's 255
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return value
    if field_type == "geoPoint" and isinstance(value, Mapping):
        return (
            f'{{"lon":{_go_float(float(value.get("lon", 0)))},"lat":{_go_float(float(value.get("lat", 0)))}}}'
        )
    return ""  # multi-value fields: cast.ToString fails on a []string and gives ""


def record_placeholders(c: Collection, record: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    never = raw_never_shown(c)
    for f in c.fields:
        if f.hidden or f.name in never:
            continue
        text = field_string(f.type, record.get(f.name))
        out["{RECORD:" + f.name + "}"] = text if f.type in _NOT_ESCAPED else escape(text)
    return out


def replace_placeholders(text: str, placeholders: Mapping[str, str]) -> str:
    """Every placeholder replaced in one pass (a replaced value is never scanned again)."""
    if not placeholders or "{" not in text:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(placeholders, key=len, reverse=True)))
    return pattern.sub(lambda m: placeholders[m.group(0)], text)


def render(
    settings: Mapping[str, Any],
    c: Collection,
    kind: str,
    record: Mapping[str, Any],
    *,
    token: str = "",
    otp: str = "",
    otp_id: str = "",
    alert_info: str = "",
) -> tuple[str, str]:
    """(subject, HTML body) of one auth mail."""
    template = template_for(c, kind)
    placeholders: dict[str, str] = {}
    if kind in (VERIFICATION, PASSWORD_RESET, EMAIL_CHANGE):
        placeholders["{TOKEN}"] = token
    elif kind == OTP:
        placeholders["{OTP_ID}"] = otp_id
        placeholders["{OTP}"] = otp
    elif kind == LOGIN_ALERT:
        placeholders["{ALERT_INFO}"] = escape(alert_info)
    meta = settings.get("meta", {})
    placeholders["{APP_NAME}"] = str(meta.get("appName", ""))
    placeholders["{APP_URL}"] = str(meta.get("appURL", ""))
    for key, value in record_placeholders(c, record).items():
        placeholders.setdefault(key, value)
    subject = replace_placeholders(template["subject"], placeholders)
    body = replace_placeholders(template["body"], placeholders)
    return subject, layout.wrap(body)


async def send_auth_mail(
    mailer: Mailer,
    settings: dict[str, Any],
    c: Collection,
    kind: str,
    record: dict[str, Any],
    to: str,
    *,
    token: str = "",
    otp: str = "",
    alert_info: str = "",
    otp_id: str = "",
) -> None:
    """Render the collection's template for `kind` and send it to `to` (raises MailError).

    `settings` are the current settings (for {APP_NAME} and {APP_URL}); `record` the auth record's
    values by field name, as the API shows them."""
    subject, html = render(
        settings, c, kind, record, token=token, otp=otp, otp_id=otp_id, alert_info=alert_info
    )
    await mailer.send(to, subject, html)


# ----- the settings' "send a test e-mail" ------------------------------------------------------
TEST_OTP_ID = "_PB_TEST_OTP_ID_"
TEST_OTP = "123456"

_TOKEN_TYPES = {
    VERIFICATION: tokens.VERIFICATION,
    PASSWORD_RESET: tokens.PASSWORD_RESET,
    EMAIL_CHANGE: tokens.EMAIL_CHANGE,
}


def sample_record(c: Collection, email: str) -> dict[str, Any]:
    """PocketBase's dummy record: every visible field set to `__pb_test_<name>__` (as its type
    reads that text), the e-mail set to the recipient."""
    record = {f.name: f.prepare(f"__pb_test_{f.name}__") for f in c.fields if not f.hidden}
    record["email"] = email
    return record


async def send_test_mail(mailer: Mailer, settings: dict[str, Any], c: Collection, kind: str, to: str) -> None:
    """Send the `kind` mail of auth collection `c` to `to`, with a dummy record and a real-looking
    (but unusable) token, as PocketBase's `forms.TestEmailSend` does."""
    record = sample_record(c, to)
    if kind in _TOKEN_TYPES:
        token_type = _TOKEN_TYPES[kind]
        option = tokens.TOKEN_OPTION[token_type]
        claims: dict[str, Any] = {
            "type": token_type,
            "id": record.get("id", ""),
            "collectionId": c.id,
            "email": to,
        }
        if kind == EMAIL_CHANGE:
            claims["newEmail"] = to
        # A fresh random tokenKey, as the unsaved dummy record has: the token verifies for nobody.
        key = random_string(50) + c.token_secret(option)
        token = tokens.issue(claims, key, c.token_duration(option))
        await send_auth_mail(mailer, settings, c, kind, record, to, token=token)
    elif kind == OTP:
        await send_auth_mail(mailer, settings, c, kind, record, to, otp=TEST_OTP, otp_id=TEST_OTP_ID)
    elif kind == LOGIN_ALERT:
        info = times.now() + " - TEST_IP TEST_USER_AGENT"
        await send_auth_mail(mailer, settings, c, kind, record, to, alert_info=info)
    else:
        raise ValueError(f"unknown auth mail kind {kind!r}")
