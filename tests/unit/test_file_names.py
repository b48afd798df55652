"""Stored file names against PocketBase 0.40.6's recorded ones (data/file_types/pocketbase.json,
recorded by data/file_types/record.py: multipart uploads of many original names; the random
part aside), plus properties every stored name has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.file_corpus import CORPUS

from hearth.files import mime, names
from hearth.files.storage import check_key

RECORDED = json.loads((Path(__file__).parent / "data" / "file_types" / "pocketbase.json").read_text())
FIXED = "R" * 10
SHAPE = re.compile(r"[a-z0-9_]{3,100}_[a-z0-9]{10}(\.[A-Za-z0-9_.*+=#-]{1,20})?\Z")


def _as_pattern(ours: str) -> re.Pattern[str]:
    """Our name with its random parts (FIXED) as `[a-z0-9]{10}`."""
    return re.compile(re.escape(ours).replace(FIXED, "[a-z0-9]{10}") + r"\Z")


@pytest.fixture
def fixed_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "random_part", lambda n=10: FIXED)


def _original(rec: dict[str, str]) -> str:
    """The name PocketBase's handler saw: the sidecar's copy unless that was cut at 255 bytes
    (those long names are sent as they are: no characters that the multipart encoding changes)."""
    pb = rec["pb_original"]
    return pb if len(pb.encode()) < 255 else rec["sent"]


STORED = [r for r in RECORDED["names"] if "stored" in r]


@pytest.mark.parametrize("rec", STORED, ids=[f"{r['sent'][:30]!r}-{r['content']}" for r in STORED])
def test_stored_name_matches_pocketbase(rec: dict[str, str], fixed_random: None) -> None:
    ours = names.stored_name(_original(rec), mime.detect(CORPUS[rec["content"]]))
    assert _as_pattern(ours).match(rec["stored"]), (ours, rec["stored"])


@pytest.mark.parametrize("key", sorted(CORPUS))
def test_extension_from_the_content_when_the_name_has_none(key: str, fixed_random: None) -> None:
    short = RECORDED["types"][key]["short_name"]  # uploaded as "x": too short, so random-padded
    ours = names.stored_name("x", mime.detect(CORPUS[key]))
    assert _as_pattern(ours).match(short), (ours, short)


def test_the_recorded_failures_are_names_whose_metadata_cut_splits_a_character() -> None:
    failed = [r for r in RECORDED["names"] if "stored" not in r]
    assert failed and all(len(r["sent"].encode()) > 255 for r in failed)
    assert all(not _valid_utf8(r["sent"].encode()[:255]) for r in failed)


def _valid_utf8(b: bytes) -> bool:
    try:
        b.decode()
        return True
    except UnicodeDecodeError:
        return False


@pytest.mark.parametrize(("original", "base"), [
    ("myTestDB.json", "my_test_db"), ("HTTPServerLog", "httpserver_log"), ("__init__", "init"),
    ("snake__case", "snake_case"), ("ABC1Def", "abc1_def"), ("straße", "stra_e"),
])
def test_snakecase(original: str, base: str) -> None:
    assert names.snakecase(original.removesuffix(".json")) == base


names_text = st.text(st.characters(codec="utf-8"), max_size=400) | st.text("./\\ab.Cé日 \x00-_#*", max_size=60)


@given(names_text, st.sampled_from(["", "image/png", "text/plain; charset=utf-8", "application/x-executable"]))
def test_stored_name_properties(original: str, content_type: str) -> None:
    name = names.stored_name(original, content_type)
    assert SHAPE.match(name), name
    assert not set(name) & {"/", "\\", "\x00"} and not name.startswith(".")
    assert len(name) <= names.MAX_LENGTH
    assert check_key(f"coll/rec/{name}")
    assert names.stored_name(original, content_type) != name  # the random part differs
