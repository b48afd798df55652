"""`url` fields, validated like govalidator.IsURL (which PocketBase uses), with domain lists."""

from __future__ import annotations

import functools
from typing import ClassVar, NamedTuple

from hearth.schema.fields.email import DomainListField
from hearth.schema.fields.text import GoRegex

_MAX_URL_RUNES = 2083
_MIN_URL_BYTES = 3

# govalidator's URL regexp, unchanged. It backtracks catastrophically under Python's `re`,
# so it runs on the linear-time Go-regexp engine from text.py.
_IP = (
    r"(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}"
    r"|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}"
    r"|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}"
    r"|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}"
    r"|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])"
    r"|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))"
)
_SCHEMA = r"((ftp|tcp|udp|wss?|https?):\/\/)"
_USERNAME = r"(\S+(:\S*)?@)"
_PATH = r"((\/|\?|#)[^\s]*)"
_PORT = r"(:(\d{1,5}))"
_URL_IP = (
    r"([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}"
    r"(?:\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5]))"
)
_SUBDOMAIN = r"((www\.)|([a-zA-Z0-9]+([-_\.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))"
_URL = (
    r"^" + _SCHEMA + r"?" + _USERNAME + r"?" + r"((" + _URL_IP + r"|(\[" + _IP + r"\])"
    r"|(([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-\.][a-zA-Z0-9]+)*)|(" + _SUBDOMAIN + r"?))?"
    r"(([a-zA-Z\x{00a1}-\x{ffff}0-9]+-?-?)*[a-zA-Z\x{00a1}-\x{ffff}0-9]+)(?:\.([a-zA-Z\x{00a1}-\x{ffff}]{1,}))?))\.?"
    + _PORT
    + r"?"
    + _PATH
    + r"?$"
)


@functools.cache
def _url_regex() -> GoRegex:
    return GoRegex(_URL)


class ParsedURL(NamedTuple):
    scheme: str
    host: str
    path: str


_HOST_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"%")
_USERINFO_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@")
_HEX = frozenset("0123456789abcdefABCDEF")


def _valid_escapes(text: str) -> bool:
    i = text.find("%")
    while i >= 0:
        if len(text) < i + 3 or text[i + 1] not in _HEX or text[i + 2] not in _HEX:
            return False
        i = text.find("%", i + 3)
    return True


def _valid_port(colon_port: str) -> bool:
    return colon_port == "" or (colon_port[0] == ":" and all(c in "0123456789" for c in colon_port[1:]))


def _parse_host(host: str) -> bool:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0 or not _valid_port(host[end + 1 :]):
            return False
    elif (colon := host.rfind(":")) >= 0 and not _valid_port(host[colon:]):
        return False
    return _valid_escapes(host) and all(ord(c) >= 0x80 or c in _HOST_OK for c in host)


def go_url_parse(raw: str) -> ParsedURL | None:
    """Just enough of Go's net/url.Parse to know whether it fails, and the scheme/host/path."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None
    raw, _, fragment = raw.partition("#")
    if not _valid_escapes(fragment):
        return None
    scheme, rest = "", raw
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return None  # "missing protocol scheme"
            scheme, rest = raw[:i].lower(), raw[i + 1 :]
        break
    rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return ParsedURL(scheme, "", "")  # opaque ("mailto:x"): Go checks nothing more
        if ":" in rest.partition("/")[0]:
            return None  # "first path segment in URL cannot contain colon"
    host = ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        if at and not (all(c in _USERINFO_OK for c in userinfo) and _valid_escapes(userinfo)):
            return None
        if not at:
            host = authority
        if not _parse_host(host):
            return None
    if not _valid_escapes(rest):
        return None
    return ParsedURL(scheme, host, rest)


def is_url(value: str) -> bool:
    if (
        not value
        or len(value) >= _MAX_URL_RUNES
        or len(value.encode()) <= _MIN_URL_BYTES
        or value.startswith(".")
    ):
        return False
    probe = "http://" + value if ":" in value and "://" not in value else value
    parsed = go_url_parse(probe)
    if parsed is None or parsed.host.startswith("."):
        return False
    if parsed.host == "" and parsed.path != "" and "." not in parsed.path:
        return False
    return _url_regex().search(value)


def url_host(value: str) -> str:
    """Go's url.URL.Host (with the port), "" when there is none."""
    parsed = go_url_parse(value)
    return parsed.host if parsed else ""


class URLField(DomainListField):
    type: ClassVar[str] = "url"
    invalid = ("validation_invalid_url", "Must be a valid url.")
    format = "uri"
    sample = "https://example.com/page"
    not_allowed = ("validation_url_domain_not_allowed", "Url domain is not allowed.")

    def well_formed(self, text: str) -> bool:
        return is_url(text)

    def domain(self, text: str) -> str:
        return url_host(text)
