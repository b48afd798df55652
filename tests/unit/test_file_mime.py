"""Content type detection and `mimeTypes` matching against PocketBase 0.40.6's recorded answers
(data/file_types/pocketbase.json, recorded by data/file_types/record.py from the corpus in
file_corpus.py: the stored `.attrs` content type, the extension it gives an extension-less
name, and which one-type `mimeTypes` fields accepted the upload)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.file_corpus import CORPUS

from hearth.files import mime

RECORDED = json.loads((Path(__file__).parent / "data" / "file_types" / "pocketbase.json").read_text())
TYPES = RECORDED["types"]
PROBES: list[str] = RECORDED["mime_probes"]


def test_the_recording_covers_the_corpus() -> None:
    assert set(TYPES) == set(CORPUS)


@pytest.mark.parametrize("key", sorted(CORPUS))
def test_detect_matches_pocketbase(key: str) -> None:
    assert mime.detect(CORPUS[key][: mime.HEAD_SIZE]) == TYPES[key]["content_type"]


@pytest.mark.parametrize("key", sorted(CORPUS))
def test_extension_matches_pocketbase(key: str) -> None:
    assert mime.extension(mime.detect(CORPUS[key])) == TYPES[key]["ext"]


@pytest.mark.parametrize("key", sorted(CORPUS))
def test_mime_types_option_matches_pocketbase(key: str) -> None:
    detected = mime.detect(CORPUS[key])
    assert [p for p in PROBES if mime.matches(detected, [p])] == TYPES[key]["accepted"]


def test_only_the_head_counts() -> None:
    text = b"a" * mime.HEAD_SIZE
    assert mime.detect(text + b"\x00binary after the head") == mime.detect(text) == "text/plain; charset=utf-8"


def test_the_client_claim_and_name_play_no_part() -> None:
    assert mime.detect(CORPUS["text_as_png"]) == "text/plain; charset=utf-8"


def test_matches_any_of_several_and_none_of_none() -> None:
    png = mime.detect(CORPUS["png"])
    assert mime.matches(png, ["application/pdf", "image/png"])
    assert not mime.matches(png, [])
    assert not mime.matches("image/svg+xml", ["text/xml", "application/xml", "text/plain"])  # no parents
    assert mime.matches("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        ["application/vnd.openxmlformats-officedocument.wordprocessingml.document; q=1"])
