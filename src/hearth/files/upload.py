"""An uploaded file as the API receives it: spooled to a temporary file by the multipart parser
(held in memory only up to the parser's spool size), read back in chunks when stored.

`name` is the stored name (PocketBase's sanitized, random-suffixed form, `names.stored_name`),
`content_type` the type detected from the content (never the one the client claimed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from hearth.files import mime, names
from hearth.files.storage import CHUNK_SIZE

HEAD_SIZE = mime.HEAD_SIZE


@dataclass(eq=False)
class Upload:
    original_name: str
    size: int
    file: IO[bytes]
    head: bytes = b""  # the first HEAD_SIZE bytes, for type detection and naming
    content_type: str = ""
    name: str = field(default="")

    @classmethod
    def from_file(cls, original_name: str, size: int, file: IO[bytes]) -> Upload:
        """Reads the head (a few KiB, blocking: call off the loop or on a spooled in-memory file)."""
        file.seek(0)
        head = file.read(HEAD_SIZE)
        file.seek(0)
        content_type = mime.detect(head)
        return cls(original_name, size, file, head, content_type, names.stored_name(original_name, content_type))

    async def chunks(self) -> AsyncIterator[bytes]:
        """The content from the start, in chunks (each read in a worker thread)."""
        await asyncio.to_thread(self.file.seek, 0)
        while chunk := await asyncio.to_thread(self.file.read, CHUNK_SIZE):
            yield chunk
