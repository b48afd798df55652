"""Password hashing with bcrypt, as PocketBase stores it, off the event loop.

bcrypt keeps PocketBase data imports working unchanged (their hashes verify as they are).
Hashing takes tens of milliseconds, so it runs in a small thread pool (both backends below
release the GIL).

The C library's bcrypt (libxcrypt, `libcrypt.so.1`, on every glibc system) is used when present:
a cost-10 check takes 50 ms there against 59 ms with the `bcrypt` package (5.0, Rust), and
sign-ins are bound by that cost (docs/performance.md). Passwords holding NUL bytes, which a C
string cannot carry, and systems without libxcrypt use the `bcrypt` package; both read and write
the same `$2a$`/`$2b$` hashes (tests/unit/test_passwords.py).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hmac
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt

DEFAULT_COST = 10  # PocketBase's default (bcrypt.DefaultCost)
MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything longer

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hearth-hash")
# Fixed hashes to verify against when the identity is unknown, so both paths take the same
# time: one per cost, made on first use (a collection may set its own cost).
_DUMMY_HASHES: dict[int, str] = {}


def _dummy(cost: int) -> str:
    if cost not in _DUMMY_HASHES:
        _DUMMY_HASHES[cost] = hash_now(b"hearth-dummy-password", cost)
    return _DUMMY_HASHES[cost]


class _LibXCrypt:
    """`crypt_rn` of libxcrypt: thread-safe with a buffer per thread (ctypes drops the GIL)."""

    DATA_SIZE = 32768  # sizeof(struct crypt_data) in libxcrypt

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.fn = lib.crypt_rn
        self.fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
        self.fn.restype = ctypes.c_char_p
        self.local = threading.local()

    def crypt(self, phrase: bytes, setting: bytes) -> bytes | None:
        buf = getattr(self.local, "buf", None)
        if buf is None:
            buf = self.local.buf = ctypes.create_string_buffer(self.DATA_SIZE)
        out = self.fn(phrase, setting, buf, self.DATA_SIZE)
        # A failed call answers NULL or a string starting with "*".
        return out if out and not out.startswith(b"*") else None


def _load_libxcrypt() -> _LibXCrypt | None:
    name = ctypes.util.find_library("crypt")
    try:
        lib = _LibXCrypt(ctypes.CDLL(name)) if name else None
        if lib is None:
            return None
        probe = bcrypt.hashpw(b"probe", bcrypt.gensalt(4))
        return lib if lib.crypt(b"probe", probe) == probe else None  # a libcrypt without bcrypt
    except (OSError, AttributeError):
        return None


_LIBXCRYPT = _load_libxcrypt()


def hash_now(password: str | bytes, cost: int) -> str:
    """The bcrypt hash of `password` (its first 72 bytes), blocking."""
    plain = (password.encode() if isinstance(password, str) else password)[:MAX_PASSWORD_BYTES]
    setting = bcrypt.gensalt(cost)
    if _LIBXCRYPT is not None and b"\0" not in plain:
        out = _LIBXCRYPT.crypt(plain, setting)
        if out is not None:
            return out.decode()
    return bcrypt.hashpw(plain, setting).decode()


def verify_now(password: str | bytes, hashed: str) -> bool:
    """Whether `password` matches the bcrypt hash `hashed` (False for a malformed one), blocking."""
    plain = (password.encode() if isinstance(password, str) else password)[:MAX_PASSWORD_BYTES]
    stored = hashed.encode()
    if _LIBXCRYPT is not None and b"\0" not in plain and stored.startswith((b"$2a$", b"$2b$", b"$2y$")):
        out = _LIBXCRYPT.crypt(plain, stored)
        return out is not None and hmac.compare_digest(out, stored)
    try:
        return bcrypt.checkpw(plain, stored)
    except ValueError:
        return False


async def hash_password(password: str, cost: int = 0) -> str:
    cost = cost if 4 <= cost <= 31 else DEFAULT_COST
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_now, password, cost)


async def verify_password(password: str, hashed: str | None, cost: int = 0) -> bool:
    """Constant work whether or not the record exists (`hashed` None verifies a dummy of the
    field's `cost`)."""
    cost = cost if 4 <= cost <= 31 else DEFAULT_COST
    loop = asyncio.get_running_loop()
    target = hashed if hashed else await loop.run_in_executor(_pool, _dummy, cost)
    ok = await loop.run_in_executor(_pool, verify_now, password, target)
    return ok and hashed is not None
