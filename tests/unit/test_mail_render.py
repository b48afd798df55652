"""Auth mail rendering (placeholders, escaping, templates) and the HTML → text alternative."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.mail.auth_mail import escape, field_string, render, replace_placeholders, sample_record
from hearth.mail.html2text import html_to_text
from hearth.mail.sender import MailError, build_message
from hearth.schema.collection import AUTH
from hearth.schema.form import make_collection

SETTINGS = {"meta": {"appName": "Acme & Co", "appURL": "https://acme.test"}}


def people(**auth_patch: Any) -> Any:
    return make_collection(
        "people",
        AUTH,
        [
            {"name": "name", "type": "text"},
            {"name": "score", "type": "number"},
            {"name": "born", "type": "date"},
            {"name": "tags", "type": "select", "maxSelect": 2, "values": ["a", "b"]},
            {"name": "data", "type": "json"},
            {"name": "where", "type": "geoPoint"},
            {"name": "secret", "type": "text", "hidden": True},
        ],
        auth_patch=auth_patch,
    )


def template(body: str, subject: str = "s") -> dict[str, Any]:
    return {"verificationTemplate": {"subject": subject, "body": body}}


def body_of(html: str) -> str:
    """The template's part of the layout."""
    return html.split("<body>\n    ", 1)[1].rsplit("\n</body>", 1)[0]


def test_record_placeholders_escape_html_as_go_does() -> None:
    c = people(**template("<p>{RECORD:name}</p>", subject="Hi {RECORD:name}"))
    record = {"id": "abc", "name": "<b>Tom & \"Jerry\" 'x'</b>", "email": "t@example.com"}
    subject, html = render(SETTINGS, c, "verification", record, token="T")
    expected = "&lt;b&gt;Tom &amp; &#34;Jerry&#34; &#39;x&#39;&lt;/b&gt;"
    assert body_of(html) == f"<p>{expected}</p>"
    assert subject == f"Hi {expected}"  # the subject gets the same (escaped) values, as in PocketBase


def test_values_by_field_type() -> None:
    body = "{RECORD:id}|{RECORD:score}|{RECORD:born}|{RECORD:tags}|{RECORD:data}|{RECORD:where}|{RECORD:verified}|{RECORD:secret}"
    c = people(**template(body))
    record = {
        "id": "r1",
        "score": 2.5,
        "born": "2024-01-02 03:04:05.000Z",
        "tags": ["a", "b"],
        "data": {"b": 1, "a": "<x>"},
        "where": {"lon": 1.5, "lat": 2.0},
        "verified": True,
        "secret": "never",
    }
    _, html = render(SETTINGS, c, "verification", record)
    assert body_of(html) == (
        "r1|2.5|2024-01-02 03:04:05.000Z|"
        "|"  # a multi-value field reads as "" (cast.ToString of a []string)
        "{&#34;a&#34;:&#34;&lt;x&gt;&#34;,&#34;b&#34;:1}|"
        "{&#34;lon&#34;:1.5,&#34;lat&#34;:2}|"
        "true|"
        "{RECORD:secret}"  # hidden: no placeholder
    )
    assert field_string("number", 3.0) == "3" and field_string("number", 1e21) == "1000000000000000000000"
    assert field_string("json", None) == "null" and field_string("text", None) == ""


def test_app_placeholders_token_otp_and_alert_info() -> None:
    c = people(
        **template("{APP_NAME} {APP_URL}/x/{TOKEN} {OTP}", subject="{APP_NAME}"),
        otp={"emailTemplate": {"subject": "OTP {OTP}", "body": "{OTP} {OTP_ID} {TOKEN}"}},
        authAlert={"emailTemplate": {"subject": "a", "body": "<em>{ALERT_INFO}</em>"}},
    )
    subject, html = render(SETTINGS, c, "verification", {}, token="tok.en")
    # {APP_NAME} is not escaped (PocketBase inserts it as it is); {OTP} is not a verification
    # placeholder and stays.
    assert subject == "Acme & Co"
    assert body_of(html) == "Acme & Co https://acme.test/x/tok.en {OTP}"
    subject, html = render(SETTINGS, c, "otp", {}, otp="123456", otp_id="oid")
    assert subject == "OTP 123456" and body_of(html) == "123456 oid {TOKEN}"
    _, html = render(SETTINGS, c, "login-alert", {}, alert_info="Chrome <script> & co")
    assert body_of(html) == "<em>Chrome &lt;script&gt; &amp; co</em>"


def test_a_value_is_never_expanded_again() -> None:
    c = people(**template("{RECORD:name}|{TOKEN}"))
    _, html = render(SETTINGS, c, "verification", {"name": "{TOKEN} {APP_NAME}"}, token="T")
    assert body_of(html) == "{TOKEN} {APP_NAME}|T"
    assert replace_placeholders("{A}{AB}{A}", {"{A}": "1", "{AB}": "2"}) == "121"


def test_default_templates_and_layout() -> None:
    c = people()
    subject, html = render(SETTINGS, c, "password-reset", {}, token="abc")
    assert subject == "Reset your Acme & Co password"
    assert html.startswith("\n<!DOCTYPE html PUBLIC") and html.endswith("</body>\n</html>\n")
    assert 'href="https://acme.test/_/#/auth/confirm-password-reset/abc"' in html
    for kind in ("verification", "email-change", "otp", "login-alert"):
        subject, html = render(SETTINGS, c, kind, {})
        assert subject and "{APP_NAME}" not in html
    with pytest.raises(ValueError):
        render(SETTINGS, c, "welcome", {})


def test_sample_record_reads_the_test_values_by_type() -> None:
    c = people()
    record = sample_record(c, "to@example.com")
    assert record["name"] == "__pb_test_name__" and record["email"] == "to@example.com"
    assert record["score"] == 0 and record["verified"] is False and "secret" not in record


def test_escape_matches_go() -> None:
    assert escape("<a href=\"x\">'&'</a>") == "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;"


def test_html_to_text() -> None:
    html = (
        "<html><head><style>p { color: red }</style></head><body>\n"
        '  <p>Hello,</p>\n  <p>Click <a href="https://x.test/a?b=1&amp;c=2">  here </a> now.</p>\n'
        '<ul><li>one</li><li>two</li></ul><p>a<br/>b<br>c</p><a href=""></a>'
        "<script>alert(1)</script><img src=x><p>Tom &amp; Jerry</p></body></html>"
    )
    assert html_to_text(html) == (
        "Hello, \r\nClick [here](https://x.test/a?b=1&c=2) now. \r\n- one\r\n- two\r\na\r\nb\r\nc[LINK]\r\nTom & Jerry"
    )


def test_build_message_refuses_header_injection() -> None:
    kwargs = {"sender_name": "S", "sender_address": "s@example.com", "subject": "x", "html": "<p>x</p>"}
    with pytest.raises(MailError):
        build_message(to="a@example.com\r\nBcc: b@example.com", to_name="", **kwargs)
    msg = build_message(
        to="a@example.com", to_name="Ann Ä", **{**kwargs, "subject": "Hi\r\nBcc: b@example.com"}
    )
    assert msg["Subject"] == "Hi Bcc: b@example.com" and "Bcc" not in msg
    assert msg["To"] == "Ann Ä <a@example.com>" and msg["From"] == "S <s@example.com>"
