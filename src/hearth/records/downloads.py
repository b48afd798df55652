"""Which stored file a download names, and whether the requester may have it.

`GET /api/files/{collection}/{recordId}/{filename}` serves a file only when the record exists and
one of its file fields holds that name. A field's files are public unless the field is
`protected`; a protected file needs a file token (the HTTP layer resolves it to an auth record)
whose holder passes the collection's viewRule, evaluated with `@request.context` =
"protectedFile". Superusers pass. Every refusal looks like a missing file (404), as in PocketBase.
Non-protected files ignore the rules (PocketBase: the file name is the secret).

On PostgreSQL the record read is a round trip that a file download otherwise does not need (it
was ~40 % of a public file's cost in the bench: 5,500 req/s against 9,100 on SQLite). So a record
that showed a public file is kept for KEEP_SECONDS and only ever confirms a name it holds: a name
it does not hold reads the database again (a file added elsewhere a moment ago is found at once),
this process forgets a record as soon as it updated or deleted it, and a schema change (new
Collection objects) forgets everything. What it can miss is a file another process removed from
the record within the last KEEP_SECONDS: that process deletes the stored file right after its
commit, so the download still answers 404 unless that deletion failed or has not yet run. Protected
files always read the database (their rule needs the current record), as does SQLite (a read costs
it no round trip).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hearth.errors import Forbidden, NotFound
from hearth.files.storage import InvalidKey, check_key
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import RecordCommitted
from hearth.query.context import AuthState, RequestInfo
from hearth.records.files import file_fields
from hearth.records.reads import RecordReader
from hearth.records.recent import RecentRecords
from hearth.schema.collection import Collection
from hearth.schema.fields.file import FileField, file_names
from hearth.sql.dialect import POSTGRES

PROTECTED_FILE = "protectedFile"  # @request.context of a protected file's rule check
MAX_ID_LENGTH = 255
MAX_NAME_LENGTH = 255
KEEP_SECONDS = 2.0  # how long a record may confirm its public files without a read
KEEP_ENTRIES = 10_000  # the oldest go first beyond this


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file a record holds: where it is stored and which field holds it."""

    collection: Collection
    record: dict[str, Any]
    field: FileField
    name: str
    key: str  # `<collectionId>/<recordId>/<name>`, checked


class RecordDownloads:
    def __init__(self, reads: RecordReader, hooks: Hooks) -> None:
        self.reads = reads
        self._keeps = reads.db.dialect is POSTGRES
        self._recent: RecentRecords[dict[str, Any]] = RecentRecords(KEEP_ENTRIES)
        for hook in (hooks.record_after_update_success, hooks.record_after_delete_success):
            hook.bind(self._forget, id="hearth.downloads", observer=True)

    async def _forget(self, e: RecordCommitted) -> None:
        self._recent.forget(e.collection.id, str(e.record.get("id", "")))
        await e.next()

    def _public_holder(self, c: Collection, rid: str, name: str) -> tuple[dict[str, Any], FileField] | None:
        """The kept record of `rid` and its public field holding `name`, when one is fresh."""
        record = self._recent.fresh(c, rid, KEEP_SECONDS)
        if record is None:
            return None
        field = _holding(c, record, name)
        if field is None or field.options.get("protected"):
            return None
        return record, field

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
        held = self._public_holder(c, rid, name) if self._keeps else None
        if held is not None:
            return StoredFile(c, dict(held[0]), held[1], name, key)  # a copy: hooks may change it
        record = await self.reads.find(c, rid)
        if record is None:
            raise NotFound()
        field = _holding(c, record, name)
        if field is None:
            raise NotFound()
        if self._keeps and not field.options.get("protected"):
            self._recent.keep(c, rid, dict(record))
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


def _holding(c: Collection, record: dict[str, Any], name: str) -> FileField | None:
    """The file field of `record` that holds the file `name`, if one does."""
    return next((f for f in file_fields(c) if name in file_names(record.get(f.name))), None)


def _plausible(text: str, limit: int) -> bool:
    return bool(text) and len(text) <= limit and "/" not in text and "\\" not in text and "\x00" not in text
