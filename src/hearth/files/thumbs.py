"""Thumbnails of image files, made once and kept in storage beside the original.

Sizes as PocketBase names them (measured against PocketBase 0.40.6 for each kind):
- `WxH`: fill the box and crop from the center; `WxHt` / `WxHb`: crop from the top / bottom;
- `WxHf`: fit inside the box without cropping (never enlarged);
- `Wx0` / `0xH`: that width / height, the other side keeping the aspect ratio.
Fills and the `0` sizes enlarge a smaller original, as PocketBase does.

Only PNG, JPEG, GIF and WebP originals get thumbnails. The thumb keeps the original's format for
JPEG and GIF (first frame); every other kind becomes a PNG, WebP included (PocketBase's choice: its
thumb of `x.webp` is a PNG still named `100x100_x.webp`). The EXIF orientation is applied.

Decoding runs in a worker thread (`asyncio.to_thread`), a few at a time (a thumb that waits more
than `MAX_WAIT` for a worker is given up: the original is served), and never for an image
of more than `MAX_PIXELS` pixels (a small file can declare a huge canvas: a decompression bomb);
such an image, or one that does not decode, gets no thumb and the original is served, which is
what PocketBase answers too (its thumb fails and it falls back to the original).
Concurrent first requests for one thumb make it once (one task per thumb key); `Storage.put`
writes atomically, so another process racing on the same thumb never exposes half a file.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps

from hearth.files.storage import Storage

log = logging.getLogger("hearth.files")

IMAGE_TYPES = frozenset({"image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp"})
DEFAULT_SIZES = ("100x100",)
# 50 megapixels: a large camera photo; the decoded image is held in memory once or twice over.
MAX_PIXELS = 50_000_000
MAX_WORKERS = 2
MAX_WAIT = 60.0  # seconds a thumb waits for a worker before the original is served instead
# An original read into memory up to this size; larger ones are spooled to a temporary file.
SPOOL_SIZE = 8 << 20

_ORIENTATION = 0x0112  # the EXIF tag
_SIZE = re.compile(r"([0-9]+)x([0-9]+)([tbf]?)")


class ThumbError(Exception):
    """The original cannot be thumbnailed (not an image, too large, broken)."""


@dataclass(frozen=True, slots=True)
class ThumbSize:
    width: int
    height: int
    mode: str  # "" (crop from the center), "t", "b" or "f"

    @classmethod
    def parse(cls, text: str) -> ThumbSize | None:
        m = _SIZE.fullmatch(text)
        if m is None or len(text) > 32:
            return None
        w, h = int(m.group(1)), int(m.group(2))
        if w == 0 and h == 0:
            return None
        return cls(w, h, m.group(3))


def allowed_size(text: str, field_thumbs: list[str]) -> ThumbSize | None:
    """The size asked for when the field offers it (its `thumbs` option, or 100x100), else None."""
    if text not in DEFAULT_SIZES and text not in field_thumbs:
        return None
    return ThumbSize.parse(text)


def thumb_key(original_key: str, size: str) -> str:
    """`<collectionId>/<recordId>/thumbs_<filename>/<size>_<filename>`: PocketBase's layout."""
    folder, name = original_key.rsplit("/", 1)
    return f"{folder}/thumbs_{name}/{size}_{name}"


def output_type(content_type: str) -> str:
    """The content type of a thumb of an original of this type."""
    return content_type if content_type in ("image/jpeg", "image/gif") else "image/png"


def _target(src_w: int, src_h: int, size: ThumbSize) -> tuple[int, int]:
    """The thumb's dimensions for an original of src_w × src_h."""
    w, h = size.width, size.height
    if w == 0:
        return max(1, math.floor(src_w * h / src_h + 0.5)), h
    if h == 0:
        return w, max(1, math.floor(src_h * w / src_w + 0.5))
    if size.mode == "f":
        if src_w <= w and src_h <= h:
            return src_w, src_h
        if src_w / src_h > w / h:
            return w, max(1, int(w * src_h / src_w))
        return max(1, int(h * src_w / src_h)), h
    return w, h


def render(source: IO[bytes], content_type: str, size: ThumbSize, max_pixels: int = MAX_PIXELS) -> bytes:
    """The thumb of the image in `source` (blocking: run it in a thread). ThumbError when the
    image is too large or cannot be read."""
    try:
        with Image.open(source) as im:
            src_w, src_h = im.size  # read from the header: nothing is decoded yet
            if src_w <= 0 or src_h <= 0 or src_w * src_h > max_pixels:
                raise ThumbError(f"{src_w}x{src_h} is more than {max_pixels} pixels")
            turned = im.getexif().get(_ORIENTATION) in (5, 6, 7, 8)
            oriented = (src_h, src_w) if turned else (src_w, src_h)
            w, h = _target(*oriented, size)
            if im.format == "JPEG":
                # Decode at a reduced scale when the thumb is much smaller (never below the box).
                scale = max(w / oriented[0], h / oriented[1])
                im.draft("RGB", (math.ceil(src_w * scale), math.ceil(src_h * scale)))
            im.seek(0)  # the first frame of an animation
            frame = ImageOps.exif_transpose(im)
            frame.load()
    except ThumbError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ThumbError(f"the image cannot be read: {exc}") from exc
    if frame.mode not in ("RGB", "RGBA", "L", "LA"):
        frame = frame.convert("RGBA" if "A" in frame.mode or "transparency" in frame.info else "RGB")
    if size.width and size.height and size.mode != "f":
        centering = {"": (0.5, 0.5), "t": (0.5, 0.0), "b": (0.5, 1.0)}[size.mode]
        out = ImageOps.fit(frame, (w, h), Image.Resampling.BILINEAR, centering=centering)
    elif (w, h) != frame.size:
        out = frame.resize((w, h), Image.Resampling.BILINEAR)
    else:
        out = frame
    buf = io.BytesIO()
    kind = output_type(content_type)
    if kind == "image/jpeg":
        out.convert("RGB").save(buf, "JPEG", quality=95)
    elif kind == "image/gif":
        out.save(buf, "GIF")
    else:
        out.save(buf, "PNG")
    return buf.getvalue()


class Thumbnailer:
    """Makes thumbs on demand, at most `workers` at once, each thumb key once at a time."""

    def __init__(self, workers: int = MAX_WORKERS, max_pixels: int = MAX_PIXELS, max_wait: float = MAX_WAIT) -> None:
        self._slots = asyncio.Semaphore(workers)
        self.max_wait = max_wait
        self._pending: dict[str, asyncio.Task[bool]] = {}
        self.max_pixels = max_pixels
        self.made = 0  # thumbs rendered by this process (tests count them)

    async def ensure(self, storage: Storage, original_key: str, content_type: str, size_text: str,
                     size: ThumbSize) -> str | None:
        """The key of the thumb, made now if it is not stored yet; None when it cannot be made
        (the original is then served)."""
        key = thumb_key(original_key, size_text)
        if await storage.exists(key):
            return key
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._make(storage, original_key, key, content_type, size))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        ok = await asyncio.shield(task)
        return key if ok else None

    async def _make(self, storage: Storage, original_key: str, key: str, content_type: str,
                    size: ThumbSize) -> bool:
        try:
            async with asyncio.timeout(self.max_wait):
                await self._slots.acquire()
        except TimeoutError:
            log.warning("no thumb %s: no worker free within %g s", key, self.max_wait)
            return False
        try:
            if await storage.exists(key):  # made meanwhile (another request or process)
                return True
            spool = await self._read(storage, original_key)
            try:
                data = await asyncio.to_thread(render, spool, content_type, size, self.max_pixels)
            finally:
                spool.close()
            await storage.put(key, _one(data), output_type(content_type))
        except Exception as exc:  # PocketBase serves the original when its thumb fails
            log.warning("no thumb %s: %s", key, exc)
            return False
        finally:
            self._slots.release()
        self.made += 1
        return True

    @staticmethod
    async def _read(storage: Storage, key: str) -> IO[bytes]:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)
        try:
            download = await storage.open(key)
            async for chunk in download.chunks:
                await asyncio.to_thread(spool.write, chunk)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data
