"""Default collection models (`GET /api/collections/meta/scaffolds`)."""

from __future__ import annotations

from typing import Any

from hearth.schema.collection import AUTH, BASE, VIEW
from hearth.schema.form import make_collection


def scaffolds() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ctype in (AUTH, BASE, VIEW):
        c = make_collection("", ctype, [], cid="")
        data = c.to_api()
        data.update({"id": "", "name": "", "created": "", "updated": ""})
        if ctype == AUTH:
            data["indexes"] = []
        out[ctype] = data
    return out
