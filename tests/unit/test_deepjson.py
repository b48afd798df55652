"""hearth._util.deepjson: orjson's bytes at any depth, and iterative walks."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from hearth._util import deepjson
from hearth._util.projection import parse_fields, project
from hearth.realtime.subscriptions import parse


def _random_value(rng: random.Random, level: int = 0) -> Any:
    roll = rng.random()
    if level > 4 or roll < 0.3:
        return rng.choice([0, 1, -2.5, 1e300, 3.0, 2**62, True, False, None, "", 'x"\n\u00e9\\'])
    if roll < 0.65:
        return [_random_value(rng, level + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice('abz\u00e9"'): _random_value(rng, level + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("sort_keys", [False, True])
def test_the_deep_encoder_writes_orjsons_bytes(sort_keys: bool) -> None:
    rng = random.Random(9)
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    for _ in range(2000):
        value = _random_value(rng)
        assert deepjson._dumps_deep(value, option) == orjson.dumps(value, option=option)


def test_values_deeper_than_orjson_encodes() -> None:
    value = orjson.loads('{"b":' + "[" * 1000 + '{"z":1.5,"a":null}' + "]" * 1000 + ',"a":1}')
    with pytest.raises(TypeError):
        orjson.dumps(value)
    text = deepjson.dumps(value, sort_keys=True)
    assert text.startswith(b'{"a":1,"b":[[[') and text.endswith(b"]]]}")
    assert b'{"a":null,"z":1.5}' in text
    assert deepjson.equal(orjson.loads(text), value)
    assert deepjson.depth(value) == 1002 and deepjson.depth(value, 10) == 11
    # What orjson cannot encode at all is still a TypeError.
    with pytest.raises(TypeError):
        deepjson.dumps([object()])


def test_equal_is_eq_without_recursion() -> None:
    deep_a = orjson.loads("[" * 1000 + "1" + "]" * 1000)
    deep_b = orjson.loads("[" * 1000 + "1.0" + "]" * 1000)
    deep_c = orjson.loads("[" * 1000 + "2" + "]" * 1000)
    assert deepjson.equal(deep_a, deep_b) and not deepjson.equal(deep_a, deep_c)
    for a, b in (([1], [1, 2]), ({"a": 1}, {"b": 1}), ([], {}), ({"a": [1]}, {"a": [1]}), ("x", "x")):
        assert deepjson.equal(a, b) == (a == b)


def test_fields_projection_of_a_deep_value() -> None:
    value = orjson.loads('{"id":"x","j":' + '{"a":' * 1000 + "1" + "}" * 1000 + "}")
    path = "j" + ".a" * 1100
    out = project(value, parse_fields(path))
    assert set(out) == {"j"} and deepjson.equal(out["j"], value["j"])
    assert project([value, value], parse_fields("id")) == [{"id": "x"}, {"id": "x"}]


def test_realtime_subscription_options_of_any_depth() -> None:
    deep = "[" * 1000 + "]" * 1000
    sub = parse('posts?options={"query":{"a":' + deep + '},"headers":{"X-A":' + deep + "}}")
    assert sub.query["a"] == deep and sub.headers["x-a"] == deep
