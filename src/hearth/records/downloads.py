"""Which stored file a download names, and whether the requester may have it.

`GET /api/files/{collection}/{recordId}/{filename}` serves a file only when the record exists and
one of its file fields holds that name. A field's files are public unless the field is
`protected`; a protected file needs a file token (the HTTP layer resolves it to an auth record)
whose holder passes the collection's viewRule, evaluated with `@request.context` =
"protectedFile". Superusers pass. Every refusal looks like a missing file (404), as in PocketBase.
Non-protected files ignore the rules (PocketBase: the file name is the secret).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hearth.errors import Forbidden, NotFound
from hearth.files.storage import InvalidKey, check_key
from hearth.query.context import AuthState, RequestInfo
from hearth.records.files import file_fields
from hearth.records.reads import RecordReader
from hearth.schema.collection import Collection
from hearth.schema.fields.file import FileField, file_names

PROTECTED_FILE = "protectedFile"  # @request.context of a protected file's rule check
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file a record holds: where it is stored and which field holds it."""

    collection: Collection
    record: dict[str, Any]
    field: FileField
    name: str
    key: str  # `<collectionId>/<recordId>/<name>`, checked


class RecordDownloads:
    def __init__(self, reads: RecordReader) -> None:
        self.reads = reads

    async def find(
        self,
        c: Collection,
        rid: str,
        name: str,
        requester: Callable[[], Awaitable[AuthState]],
        info: Callable[[AuthState], RequestInfo],
    ) -> StoredFile:
        """The file `name` of record `rid`, if the requester may have it; NotFound otherwise.
        `requester` resolves who asks (called only for a protected file); `info` makes the
        request info its rule sees."""
        if not _plausible(rid, MAX_ID_LENGTH) or not _plausible(name, MAX_NAME_LENGTH):
            raise NotFound()
        try:
            key = check_key(f"{c.id}/{rid}/{name}")
        except InvalidKey:
            raise NotFound() from None
        if c.is_view:
            # A view's files live in the folders of the records they come from; not served yet.
            raise NotFound()
        record = await self.reads.find(c, rid)
        if record is None:
            raise NotFound()
        field = next((f for f in file_fields(c) if name in file_names(record.get(f.name))), None)
        if field is None:
            raise NotFound()
        if field.options.get("protected"):
            auth = await requester()
            request = info(auth)
            request.context = PROTECTED_FILE
            try:
                row = await self.reads.find_allowed(c, rid, c.rules.get("viewRule"), request)
            except Forbidden:  # a null rule: superusers only
                row = None
            if row is None:
                raise NotFound()
        return StoredFile(c, record, field, name, key)


def _plausible(text: str, limit: int) -> bool:
    return bool(text) and len(text) <= limit and "/" not in text and "\\" not in text and "\x00" not in text
