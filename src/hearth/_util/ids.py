"""Random identifiers in PocketBase's alphabets."""

from __future__ import annotations

import os
import re
import zlib

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
RECORD_ID_LENGTH = 15


def random_string(length: int, alphabet: str = ALNUM) -> str:
    """Uniform random characters from the OS CSPRNG (rejection sampling keeps it unbiased)."""
    size = len(alphabet)
    limit = 256 - (256 % size)
    out: list[str] = []
    while len(out) < length:
        for b in os.urandom(length * 2):
            if b < limit:
                out.append(alphabet[b % size])
                if len(out) == length:
                    break
    return "".join(out)


def record_ids(count: int) -> list[str]:
    """`count` record ids at once (one CSPRNG read for all: request logs write them by the
    hundred), distributed as record_id's."""
    size = len(LOWER_ALNUM)
    limit = 256 - (256 % size)
    chars: list[str] = []
    need = count * RECORD_ID_LENGTH
    while len(chars) < need:
        chars.extend(LOWER_ALNUM[b % size] for b in os.urandom(need - len(chars) + 16) if b < limit)
    return ["".join(chars[i : i + RECORD_ID_LENGTH]) for i in range(0, need, RECORD_ID_LENGTH)]


_SIMPLE_PATTERN = re.compile(r"^\[((?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9_])+)\]\{(\d{1,4})\}$")


def simple_pattern_alphabet(pattern: str) -> tuple[str, int] | None:
    """`[a-z0-9]{15}`-style patterns → (alphabet, length), the fast path of autogenerate."""
    m = _SIMPLE_PATTERN.match(pattern)
    if not m:
        return None
    body, count = m.group(1), int(m.group(2))
    chars: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = ord(body[i]), ord(body[i + 2])
            if lo > hi:
                return None
            chars.extend(chr(c) for c in range(lo, hi + 1))
            i += 3
        else:
            chars.append(body[i])
            i += 1
    alphabet = "".join(dict.fromkeys(chars))
    return (alphabet, count) if alphabet and count > 0 else None


def record_id() -> str:
    return random_string(RECORD_ID_LENGTH, LOWER_ALNUM)


def checksum_id(prefix: str, text: str) -> str:
    """PocketBase's deterministic ids: prefix + crc32 (decimal) of the text."""
    return f"{prefix}{zlib.crc32(text.encode())}"
