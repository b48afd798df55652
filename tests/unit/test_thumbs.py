"""hearth.files.thumbs: sizes, geometry (PocketBase 0.40.6's, measured with the real binary),
formats, EXIF orientation, refused images, and one render per thumb key."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from hearth.files.local import LocalStorage
from hearth.files.thumbs import ThumbError, Thumbnailer, ThumbSize, allowed_size, render, thumb_key


def picture(fmt: str, size: tuple[int, int], exif_orientation: int = 0) -> bytes:
    im = Image.new("RGB", size, (10, 200, 10))
    buf = io.BytesIO()
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        im.save(buf, fmt, exif=exif)
    else:
        im.save(buf, fmt)
    return buf.getvalue()


def dims(data: bytes) -> tuple[str | None, tuple[int, int]]:
    im = Image.open(io.BytesIO(data))
    return im.format, im.size


def test_sizes() -> None:
    assert ThumbSize.parse("100x100") == ThumbSize(100, 100, "")
    assert ThumbSize.parse("0x50t") == ThumbSize(0, 50, "t")
    for bad in ("0x0", "x1", "1x", "10x10z", "-1x5", "10X10", "1" * 40 + "x1", " 1x1"):
        assert ThumbSize.parse(bad) is None, bad
    assert allowed_size("100x100", []) == ThumbSize(100, 100, "")
    assert allowed_size("50x50", []) is None
    assert allowed_size("50x50", ["50x50"]) == ThumbSize(50, 50, "")
    assert thumb_key("c/r/a.png", "50x50") == "c/r/thumbs_a.png/50x50_a.png"


@pytest.mark.parametrize(
    ("size", "wide", "tall"),
    [
        ("50x50", (50, 50), (50, 50)),
        ("60x0", (60, 40), (60, 200)),
        ("0x60", (90, 60), (18, 60)),
        ("80x40t", (80, 40), (80, 40)),
        ("80x40b", (80, 40), (80, 40)),
        ("80x40f", (60, 40), (12, 40)),
        ("500x500", (500, 500), (500, 500)),
        ("500x0", (500, 333), (500, 1667)),
        ("500x500f", (300, 200), (120, 400)),
        ("20x500f", (20, 13), (20, 66)),  # fit truncates (PocketBase: 66, not 67)
    ],
)
def test_geometry_matches_pocketbase(size: str, wide: tuple[int, int], tall: tuple[int, int]) -> None:
    ts = ThumbSize.parse(size)
    assert ts is not None
    assert dims(render(io.BytesIO(picture("PNG", (300, 200))), "image/png", ts))[1] == wide
    assert dims(render(io.BytesIO(picture("PNG", (120, 400))), "image/png", ts))[1] == tall


def test_formats() -> None:
    ts = ThumbSize(40, 40, "")
    assert dims(render(io.BytesIO(picture("JPEG", (90, 60))), "image/jpeg", ts))[0] == "JPEG"
    assert dims(render(io.BytesIO(picture("GIF", (90, 60))), "image/gif", ts))[0] == "GIF"
    assert dims(render(io.BytesIO(picture("WEBP", (90, 60))), "image/webp", ts))[0] == "PNG"
    assert dims(render(io.BytesIO(picture("JPEG", (90, 60))), "image/jpg", ts))[0] == "PNG"


def test_exif_orientation_is_applied() -> None:
    # stored 300x200, shown turned a quarter: 200x300
    data = picture("JPEG", (300, 200), exif_orientation=6)
    assert dims(render(io.BytesIO(data), "image/jpeg", ThumbSize(60, 0, "")))[1] == (60, 90)


def test_refused_images() -> None:
    with pytest.raises(ThumbError):
        render(io.BytesIO(picture("PNG", (100, 100))), "image/png", ThumbSize(10, 10, ""), max_pixels=9_999)
    with pytest.raises(ThumbError):
        render(io.BytesIO(b"not an image"), "image/png", ThumbSize(10, 10, ""))
    with pytest.raises(ThumbError):
        render(io.BytesIO(picture("PNG", (100, 100))[:60]), "image/png", ThumbSize(10, 10, ""))


async def test_one_render_per_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def one(data: bytes) -> AsyncIterator[bytes]:
        yield data

    await storage.put("c/r/a.png", one(picture("PNG", (300, 200))), "image/png")
    thumbs = Thumbnailer()
    size = ThumbSize(50, 50, "")
    keys = await asyncio.gather(*(thumbs.ensure(storage, "c/r/a.png", "image/png", "50x50", size) for _ in range(8)))
    assert set(keys) == {"c/r/thumbs_a.png/50x50_a.png"}
    assert thumbs.made == 1
    assert await thumbs.ensure(storage, "c/r/a.png", "image/png", "50x50", size) == keys[0]
    assert thumbs.made == 1
    assert (await storage.info(keys[0])).content_type == "image/png"
    assert (tmp_path / "storage/c/r/thumbs_a.png/50x50_a.png.attrs").is_file()
    # a broken original: no thumb, nothing stored
    await storage.put("c/r/b.png", one(b"broken"), "image/png")
    assert await thumbs.ensure(storage, "c/r/b.png", "image/png", "50x50", size) is None
    assert not await storage.exists("c/r/thumbs_b.png/50x50_b.png")


async def test_no_worker_in_time_serves_the_original(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def one(data: bytes) -> AsyncIterator[bytes]:
        yield data

    await storage.put("c/r/a.png", one(picture("PNG", (30, 20))), "image/png")
    thumbs = Thumbnailer(workers=1, max_wait=0.05)
    await thumbs._slots.acquire()  # the only worker is busy
    assert await thumbs.ensure(storage, "c/r/a.png", "image/png", "10x10", ThumbSize(10, 10, "")) is None
    thumbs._slots.release()
    assert await thumbs.ensure(storage, "c/r/a.png", "image/png", "10x10", ThumbSize(10, 10, "")) is not None
