"""Random identifiers in PocketBase's alphabets."""

from __future__ import annotations

import secrets
import zlib

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
RECORD_ID_LENGTH = 15


def random_string(length: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def record_id() -> str:
    return random_string(RECORD_ID_LENGTH, LOWER_ALNUM)


def checksum_id(prefix: str, text: str) -> str:
    """PocketBase's deterministic ids: prefix + crc32 (decimal) of the text."""
    return f"{prefix}{zlib.crc32(text.encode())}"
