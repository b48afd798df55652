"""The two bcrypt backends (libxcrypt through ctypes, the `bcrypt` package) read each other's
hashes, and Go's (`$2a$`, as PocketBase writes them), with the same answers for the odd inputs."""

from __future__ import annotations

import bcrypt
import pytest

from hearth._util import passwords

# Written by PocketBase 0.40.6 (`pocketbase superuser upsert a@b.co 1234567890`, Go's bcrypt).
GO_HASH = "$2a$10$6izl5INPwjrd.fc05c0Oa.Bn00D7i7X/mpNGCegdCgJWwBMj/avmi"


def test_the_c_library_is_used_here() -> None:
    # CI runs on Debian, where libxcrypt is part of the base system: the fast path is taken.
    assert passwords._LIBXCRYPT is not None


@pytest.mark.parametrize("plain", ["s3cret-Pass", "ünïcødé ✓", "x" * 72, "y" * 100, " lead and trail "])
def test_each_backend_reads_the_others_hashes(plain: str) -> None:
    ours = passwords.hash_now(plain, 4)
    assert ours.startswith("$2b$04$") and len(ours) == 60
    assert bcrypt.checkpw(plain.encode()[:72], ours.encode())
    theirs = bcrypt.hashpw(plain.encode()[:72], bcrypt.gensalt(4)).decode()
    assert passwords.verify_now(plain, theirs)
    assert not passwords.verify_now(plain + "!" if len(plain.encode()) < 72 else "z" + plain, theirs)
    assert passwords.hash_now(plain, 4) != ours  # a new salt each time


def test_only_the_first_72_bytes_count() -> None:
    h = passwords.hash_now("a" * 72 + "tail-one", 4)
    assert passwords.verify_now("a" * 72 + "tail-two", h)
    assert not passwords.verify_now("a" * 71, h)


def test_go_and_2y_hashes_verify() -> None:
    assert passwords.verify_now("1234567890", GO_HASH)
    assert not passwords.verify_now("1234567891", GO_HASH)
    y = "$2y$" + bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()[4:]
    assert passwords.verify_now("pw", y) and not passwords.verify_now("pW", y)


def test_nul_bytes_are_part_of_the_password() -> None:
    # A C string would end at the NUL: "a\0b" must not match a hash of "a".
    h = passwords.hash_now("a\x00b", 4)
    assert passwords.verify_now("a\x00b", h)
    assert not passwords.verify_now("a", h) and not passwords.verify_now("a\x00c", h)
    assert not passwords.verify_now("a\x00b", passwords.hash_now("a", 4))


@pytest.mark.parametrize("stored", ["", "plain", "$2b$10$short", "$2b$99$" + "a" * 53, "$1$abc$def", "*0", "$2b$10$" + "!" * 53])
def test_malformed_hashes_never_match(stored: str) -> None:
    assert passwords.verify_now("anything", stored) is False


async def test_the_async_api_and_the_dummy_for_unknown_users() -> None:
    h = await passwords.hash_password("pw-123456", 4)
    assert await passwords.verify_password("pw-123456", h, 4)
    assert not await passwords.verify_password("pw-123456", None, 4)  # the dummy never admits
