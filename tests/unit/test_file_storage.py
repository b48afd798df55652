"""One contract suite over both storage backends: local disk (PocketBase's layout) and S3, the
latter against a real S3-protocol server (moto's server mode, tests/support/s3_server.py) on
loopback."""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.s3_server import make_bucket, moto_endpoint  # noqa: F401 (re-exported fixture)

from hearth.files import FileNotFound, InvalidKey, Storage
from hearth.files.local import LocalStorage
from hearth.files.s3 import S3Config, S3Storage

# The names other test modules imported from here before the server moved to tests/support.
_make_bucket = make_bucket

PB_STORAGE = Path(__file__).parent / "data" / "pb_storage"
MiB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    st: Storage
    if request.param == "local":
        st = LocalStorage(tmp_path)
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        st = S3Storage(S3Config(bucket=make_bucket(endpoint), region="us-east-1", endpoint=endpoint,
                                access_key="test", secret="test", force_path_style=True))
    yield st
    await st.close()


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


async def read_all(st: Storage, key: str) -> bytes:
    d = await st.open(key)
    return b"".join([c async for c in d.chunks])


KEY = "pbc_123/rec123456789012/hello_abc.txt"


async def test_roundtrip_in_chunks(storage: Storage) -> None:
    size = await storage.put(KEY, chunks_of(b"hello ", b"", b"world"), "text/plain; charset=utf-8")
    assert size == 11
    d = await storage.open(KEY)
    assert d.info.size == 11
    assert d.info.content_type == "text/plain; charset=utf-8"
    assert d.info.key == KEY
    assert d.info.modified.tzinfo is not None
    assert abs(d.info.modified.timestamp() - time.time()) < 60
    assert b"".join([c async for c in d.chunks]) == b"hello world"
    info = await storage.info(KEY)
    assert (info.size, info.content_type) == (11, "text/plain; charset=utf-8")


async def test_large_put_and_get_stream(storage: Storage) -> None:
    """20 MiB go up from a generator of 1 MiB chunks (never joined) and come back in chunks."""
    produced = 0

    async def gen() -> AsyncIterator[bytes]:
        nonlocal produced
        for i in range(20):
            produced += 1
            yield bytes([i]) * MiB

    assert await storage.put("c/r/big.bin", gen()) == 20 * MiB
    assert produced == 20
    d = await storage.open("c/r/big.bin")
    assert d.info.size == 20 * MiB
    total, biggest, n = 0, 0, 0
    async for c in d.chunks:
        total += len(c)
        biggest = max(biggest, len(c))
        n += 1
    assert total == 20 * MiB
    assert n > 1 and biggest < 20 * MiB


async def test_range_reads(storage: Storage) -> None:
    """`open(key, start, end)` streams bytes [start, end) and still describes the whole file."""
    data = bytes(range(256)) * 1024  # 256 KiB: several local chunks
    await storage.put(KEY, chunks_of(data), "application/octet-stream")

    async def part(start: int, end: int | None) -> bytes:
        d = await storage.open(KEY, start, end)
        assert d.info.size == len(data)
        return b"".join([c async for c in d.chunks])

    assert await part(0, 10) == data[:10]
    assert await part(5, 6) == data[5:6]
    assert await part(100_000, None) == data[100_000:]
    assert await part(70_000, 200_000) == data[70_000:200_000]
    assert await part(len(data) - 3, len(data) + 50) == data[-3:]  # past the end: what there is
    assert await part(len(data), None) == b""
    assert await part(10, 10) == b""
    with pytest.raises(FileNotFound):
        await storage.open("c/r/nope.txt", 0, 5)


async def test_exists_delete_overwrite(storage: Storage) -> None:
    assert not await storage.exists(KEY)
    await storage.put(KEY, chunks_of(b"one"), "text/plain")
    assert await storage.exists(KEY)
    await storage.put(KEY, chunks_of(b"second"), "application/json")
    assert await read_all(storage, KEY) == b"second"
    assert (await storage.info(KEY)).content_type == "application/json"
    assert await storage.list("pbc_123") == [KEY]
    await storage.delete(KEY)
    assert not await storage.exists(KEY)
    await storage.delete(KEY)  # a missing file is not an error


async def test_missing_is_not_found(storage: Storage) -> None:
    with pytest.raises(FileNotFound) as e:
        await storage.open("c/r/nope.txt")
    assert "c/r/nope.txt" in str(e.value)
    with pytest.raises(FileNotFound):
        await storage.info("c/r/nope.txt")
    assert isinstance(e.value, FileNotFoundError)


async def test_list_and_delete_prefix(storage: Storage) -> None:
    keys = ["c1/r1/a.txt", "c1/r1/b.png", "c1/r1/thumbs_b.png/10x10_b.png", "c1/r2/a.txt", "c1/r10/z.txt",
            "c2/r1/a.txt"]
    for k in keys:
        await storage.put(k, chunks_of(k.encode()), "text/plain")
    assert await storage.list() == sorted(keys)
    assert await storage.list("c1/r1") == ["c1/r1/a.txt", "c1/r1/b.png", "c1/r1/thumbs_b.png/10x10_b.png"]
    assert await storage.list("c1/r1/") == await storage.list("c1/r1")
    assert await storage.list("c1/r1/thumbs_b.png") == ["c1/r1/thumbs_b.png/10x10_b.png"]
    assert await storage.list("c3") == []
    await storage.delete_prefix("c1/r1")
    assert await storage.list() == ["c1/r10/z.txt", "c1/r2/a.txt", "c2/r1/a.txt"]
    await storage.delete_prefix("c1")
    assert await storage.list() == ["c2/r1/a.txt"]
    await storage.delete_prefix("nothing/here")


BAD_KEYS = ["", "/abs/x.txt", "a/../b.txt", "..", "a/./b", "a//b.txt", "a/b/", "a\\b.txt", "C:/x", "a/.hidden",
            "a/b\x00c"]


@pytest.mark.parametrize("bad", BAD_KEYS)
async def test_bad_keys_refused(storage: Storage, bad: str) -> None:
    with pytest.raises(InvalidKey):
        await storage.put(bad, chunks_of(b"x"), "text/plain")
    with pytest.raises(InvalidKey):
        await storage.open(bad)
    with pytest.raises(InvalidKey):
        await storage.exists(bad)
    with pytest.raises(InvalidKey):
        await storage.delete(bad)
    if bad not in ("", "a/b/"):  # these two are valid prefixes: everything, and a/b
        with pytest.raises(InvalidKey):
            await storage.list(bad)


async def test_bad_prefixes_refused(storage: Storage) -> None:
    for bad in ["", "/", "../x", "a/../b"]:
        with pytest.raises(InvalidKey):
            await storage.delete_prefix(bad)


# Local only: PocketBase's own layout and sidecars.

PB_DIR = "pbc_1985629191/lqsm4nj5j7wdmq4"


async def test_local_reads_a_pocketbase_storage_dir(tmp_path: Path) -> None:
    shutil.copytree(PB_STORAGE, tmp_path / "storage")
    st = LocalStorage(tmp_path)
    assert await st.list() == [
        f"{PB_DIR}/hello_on54conrbg.txt",
        f"{PB_DIR}/img_pxyei9d9s9.png",
        f"{PB_DIR}/thumbs_img_pxyei9d9s9.png/10x10_img_pxyei9d9s9.png",
    ]
    d = await st.open(f"{PB_DIR}/hello_on54conrbg.txt")
    assert d.info.content_type == "text/plain; charset=utf-8"
    assert b"".join([c async for c in d.chunks]) == b"hello world\n"
    assert (await st.info(f"{PB_DIR}/img_pxyei9d9s9.png")).content_type == "image/png"


async def test_local_writes_attrs_as_pocketbase(tmp_path: Path) -> None:
    st = LocalStorage(tmp_path)
    await st.put(f"{PB_DIR}/hello_on54conrbg.txt", chunks_of(b"hello ", b"world\n"), "text/plain; charset=utf-8",
                 original_name="hello.txt")
    written = (tmp_path / "storage" / PB_DIR / "hello_on54conrbg.txt.attrs").read_bytes()
    assert written == (PB_STORAGE / PB_DIR / "hello_on54conrbg.txt.attrs").read_bytes()
    assert sorted(p.name for p in (tmp_path / "storage" / PB_DIR).iterdir()) == [
        "hello_on54conrbg.txt", "hello_on54conrbg.txt.attrs"]  # no temporary file left


async def test_local_without_attrs(tmp_path: Path) -> None:
    p = tmp_path / "storage" / "c" / "r"
    p.mkdir(parents=True)
    (p / "photo.png").write_bytes(b"\x89PNG")
    (p / "blob").write_bytes(b"x")
    (p / "broken.txt").write_bytes(b"y")
    (p / "broken.txt.attrs").write_bytes(b"{not json")
    st = LocalStorage(tmp_path)
    assert (await st.info("c/r/photo.png")).content_type == "image/png"
    assert (await st.info("c/r/blob")).content_type == "application/octet-stream"
    assert (await st.info("c/r/broken.txt")).content_type == "text/plain"
    assert await read_all(st, "c/r/photo.png") == b"\x89PNG"
    await st.delete("c/r/broken.txt")
    assert not (p / "broken.txt.attrs").exists()


async def test_local_failed_upload_leaves_nothing(tmp_path: Path) -> None:
    st = LocalStorage(tmp_path)
    await st.put("c/r/f.txt", chunks_of(b"old"), "text/plain")

    async def failing() -> AsyncIterator[bytes]:
        yield b"new"
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await st.put("c/r/f.txt", failing(), "text/plain")
    assert await read_all(st, "c/r/f.txt") == b"old"
    assert sorted(x.name for x in (tmp_path / "storage" / "c" / "r").iterdir()) == ["f.txt", "f.txt.attrs"]


def test_s3_config_from_pocketbase_settings() -> None:
    cfg = S3Config.from_settings({"enabled": True, "bucket": "b", "region": "r", "endpoint": "e",
                                  "accessKey": "k", "secret": "s", "forcePathStyle": True})
    assert cfg == S3Config(bucket="b", region="r", endpoint="e", access_key="k", secret="s",
                           force_path_style=True, enabled=True)
