"""A small, deterministic corpus of file contents for content type detection and stored names,
built in code (no binary files checked in). `CORPUS` maps a corpus key to the bytes.

The same corpus was uploaded to the real PocketBase 0.40.6 to record its answers
(`data/file_types/record.py` → `data/file_types/pocketbase.json`). Only the first 3072 bytes
matter for detection, so the builders aim for realistic heads, not complete files.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import tarfile
import zipfile

from PIL import Image


def _image(fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", (8, 8), (200, 30, 30))
    img.save(out, format=fmt, **kw)
    return out.getvalue()


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


_CT_XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>'
_RELS = b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        data = b"hello tar\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mtime = 1_700_000_000
        t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _riff(form: bytes, body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + form + body


def _wav() -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    samples = bytes(200)
    return _riff(b"WAVE", b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples)


def _avi() -> bytes:
    avih = b"avih" + struct.pack("<I", 56) + bytes(56)
    hdrl = b"LIST" + struct.pack("<I", 4 + len(avih)) + b"hdrl" + avih
    return _riff(b"AVI ", hdrl + b"JUNK" + struct.pack("<I", 64) + bytes(64))


def _mp4() -> bytes:
    ftyp = b"ftyp" + b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"
    box = struct.pack(">I", 8 + len(ftyp)) + ftyp
    return box + struct.pack(">I", 8) + b"free" + struct.pack(">I", 108) + b"mdat" + bytes(100)


def _webm() -> bytes:
    # EBML header: EBMLVersion 1, ReadVersion 1, MaxIDLength 4, MaxSizeLength 8, DocType "webm"
    body = (b"\x42\x86\x81\x01" b"\x42\xf7\x81\x01" b"\x42\xf2\x81\x04" b"\x42\xf3\x81\x08"
            b"\x42\x82\x84webm" b"\x42\x87\x81\x04" b"\x42\x85\x81\x02")
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67\x01" + bytes(40)


def _ogg() -> bytes:
    vorbis = b"\x01vorbis" + struct.pack("<IBIiii", 0, 1, 44100, 0, 128000, 0) + b"\xb8\x01"
    header = (b"OggS" + b"\x00\x02" + bytes(8) + struct.pack("<I", 1234) + struct.pack("<I", 0)
              + bytes(4) + b"\x01" + bytes([len(vorbis)]))
    return header + vorbis


def _mp3() -> bytes:
    id3 = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 10]) + b"TIT2" + struct.pack(">I", 0) + b"\x00\x00"
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    return id3 + frame * 3


def _mp3_bare() -> bytes:
    return (b"\xff\xfb\x90\x64" + bytes(413)) * 3


def _elf() -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    rest = struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    return ident + rest + bytes(64)


def _exe() -> bytes:
    mz = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80))
    mz += bytes(0x80 - len(mz))
    return bytes(mz) + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + bytes(200)


def _pdf() -> bytes:
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def _cut_multibyte() -> bytes:
    text = ("a" * 3071 + "é" + "b" * 2000).encode()  # é is bytes 3071-3072: byte 3072 is cut off
    assert len(text) > 5000 and text[3071:3073] == "é".encode()
    return text


def _random(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n'

CORPUS: dict[str, bytes] = {
    "png": _image("PNG"),
    "jpeg": _image("JPEG", quality=80),
    "gif": _image("GIF"),
    "webp": _image("WEBP"),
    "bmp": _image("BMP"),
    "tiff": _image("TIFF"),
    "ico": _image("ICO"),
    "svg": _SVG,
    "svg_prolog": b'<?xml version="1.0" encoding="UTF-8"?>\n' + _SVG,
    "svg_doctype": (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                    b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' + _SVG),
    "html_doctype": b"<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>hi</p></body></html>\n",
    "html_plain": b"<html><body>hello</body></html>\n",
    "html_ws": b"\n\n   \t<!doctype html>\n<html lang=\"en\"><body>x</body></html>\n",
    "html_upper": b"<HTML><HEAD><TITLE>T</TITLE></HEAD><BODY>X</BODY></HTML>\n",
    "html_fragment": b"<p>just a paragraph</p>\n",
    "html_meta_latin1": b'<html><head><meta charset="iso-8859-1"></head><body>caf\xe9</body></html>\n',
    "xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<note><to>a</to><from>b</from></note>\n',
    "xml_noprolog": b"<note><to>a</to></note>\n",
    "json": b'{"name": "hearth", "n": [1, 2, 3], "ok": true}\n',
    "json_array": b'[{"a": 1}, {"a": 2}]',
    "json_scalar": b"123",
    "csv": b"id,name,score\n1,ann,3.5\n2,bob,4\n3,cid,5\n",
    "tsv": b"id\tname\tscore\n1\tann\t3.5\n2\tbob\t4\n",
    "text_ascii": b"Hello, world.\nThis is plain text.\n",
    "text_utf8": "Grüße aus Köln — ünïcödé ✓\n".encode(),
    "text_utf8_bom": b"\xef\xbb\xbf" + "Grüße mit BOM\n".encode(),
    "text_utf16le_bom": "\ufeffHello UTF-16 ✓\n".encode("utf-16-le"),
    "text_utf16be_bom": "\ufeffHello UTF-16 ✓\n".encode("utf-16-be"),
    "text_latin1": "Café crème, garçon à l'été.\n".encode("latin-1"),
    "markdown": b"# Title\n\nSome *markdown* text with a [link](http://example.com).\n\n- one\n- two\n",
    "js": b"function hello(name) {\n  console.log('hi ' + name);\n}\nhello('x');\n",
    "js_strict": b"'use strict';\nconst a = 1;\n",
    "js_shebang": b"#!/usr/bin/env node\nconsole.log(1)\n",
    "css": b"body { color: red; }\n.a > .b { margin: 0 auto; }\n",
    "python": b"#!/usr/bin/env python3\nprint('hi')\n",
    "shell": b"#!/bin/sh\necho hi\n",
    "php": b"<?php echo 'hi'; ?>\n",
    "rtf": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello}\n",
    "pdf": _pdf(),
    "zip": _zip([("hello.txt", b"hello zip\n"), ("b.txt", b"bbb\n")]),
    "docx": _zip([("[Content_Types].xml", _CT_XML), ("_rels/.rels", _RELS),
                  ("word/document.xml", b"<w:document/>"), ("word/_rels/document.xml.rels", _RELS)]),
    "xlsx": _zip([("[Content_Types].xml", _CT_XML), ("_rels/.rels", _RELS),
                  ("xl/workbook.xml", b"<workbook/>"), ("xl/worksheets/sheet1.xml", b"<worksheet/>")]),
    "gzip": gzip.compress(b"hello gzip\n" * 10, mtime=0),
    "tar": _tar(),
    "mp3": _mp3(),
    "mp3_bare": _mp3_bare(),
    "mp4": _mp4(),
    "wav": _wav(),
    "ogg": _ogg(),
    "webm": _webm(),
    "avi": _avi(),
    "elf": _elf(),
    "exe": _exe(),
    "one_byte_a": b"a",
    "one_byte_nul": b"\x00",
    "one_byte_high": b"\xe9",
    "text_with_nul": b"hello\x00world\n",
    "random": _random(4096, 11),
    "random_small": _random(64, 12),
    "text_as_png": b"this is not a png, just text\n",
    "cut_multibyte": _cut_multibyte(),
    "invalid_utf8_mid": b"abc \xff\xfe def\n" + b"x" * 100,
}
