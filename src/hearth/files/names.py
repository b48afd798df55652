"""Stored file names as PocketBase makes them: the original name sanitized (snake case, at most
100 characters, at least 3), a `_` and 10 random `[a-z0-9]`, then the cleaned extension (or one
from the detected type when the name has none)."""

from __future__ import annotations

import re
import secrets

from hearth.files import mime

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_EXT_INVALID = re.compile(r"[^\w.*\-+=#]+", re.ASCII)
_NOT_WORD = re.compile(r"[^0-9A-Za-z_]+")


def random_part(n: int = 10) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _extension(name: str) -> str:
    """The extension with its dot, double ones included (`.tar.gz`), or ""."""
    primary = name.rfind(".")
    if primary < 0:
        return ""
    secondary = name.rfind(".", 0, primary)
    return name[secondary:] if secondary >= 0 else name[primary:]


def _snake(text: str) -> str:
    words = [w for w in _NOT_WORD.split(text) if w]
    return "_".join(words).lower()


def stored_name(original: str, content_type: str = "") -> str:
    original = original[-300:]
    ext = _extension(original)
    clean_ext = "." + _EXT_INVALID.sub("", ext).strip(".")
    if clean_ext == ".":
        clean_ext = mime.extension(content_type)
    if len(clean_ext) > 20:
        clean_ext = "." + clean_ext[-20:].strip(".")
    base = _snake(original.removesuffix(ext).strip(".") if ext else original.strip("."))
    if len(base) < 3:
        base += random_part()
    elif len(base) > 100:
        base = base[:100]
    return f"{base}_{random_part()}{clean_ext}"
