"""Differential test: the Python evaluator of rules and filters (hearth.query.pyeval) against SQL.

Realtime asks `RecordReader.snapshot_meets` whether a record meets a collection rule and a client
filter for one requester. The Python evaluator answers that without the database when it can, and
declines otherwise. Here Hypothesis writes rules and filters (reusing the strategies of the
PocketBase differential test: the same `diff_items` fields, literals, macros and constructs, plus
rules comparing the record with `@request.auth.*`), and for every record of the dataset and every
requester (guest, three users of the auth collection `diff_authors`, a superuser), on SQLite and
PostgreSQL: whenever the evaluator answers, its answer must be the SQL snapshot's.

The share of checks it answers (the accept ratio) is reported, and rules of the shapes real
collections use must be accepted.

HEARTH_DIFF_PYEVAL_EXAMPLES: Hypothesis examples (300).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hearth.errors import ApiError
from hearth.query import pyeval
from hearth.query.context import AuthState, RequestInfo
from hearth.records.reads import RecordReader
from hearth.schema.collection import Collection
from tests.conftest import Api
from tests.differential import strategies as S
from tests.differential.conftest import SUMMARY
from tests.differential.dataset import (
    AUTHOR_FIELDS,
    AUTHORS,
    AUTHORS_ID,
    COLLECTION,
    FIELDS,
    OPEN_RULES,
    build_authors,
    build_records,
)

EXAMPLES = int(os.environ.get("HEARTH_DIFF_PYEVAL_EXAMPLES", "300"))
PASSWORD = "pass123456"

# diff_items with a url field besides the dataset's (every simple field type is then present).
ITEM_FIELDS = [*FIELDS, {"name": "site", "type": "url"}]
SITES = ["", "https://example.com", "https://Example.com/a_b", "http://x.io/100"]

# Rules as collections write them: each must be accepted (and agree with SQL).
TYPICAL_RULES = [
    '@request.auth.id != "" && author = @request.auth.id',
    'kind = "a" || author = @request.auth.id',
    "author = @request.auth.id || flag = true",
    'title ~ "hello"',
    "n > 1 && price <= 2.5",
    'tags ?= "x"',
    'tags ~ "x"',
    "tags:length > 1",
    'kind:each = "a"',
    'tags:each ?= "x"',
    "coauthors:each ?= @request.auth.id",
    'tags:each != "z" && tags:length > 0',
    'title:lower = "hello"',
    "@request.auth.n >= n",
    "@request.auth.tier = kind",
    '@request.auth.id != "" && (@request.auth.active = true || flag = true)',
    'when >= "2024-01-01" && when < @now',
    'site ~ "example.com"',
    '@request.auth.collectionName = "diff_authors" && email != ""',
]

# Constructs the evaluator must decline (they read other rows or JSON).
DECLINED_RULES = [
    'author.name = "Alice"',
    "coauthors.n > 1",
    "meta.k = 1",
    'meta = "x"',
    "tags:each = coauthors:each",
    "@collection.diff_authors.name = title",
    '@request.auth.name:lower = "alice"',
    "strftime('%Y', when) = '2024'",
]

AUTH_COMPARISONS = [
    '@request.auth.id != ""',
    '@request.auth.id = ""',
    "author = @request.auth.id",
    "@request.auth.id = author",
    "author != @request.auth.id",
    "@request.auth.id != author",
    "coauthors ~ @request.auth.id",
    "coauthors ?= @request.auth.id",
    "coauthors:length > @request.auth.n",
    "@request.auth.n > n",
    "n <= @request.auth.n",
    "@request.auth.n = price",
    "@request.auth.name = title",
    "title ~ @request.auth.name",
    "title !~ @request.auth.name",
    "@request.auth.name ~ title",
    "title:lower = @request.auth.name",
    "@request.auth.tier = kind",
    "@request.auth.tier != kind",
    "@request.auth.tier ?= tags",
    "@request.auth.active = flag",
    "@request.auth.active = true",
    "@request.auth.active != false",
    "@request.auth.code = n",
    "@request.auth.code > price",
    "@request.auth.code = title",
    "@request.auth.code ~ title",
    '@request.auth.collectionName = "diff_authors"',
    '@request.auth.collectionId = "pbc_diffauthors01"',
    "@request.auth.verified = false",
    "@request.auth.emailVisibility = true",
    '@request.auth.email ~ "example"',
    "@request.auth.email = email",
    "@request.auth.nope = null",
    '@request.auth.nope = ""',
    "@request.auth.id = id",
    '@request.query.a = "1"',
    "@request.query.a = 1",
    "@request.query.a > n",
    "@request.query.a:isset = true",
    "@request.query.nope:isset = false",
    '@request.headers.x_diff = "Abc"',
    '@request.headers.x_diff ~ "ab"',
    '@request.method = "GET"',
    '@request.context = "realtime"',
    "@request.body.x = null",
    "@request.body.x:length = 0",
    "site = @request.query.site",
    'site ~ "example"',
    'site:lower ~ "EXAMPLE"',
    "site != title",
    'site = ""',
    "kind:length = 1",
    "kind:each = kind",
    "author:length = 0",
    'author:each = "diffauthor00001"',
    "tags:each ?= @request.auth.tier",
    "tags:each = @request.auth.tier",
    "tags:each != @request.auth.tier",
    "coauthors:each ?= @request.auth.id",
    "coauthors:each = @request.auth.id",
    "coauthors:each != @request.auth.id",
    "@request.auth.id ?= coauthors:each",
    "@request.auth.id ?!= coauthors:each",
    "@request.auth.nope = tags:each",
    "tags:each != @request.query.nope",
    "tags:each ?= @request.query.nope",
    "tags:each = @request.auth.nope",
    'tags:each ?~ "x" && coauthors:each ?!= ""',
    "tags:each ?= kind",
    "tags:each = kind:each",
    "tags:each ?< title",
    "coauthors:each ?= author",
    "coauthors:each ?= coauthors:each",
    "tags:each ?= coauthors:each",
    "id:length = 1",
    # Declined: other rows, JSON, modifiers through the requester's record.
    "author.name = @request.auth.name",
    "@request.auth.name:lower = title",
    "coauthors.id ?= @request.auth.id",
    "@collection.diff_authors.id ?= author",
    "meta.k = @request.auth.n",
]

_AUTH_LEAF = st.builds(lambda t: S.Filter(t, frozenset({S.REQUEST})), S.pick(AUTH_COMPARISONS))
_SITE_LEAF = st.builds(
    lambda left, op, right: S.Filter(f"{left} {op} {right}"),
    S.pick(["site", "site:lower", "site:length"]),
    S.pick([*S.OPS, *S.ANY_OPS]),
    st.one_of(S.text_literal(SITES), S.text_literal(), S.pick(["title", "email", "n", "null", "''"])),
)
_RULE_LEAF = st.one_of(_AUTH_LEAF, _AUTH_LEAF, _AUTH_LEAF, S.core_leaf(), S._EXTENDED_LEAF, _SITE_LEAF)
_RULES = S._expression(_RULE_LEAF)
_FILTERS = st.one_of(
    st.just(S.Filter("")),
    st.just(S.Filter("")),
    S._expression(st.one_of(S.core_leaf(), S._EXTENDED_LEAF, _SITE_LEAF)),
)


def _draw_examples(n: int) -> list[tuple[str, str]]:
    """`n` (rule, filter) pairs, the same on every run."""
    out: list[tuple[str, str]] = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_RULES, _FILTERS)
    def collect(rule: S.Filter, flt: S.Filter) -> None:
        out.append((rule.text, flt.text))

    collect()
    return out


async def _seed(api: Api) -> None:
    await api.create_collection(
        {
            "id": AUTHORS_ID,
            "name": AUTHORS,
            "type": "auth",
            **OPEN_RULES,
            "fields": AUTHOR_FIELDS,
        }
    )
    for i, row in enumerate(build_authors()):
        body = {
            **row,
            "email": f"{row['id']}@example.com",
            "emailVisibility": i % 2 == 0,
            "password": PASSWORD,
            "passwordConfirm": PASSWORD,
        }
        r = await api.client.post(f"/api/collections/{AUTHORS}/records", json=body, headers=api.su())
        assert r.status_code == 200, r.text
    await api.create_collection({"name": COLLECTION, "type": "base", **OPEN_RULES, "fields": ITEM_FIELDS})
    for i, rec in enumerate(build_records(datetime.now(UTC))):
        rec = {**rec, "site": SITES[i % len(SITES)]}
        r = await api.client.post(f"/api/collections/{COLLECTION}/records", json=rec, headers=api.su())
        assert r.status_code == 200, r.text


async def _requesters(hearth: Any, reads: RecordReader) -> list[tuple[str, AuthState]]:
    authors = hearth.collections.get(AUTHORS)
    supers = hearth.collections.get("_superusers")
    out: list[tuple[str, AuthState]] = [("guest", AuthState())]
    for i in (1, 3, 5):
        record = await reads.find(authors, build_authors()[i]["id"])
        assert record is not None
        out.append((f"user{i}", AuthState(collection=authors, record=record)))
    rows = await reads.db.fetch_all(reads.codec(supers).sql.select("", "", "1000", "0"), ())
    su = reads.codec(supers).values_from_row(rows[0])
    out.append(("superuser", AuthState(collection=supers, record=su)))
    return out


def _info(auth: AuthState, flt: str) -> RequestInfo:
    return RequestInfo(
        auth=auth,
        method="GET",
        query={"filter": flt, "a": "1", "site": "https://example.com"} if flt else {"a": "1"},
        headers={"x_diff": "Abc"},
        context="realtime",
    )


async def _sql(
    reads: RecordReader, c: Collection, values: dict[str, Any], rule: str, info: RequestInfo, flt: str
) -> bool | str:
    try:
        return await reads.snapshot_meets(c, values, rule, info, flt, python=False)
    except ApiError as exc:
        return f"{exc.status} error"


@pytest.fixture(scope="module")
async def setup(
    api: Api,
) -> tuple[RecordReader, Collection, list[dict[str, Any]], list[tuple[str, AuthState]]]:
    await _seed(api)
    hearth = api.app.state.hearth
    reads: RecordReader = hearth.records.reads
    items = hearth.collections.get(COLLECTION)
    rows = await reads.db.fetch_all(reads.codec(items).sql.select("", "", "1000", "0"), ())
    records = [reads.codec(items).values_from_row(r) for r in rows]
    assert len(records) == len(build_records(datetime.now(UTC)))
    return reads, items, records, await _requesters(hearth, reads)


async def test_typical_rules_accepted(api: Api, setup: Any) -> None:
    reads, items, records, requesters = setup
    d = reads.db.dialect
    for rule in TYPICAL_RULES:
        assert pyeval.predicate(d, items, rule, rule=True) is not None, rule
        for _, auth in requesters:
            info = _info(auth, "")
            for values in records:
                fast = reads.python_meets(items, values, rule, info)
                assert fast is not None, (rule, values["id"])
                assert fast == await _sql(reads, items, values, rule, info, ""), (rule, auth.id, values["id"])
    for rule in DECLINED_RULES:
        assert pyeval.predicate(d, items, rule, rule=True) is None, rule


async def test_python_matches_sql(api: Api, setup: Any) -> None:
    reads, items, records, requesters = setup
    examples = _draw_examples(EXAMPLES)
    started = time.monotonic()
    checks = answered = 0
    rules_accepted = 0
    outcomes: Counter[str] = Counter()
    mismatches: list[str] = []
    for rule, flt in examples:
        if pyeval.predicate(reads.db.dialect, items, rule, rule=True) is not None:
            rules_accepted += 1
        for who, auth in requesters:
            info = _info(auth, flt)
            for values in records:
                checks += 1
                fast = reads.python_meets(items, values, rule, info, flt)
                slow = await _sql(reads, items, values, rule, info, flt)
                if fast is None:
                    outcomes["declined"] += 1
                    continue
                answered += 1
                outcomes[f"answered {fast}"] += 1
                if fast != slow and len(mismatches) < 20:
                    mismatches.append(
                        f"rule {rule!r} filter {flt!r} as {who} on {values['id']}: python {fast}, sql {slow}"
                    )
                elif fast != slow:
                    mismatches.append("…")
    ratio = answered / checks if checks else 0.0
    line = (
        f"pyeval vs SQL [{api.dialect}]: {len(examples)} rule/filter pairs, {checks} checks, "
        f"{answered} answered in Python ({ratio:.0%}; rules accepted {rules_accepted}/{len(examples)}), "
        f"{len(mismatches)} differed; {dict(outcomes)} in {time.monotonic() - started:.1f}s"
    )
    SUMMARY.append(line)
    print(line)
    assert not mismatches, "\n".join(mismatches)
    assert ratio > 0.3, line
