"""Values moved by `hearth import|export pocketbase` (hearth.transfer.copy): each converted to the
target column's type by the field's storage kind, a whole column of a batch at a time."""

from __future__ import annotations

from hearth.sql.dialect import POSTGRES, SQLITE
from hearth.transfer.copy import column_converter


def test_sqlite_values_become_postgresql_column_values() -> None:
    number = column_converter("number", 0, POSTGRES, SQLITE)
    assert number([1, 2.5, None, "3.5", "x", True]) == [1.0, 2.5, 0.0, 3.5, 0, 1.0]
    assert all(type(v) is float for v in number([1, 2.5, None, "3.5", True]))
    boolean = column_converter("bool", False, POSTGRES, SQLITE)
    assert boolean([0, 1, None, "true", "0", True]) == [False, True, False, True, False, True]
    text = column_converter("text", "", POSTGRES, SQLITE)
    assert text(["a", None, 12, ""]) == ["a", "", "12", ""]
    # PocketBase's JSON text is kept as written; NULL stays NULL where the field's zero is NULL,
    # else becomes the zero; text that is not JSON is kept as a JSON string (jsonb refuses it).
    json_field = column_converter("json", None, POSTGRES, SQLITE)
    assert json_field(['{"a": [1, null]}', None, "not json", 5]) == ['{"a": [1, null]}', None, '"not json"', "5"]
    multi = column_converter("json", [], POSTGRES, SQLITE)
    assert multi([None, '["a","b"]']) == ["[]", '["a","b"]']


def test_postgresql_values_become_sqlite_column_values() -> None:
    # jsonb's text form has spaces after separators: compacted as PocketBase writes JSON.
    json_field = column_converter("json", [], SQLITE, POSTGRES)
    assert json_field(['["a", "b"]', '{"lon": 1.5, "lat": 0}']) == ['["a","b"]', '{"lon":1.5,"lat":0}']
    number = column_converter("number", 0, SQLITE, POSTGRES)
    assert number([5.0, 2.5, None]) == [5.0, 2.5, 0]
    boolean = column_converter("bool", False, SQLITE, POSTGRES)
    assert boolean([True, False]) == [True, False]
