"""Files through a real `hearth serve`: a large file streams whole, a range, a HEAD on a
keep-alive connection (no body bytes left behind for the next request), a thumb."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
from PIL import Image

from tests.e2e.conftest import ADMIN, hearth_cli, running_server, superuser_token


def test_files_over_a_real_server(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    big = os.urandom(3 << 20)
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (1, 2, 3)).save(buf, "PNG")
    with running_server(tmp_path) as url, httpx.Client(base_url=url, timeout=30) as client:
        su = {"Authorization": superuser_token(url)}
        r = client.post("/api/collections", headers=su, json={
            "name": "media", "type": "base", "viewRule": "",
            "fields": [{"name": "f", "type": "file", "maxSelect": 2, "maxSize": 10 << 20}],
        })
        assert r.status_code == 200, r.text
        r = client.post("/api/collections/media/records", headers=su,
                        files=[("f", ("big.bin", big)), ("f", ("pic.png", buf.getvalue()))])
        assert r.status_code == 200, r.text
        rec = r.json()
        base = f"/api/files/media/{rec['id']}/"
        r = client.get(base + rec["f"][0])
        assert r.status_code == 200 and r.content == big
        assert r.headers["content-length"] == str(len(big))
        for _ in range(2):  # the same connection after each HEAD
            r = client.head(base + rec["f"][0])
            assert r.status_code == 200 and r.headers["content-length"] == str(len(big)) and r.content == b""
        r = client.get(base + rec["f"][0], headers={"Range": "bytes=1000000-1000099"})
        assert r.status_code == 206 and r.content == big[1000000:1000100]
        r = client.get(base + rec["f"][1] + "?thumb=100x100")
        assert r.status_code == 200
        assert Image.open(io.BytesIO(r.content)).size == (100, 100)
        assert (tmp_path / "storage" / rec["collectionId"] / rec["id"] / f"thumbs_{rec['f'][1]}").is_dir()
