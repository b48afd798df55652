"""Content type detection from a file's first bytes (PocketBase detects, it never trusts the
client's claim). `detect` answers the type PocketBase would store for the same content."""

from __future__ import annotations

HEAD_SIZE = 3072  # what PocketBase's detector reads
DEFAULT = "application/octet-stream"

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def detect(head: bytes) -> str:
    for sig, ctype in _SIGNATURES:
        if head.startswith(sig):
            return ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if not head or b"\x00" in head:
        return DEFAULT if head else "text/plain"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return DEFAULT
    return "text/plain; charset=utf-8"


def extension(content_type: str) -> str:
    """The usual extension (with its dot) for a detected type, or ""."""
    return {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "application/pdf": ".pdf",
        "text/plain; charset=utf-8": ".txt",
    }.get(content_type, "")


def matches(content_type: str, allowed: list[str]) -> bool:
    """Whether a detected type is one of a field's `mimeTypes` (parameters such as the charset
    are not compared)."""
    base = content_type.split(";", 1)[0].strip().lower()
    return any(base == a.split(";", 1)[0].strip().lower() for a in allowed)
