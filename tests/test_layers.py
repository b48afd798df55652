"""Layering rules that keep the code base navigable: SQL text lives only in hearth/sql/."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hearth"
SQL_TEXT = re.compile(
    r"""["'](\s*)(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE|ALTER TABLE|DROP TABLE)\b"""
)


def test_sql_text_only_in_sql_package() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "sql"):
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if SQL_TEXT.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{lineno}: {line.strip()}")
    assert offenders == []


def test_http_layer_does_not_import_sql_or_db() -> None:
    offenders = []
    for path in (SRC / "http").rglob("*.py"):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(r"\s*(from|import) hearth\.(sql|db)\b", line):
                offenders.append(f"{path.relative_to(SRC)}:{lineno}")
    assert offenders == []


def test_filter_language_is_pure() -> None:
    for path in (SRC / "filter").rglob("*.py"):
        for line in path.read_text().splitlines():
            assert not re.match(r"\s*(from|import) hearth\.(?!filter)", line), f"{path.name}: {line}"
