"""Stored file names as PocketBase 0.40.6 makes them: the original name's last 300 bytes, its
extension (double ones included, `.tar.gz`) cleaned to `[A-Za-z0-9_.*+=#-]` without leading or
trailing dots (or the detected type's extension when nothing is left; longer than 20 characters:
its last 20), the rest snake-cased to ASCII words (at most 100 characters; under 3, a random part
is appended), then `_`, 10 random `[a-z0-9]` and the extension. Checked against names recorded
from PocketBase (tests/unit/test_file_names.py)."""

from __future__ import annotations

import re
import secrets

from hearth.files import mime

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
MAX_NAME_BYTES = 300  # PocketBase keeps the last 300 bytes of the original name
MAX_BASE = 100
MAX_EXT = 20
# the longest stored name: a 100-character base, `_` + 10 random, `.` + a 20-character extension
MAX_LENGTH = MAX_BASE + 11 + MAX_EXT + 1
_EXT_INVALID = re.compile(r"[^\w.*\-+=#]+", re.ASCII)
_SPLIT = re.compile(r"[^0-9A-Za-z]+")  # Go's `[\W_]+`: \w is ASCII there
_CAMEL = re.compile(r"(?<=[^A-Z])(?=[A-Z])")


def random_part(n: int = 10) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def extract_extension(name: str) -> str:
    """The extension with its dot, double ones included (`.tar.gz`), or ""."""
    primary = name.rfind(".")
    if primary < 0:
        return ""
    secondary = name.rfind(".", 0, primary)
    return name[secondary:] if secondary >= 0 else name[primary:]


def snakecase(text: str) -> str:
    """PocketBase's (inflector) snake case: ASCII letter and digit runs joined by `_` (anything
    else separates words and is dropped), an `_` before an upper-case letter that follows a
    non-upper-case one (`myTestDB` → `my_test_db`), lower-cased."""
    return "_".join(_CAMEL.sub("_", w) for w in _SPLIT.split(text) if w).lower()


def stored_name(original: str, content_type: str = "") -> str:
    raw = original.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_NAME_BYTES:  # cut by bytes, as PocketBase does (a split character is dropped below)
        original = raw[-MAX_NAME_BYTES:].decode("utf-8", "replace")
    ext = extract_extension(original)
    clean_ext = "." + _EXT_INVALID.sub("", ext).strip(".")
    if clean_ext == ".":
        clean_ext = mime.extension(content_type)
    if len(clean_ext) > MAX_EXT:
        clean_ext = "." + clean_ext[-MAX_EXT:].strip(".")
    base = snakecase(original.removesuffix(ext).strip(".") if ext else original.strip("."))
    if len(base) < 3:
        base += random_part()
    elif len(base) > MAX_BASE:
        base = base[:MAX_BASE]
    return f"{base}_{random_part()}{clean_ext}"
