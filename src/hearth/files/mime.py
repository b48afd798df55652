"""Content type detection from a file's first bytes, as PocketBase 0.40.6 does it.

PocketBase never trusts the client's claim: it detects the type from the first 3072 bytes with
Go's `gabriel-vasile/mimetype` (v1.4.13), stores it (the `.attrs` sidecar's `content_type`),
validates a field's `mimeTypes` against it (`Is`: the type or one of its aliases, parameters
ignored, no parents, no wildcards) and names extension-less files after it.

`detect` answers the same strings for the formats of the recorded corpus (tests/unit/file_corpus.py,
tests/unit/data/file_types/pocketbase.json) and for a table of further common formats; anything
else is `application/octet-stream` (binary) or `text/plain; charset=…` (text), as in PocketBase.
Why a hand-written table and not a library: docs/files.md, "Content types and names".
"""

from __future__ import annotations

import csv
import json
import re
import struct

HEAD_SIZE = 3072  # what PocketBase's detector reads
DEFAULT = "application/octet-stream"

# base type → (extension, aliases), PocketBase's (mimetype's) names.
_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    DEFAULT: ("", ()),
    "text/plain": (".txt", ()),
    "text/html": (".html", ()),
    "text/xml": (".xml", ("application/xml",)),
    "application/xhtml+xml": (".html", ()),
    "application/rss+xml": (".rss", ("text/rss",)),
    "application/atom+xml": (".atom", ()),
    "image/svg+xml": (".svg", ()),
    "application/json": (".json", ()),
    "text/csv": (".csv", ()),
    "text/tab-separated-values": (".tsv", ()),
    "text/rtf": (".rtf", ("application/rtf",)),
    "text/javascript": (".js", ("application/x-javascript", "application/javascript")),
    "text/x-python": (".py", ("text/x-script.python", "application/x-python")),
    "text/x-shellscript": (".sh", ("text/x-sh", "application/x-shellscript", "application/x-sh")),
    "text/x-php": (".php", ()),
    "text/vcard": (".vcf", ()),
    "text/calendar": (".ics", ()),
    "image/png": (".png", ()),
    "image/vnd.mozilla.apng": (".png", ()),
    "image/jpeg": (".jpg", ()),
    "image/gif": (".gif", ()),
    "image/webp": (".webp", ()),
    "image/bmp": (".bmp", ("image/x-bmp", "image/x-ms-bmp")),
    "image/tiff": (".tiff", ()),
    "image/x-icon": (".ico", ()),
    "image/vnd.adobe.photoshop": (".psd", ("image/x-psd", "application/photoshop")),
    "image/avif": (".avif", ()),
    "image/heic": (".heic", ()),
    "image/heif": (".heif", ()),
    "image/jxl": (".jxl", ()),
    "application/pdf": (".pdf", ("application/x-pdf",)),
    "application/postscript": (".ps", ()),
    "application/zip": (".zip", ("application/x-zip", "application/x-zip-compressed")),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx", ()),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx", ()),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx", ()),
    "application/epub+zip": (".epub", ()),
    "application/vnd.oasis.opendocument.text": (".odt", ()),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods", ()),
    "application/vnd.oasis.opendocument.presentation": (".odp", ()),
    "application/java-archive": (".jar", ("application/jar", "application/jar-archive", "application/x-java-archive")),
    "application/gzip": (".gz", ("application/x-gzip", "application/x-gunzip", "application/gzipped",
                                 "application/gzip-compressed", "application/x-gzip-compressed", "gzip/document")),
    "application/x-tar": (".tar", ()),
    "application/x-bzip2": (".bz2", ()),
    "application/x-xz": (".xz", ()),
    "application/zstd": (".zst", ()),
    "application/x-7z-compressed": (".7z", ()),
    "application/x-rar-compressed": (".rar", ()),
    "application/vnd.sqlite3": (".sqlite", ()),
    "application/wasm": (".wasm", ()),
    "application/x-elf": ("", ()),
    "application/x-object": ("", ()),
    "application/x-executable": ("", ()),
    "application/x-sharedlib": (".so", ()),
    "application/x-coredump": ("", ()),
    "application/vnd.microsoft.portable-executable": (".exe", ()),
    "application/ogg": (".ogg", ("application/x-ogg",)),
    "audio/ogg": (".oga", ()),
    "video/ogg": (".ogv", ()),
    "audio/mpeg": (".mp3", ("audio/x-mpeg", "audio/mp3")),
    "audio/flac": (".flac", ()),
    "audio/wav": (".wav", ("audio/x-wav", "audio/vnd.wave", "audio/wave")),
    "audio/aiff": (".aiff", ("audio/x-aiff",)),
    "audio/x-m4a": (".m4a", ()),
    "video/mp4": (".mp4", ()),
    "video/quicktime": (".mov", ()),
    "video/webm": (".webm", ("audio/webm",)),
    "video/x-matroska": (".mkv", ()),
    "video/x-msvideo": (".avi", ("video/avi", "video/msvideo")),
    "video/x-flv": (".flv", ()),
    "font/woff": (".woff", ()),
    "font/woff2": (".woff2", ()),
    "font/otf": (".otf", ()),
}

# Fixed prefixes (checked in order, after the container formats below).
_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"%!PS-Adobe-", "application/postscript"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"\x1f\x8b\x08", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"(\xb5/\xfd", "application/zstd"),
    (b"7z\xbc\xaf'\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/x-rar-compressed"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (b"\x00asm", "application/wasm"),
    (b"fLaC", "audio/flac"),
    (b"FLV\x01", "video/x-flv"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"OTTO", "font/otf"),
    (b"{\\rtf", "text/rtf"),
)

_ELF_TYPES = {1: "application/x-object", 2: "application/x-executable", 3: "application/x-sharedlib",
              4: "application/x-coredump"}
_MP4_BRANDS = {b"avif": "image/avif", b"avis": "image/avif", b"heic": "image/heic", b"heix": "image/heic",
               b"mif1": "image/heif", b"M4A ": "audio/x-m4a", b"qt  ": "video/quicktime"}
_ZIP_OFFICE = ((b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
               (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
               (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"))
_ZIP_MIMETYPE = (b"application/epub+zip", b"application/vnd.oasis.opendocument.text",
                 b"application/vnd.oasis.opendocument.spreadsheet", b"application/vnd.oasis.opendocument.presentation")
_OFFICE_FIRST = (b"_rels/", b"docProps/", b"customXml/", b"[trash]/")


def _zip(head: bytes) -> str:
    if head[30:38] == b"mimetype":
        for declared in _ZIP_MIMETYPE:
            if head[38:38 + len(declared)] == declared:
                return declared.decode()
    names: list[bytes] = []
    at = head.find(b"PK\x03\x04")
    while at >= 0 and len(names) < 100 and at + 30 <= len(head):
        (n,) = struct.unpack_from("<H", head, at + 26)
        if at + 30 + n > len(head):
            break
        names.append(head[at + 30:at + 30 + n])
        at = head.find(b"PK\x03\x04", at + 30 + n)
    if names and (names[0] == b"[Content_Types].xml" or names[0].startswith(_OFFICE_FIRST)):
        for name in names:
            for prefix, office in _ZIP_OFFICE:
                if name.startswith(prefix):
                    return office
    if any(n in (b"META-INF/", b"META-INF/MANIFEST.MF") for n in names[:1]):
        return "application/java-archive"
    return "application/zip"


def _tar(head: bytes) -> bool:
    if len(head) < 512:
        return False
    field = head[148:156].split(b"\x00", 1)[0].strip(b" ")
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    block = head[:148] + b" " * 8 + head[156:512]
    return stored in (sum(block), sum(b - 256 if b > 127 else b for b in block))


_MP3_KBPS = {3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_sync(head: bytes, at: int) -> bool:
    return len(head) > at + 1 and head[at] == 0xFF and head[at + 1] & 0xE0 == 0xE0


def _mp3(head: bytes) -> bool:
    """An ID3 tag, or an MPEG layer III frame header whose next frame starts where it should
    (a lone sync-like pair, such as a UTF-16 BOM, is not audio)."""
    if head.startswith(b"ID3"):
        return True
    if len(head) < 4 or not _mp3_sync(head, 0):
        return False
    version, layer = head[1] >> 3 & 3, head[1] >> 1 & 3
    rate_index, kbps_index = head[2] >> 2 & 3, head[2] >> 4
    if version == 1 or layer != 1 or rate_index == 3 or kbps_index in (0, 15):
        return False
    kbps = _MP3_KBPS[3 if version == 3 else 2][kbps_index]
    rate = _MP3_RATES[version][rate_index]
    size = (144 if version == 3 else 72) * kbps * 1000 // rate + (head[2] >> 1 & 1)
    return size >= len(head) - 1 or _mp3_sync(head, size)


def _binary(head: bytes) -> str | None:
    if head[:2] == b"PK" and len(head) > 3 and head[2] in (3, 5, 7) and head[3] in (4, 6, 8):
        return _zip(head)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/vnd.mozilla.apng" if head[37:41] == b"acTL" else "image/png"
    if head.startswith(b"OggS") and len(head) > 28:
        body = head[28:]
        if body.startswith((b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")):
            return "audio/ogg"
        if body.startswith((b"\x80theora", b"fishead\x00", b"\x01video\x00\x00\x00")):
            return "video/ogg"
        return "application/ogg"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12])
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head.startswith(b"\x7fELF"):
        if len(head) > 17:
            e_type = head[16] | head[17] << 8 if head[5] == 1 else head[17] | head[16] << 8
            return _ELF_TYPES.get(e_type, "application/x-elf")
        return "application/x-elf"
    if head.startswith(b"MZ"):
        return "application/vnd.microsoft.portable-executable"
    for prefix, kind in _PREFIXES:
        if head.startswith(prefix):
            return kind
    if _tar(head):
        return "application/x-tar"
    if head.startswith(b"BM") and len(head) > 14:
        return "image/bmp"
    if head.startswith(b"\x00\x00\x01\x00") and len(head) > 6:
        return "image/x-icon"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _MP4_BRANDS.get(head[8:12], "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:4096]:
            return "video/webm"
        if b"matroska" in head[:4096]:
            return "video/x-matroska"
    if _mp3(head):
        return "audio/mpeg"
    return None


# --- text --------------------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\x00\x00\xfe\xff", "utf-32be"), (b"\xff\xfe\x00\x00", "utf-32le"),
         (b"\xfe\xff", "utf-16be"), (b"\xff\xfe", "utf-16le"))
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_ASCII_TEXT = re.compile(rb"[\x07-\x0d\x1b\x20-\x7e]*\Z")
_LATIN_TEXT = re.compile(rb"[\x07-\x0d\x1b\x20-\x7e\x85\xa0-\xff]*\Z")
_HTML_TAGS = (b"!DOCTYPE HTML", b"HTML", b"HEAD", b"SCRIPT", b"IFRAME", b"H1", b"DIV", b"FONT", b"TABLE", b"A",
              b"STYLE", b"TITLE", b"B", b"BODY", b"BR", b"P", b"!--")
_HTML = re.compile(rb"<(" + b"|".join(re.escape(t) for t in _HTML_TAGS) + rb")[\t\n\x0c\r >]", re.IGNORECASE)
_XML = re.compile(rb"<\?xml[\t\n\x0c\r >]", re.IGNORECASE)
_WS = b"\t\n\x0b\x0c\r "
_COMMENTS = re.compile(rb"(\s*<!--.*?-->)*\s*", re.DOTALL)
_SVG_NS = re.compile(rb"""<svg\b[^>]*?\sxmlns\s*=\s*(["'])http://www\.w3\.org/2000/svg\1""", re.DOTALL)
_XML_DECL_VERSION = re.compile(rb"<\?xml[^>]*?\sversion\s*=", re.DOTALL)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?\sencoding\s*=\s*(["']?)([^"'\s?>]+)\1""", re.DOTALL | re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[\s/][^>]*?charset\s*=\s*["']?([^"'\s/>;]+)""", re.IGNORECASE | re.DOTALL)
_BODY = re.compile(rb"<body[\s>]", re.IGNORECASE)
_XHTML = re.compile(rb"<!DOCTYPE\s+HTML|<HTML\s+XMLNS=", re.IGNORECASE)
_SHEBANGS: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"(/usr)?(/local)?/bin/(env (-S )?)?php"), "text/x-php"),
    (re.compile(rb"(/usr)?/bin/(env (-S )?)?node(js)?"), "text/javascript"),
    (re.compile(rb"(/usr)?(/local)?/bin/(env (-S )?)?python[23]?"), "text/x-python"),
    (re.compile(rb"(/usr)?(/local)?/bin/(env (-S )?)?(ba|c|da|k|tc|z)?sh\b"), "text/x-shellscript"),
)


def _charset_plain(text: bytes) -> str:
    if not text:
        return ""
    for bom, name in _BOMS:
        if text.startswith(bom):
            return name
    cut = text
    for i in range(len(text) - 1, max(len(text) - 4, -1), -1):  # a rune cut at the end is not an error
        if text[i] < 0x80:
            break
        if text[i] & 0xC0 != 0x80:
            cut = text[:i]
            break
    if _ASCII_TEXT.match(cut):
        return "utf-8"
    try:
        cut.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if not _LATIN_TEXT.match(text):
        return ""
    return "windows-1252" if re.search(rb"[\x80-\x9f]", text) else "iso-8859-1"


def _charset_html(text: bytes) -> str:
    for bom, name in _BOMS:
        if text.startswith(bom):
            return name
    body = _BODY.search(text)
    meta = _META_CHARSET.search(text, 0, body.start() if body else len(text))
    if meta:
        return meta.group(1).decode("latin-1").lower()
    return _charset_plain(text)


def _charset_xml(text: bytes) -> str:
    enc = _XML_ENCODING.search(text)
    return enc.group(2).decode("latin-1") if enc else _charset_plain(text)


def _json(head: bytes) -> bool:
    text = head.strip(_WS)
    if not text or text[:1] not in b"{[":
        return False
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError) as exc:
        # a head cut off by the read limit passes when it is valid as far as it goes
        return len(head) >= HEAD_SIZE and isinstance(exc, json.JSONDecodeError) and exc.pos >= len(text.decode("utf-8", "replace")) - 1


def _delimited(head: bytes, sep: str) -> bool:
    if sep.encode() not in head:
        return False
    lines = head.decode("utf-8", "replace").splitlines()
    if len(head) >= HEAD_SIZE and lines:
        lines = lines[:-1]  # the last line may be cut
    try:
        rows = [r for r in csv.reader(lines, delimiter=sep) if r]
    except csv.Error:
        return False
    return len(rows) >= 2 and len(rows[0]) > 1 and all(len(r) == len(rows[0]) for r in rows)


def _text_kind(head: bytes) -> str:
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    lead = body.lstrip(_WS)
    after_comments = head[_COMMENTS.match(head).end():]  # type: ignore[union-attr]
    if after_comments.startswith(b"<svg") and _SVG_NS.match(after_comments):
        return "image/svg+xml"
    if lead.startswith(b"<?xml") and _XML_DECL_VERSION.match(lead) and b"<svg" in lead[:4096]:
        return "image/svg+xml"
    if _HTML.match(lead):
        return "text/html"
    if _XML.match(lead):
        if b"<rss" in lead[1:512]:
            return "application/rss+xml"
        feed = lead[:512].find(b"<feed")
        if feed != -1 and feed < lead[:512].find(b'xmlns="http://www.w3.org/2005/Atom"'):
            return "application/atom+xml"
        if _XHTML.search(lead[:1024]):
            return "application/xhtml+xml"
        return "text/xml"
    if head[:5].upper() == b"<?PHP" or head.startswith((b"<?\n", b"<?\r", b"<? ")):
        return "text/x-php"
    if head.startswith(b"#!"):
        line = head[2:].split(b"\n", 1)[0].strip(_WS)
        line = re.sub(rb"\s+", b" ", line)
        for pattern, kind in _SHEBANGS:
            if pattern.match(line):
                return kind
    if _json(head):
        return "application/json"
    if head.startswith(b"{\\rtf"):
        return "text/rtf"
    if _delimited(head, ","):
        return "text/csv"
    if _delimited(head, "\t"):
        return "text/tab-separated-values"
    upper = head[:17].upper()
    if upper.startswith((b"BEGIN:VCARD\n", b"BEGIN:VCARD\r\n")):
        return "text/vcard"
    if upper.startswith((b"BEGIN:VCALENDAR\n", b"BEGIN:VCALENDAR\r\n")):
        return "text/calendar"
    return "text/plain"


def detect(head: bytes) -> str:
    """The content type PocketBase stores for a file whose content starts with `head` (at least
    its first HEAD_SIZE bytes, or all of a shorter file)."""
    head = head[:HEAD_SIZE]
    kind = _binary(head)
    if kind is not None:
        return kind
    if not head.startswith(tuple(b for b, _ in _BOMS)) and _CONTROL.search(head):
        return DEFAULT
    kind = _text_kind(head)
    charset_of = {"text/plain": _charset_plain, "text/html": _charset_html, "text/xml": _charset_xml}.get(kind)
    if charset_of is not None and (charset := charset_of(head[:1024])):
        return f"{kind}; charset={charset}"
    return kind


def _base(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def extension(content_type: str) -> str:
    """The extension (with its dot) PocketBase gives a detected type, or ""."""
    entry = _TYPES.get(_base(content_type))
    return entry[0] if entry else ""


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+(/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?\Z")


def matches(content_type: str, allowed: list[str]) -> bool:
    """Whether a detected type passes a field's `mimeTypes`: one of them names the type or one of
    its aliases (case, surrounding space and parameters such as the charset aside). A parent type
    does not count (a .docx is not `application/zip`, an SVG not `text/xml`), nor does a wildcard."""
    found = _base(content_type)
    names = {found, *_TYPES.get(found, ("", ()))[1]}
    for item in allowed:
        want = _base(item)
        if _TOKEN.match(want) and want in names:
            return True
    return False
