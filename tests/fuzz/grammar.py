"""A seeded grammar of hostile requests over Hearth's whole HTTP API.

`Generator(seed).request(i)` is a pure function of (seed, i): the same seed and index always give
the same request, so a finding is reproduced by its seed and index alone (run-time values such as
tokens are placeholders, see world.PLACEHOLDERS). Requests are built from small grammars: JSON
values (wrong types, huge and unicode strings, NUL bytes, 1e309/-0/NaN, nesting to ~1500 levels),
the filter language (valid and broken), sort/fields/expand lists, collection schemas, bodies in
every encoding (JSON, broken JSON, multipart, urlencoded, wrong content types), odd headers and
tokens, odd methods, and paths with odd percent-encoding.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote as _quote

from tests.fuzz import world as W

WHO = ("guest", "user", "superuser")
T = TypeVar("T")


def quote(s: str, safe: str = "/") -> str:
    return _quote(s, safe=safe, encoding="utf-8", errors="surrogatepass")


class Raw(str):
    """JSON text emitted verbatim (1e309, -0, NaN, deep nesting...)."""


@dataclass(frozen=True)
class FuzzRequest:
    index: int
    endpoint: str  # a label for statistics ("records.list", "auth.otp"...)
    method: str
    path: str  # raw target: percent-encoded path, optionally with ?query
    headers: tuple[tuple[str, bytes], ...]
    body: bytes
    who: str  # guest | user | superuser: which token the harness adds (unless headers carry one)

    def describe(self, limit: int = 300) -> str:
        body = self.body[:limit].decode("utf-8", "backslashreplace")
        hdrs = ", ".join(f"{k}: {v[:60]!r}" for k, v in self.headers)
        return f"#{self.index} [{self.endpoint}] as {self.who}: {self.method} {self.path[:limit]} headers[{hdrs}] body[{len(self.body)}B]: {body}"


def dumps(value: Any) -> str:
    """JSON text for `value`, where `Raw` pieces go through untouched."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return "null"
    return json.dumps(value, ensure_ascii=False)


FIELD_TYPES = [
    "text",
    "number",
    "bool",
    "email",
    "url",
    "editor",
    "date",
    "autodate",
    "select",
    "file",
    "relation",
    "json",
    "geoPoint",
    "password",
]
FILTER_OPS = ["=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"]
MACROS = [
    "@now",
    "@second",
    "@minute",
    "@hour",
    "@weekday",
    "@day",
    "@month",
    "@year",
    "@todayStart",
    "@todayEnd",
    "@monthStart",
    "@monthEnd",
    "@yearStart",
    "@yearEnd",
    "@yesterday",
    "@tomorrow",
]
MODIFIERS = [":isset", ":length", ":each", ":lower", ":changed", ":excerpt", ":bogus"]
WEIRD_STRINGS = [
    "",
    " ",
    "null",
    "undefined",
    "true",
    "0",
    "-1",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-0",
    "0x1F",
    "' OR 1=1 --",
    '"; DROP TABLE posts; --',
    "%",
    "_",
    "\\",
    "\\'",
    "../../etc/passwd",
    "\x00",
    "a\x00b",
    "\ud83d\ude00",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "e\u0301\u0301\u0301",
    "\ufeff",
    "\u2028\u2029",
    "ǅǈǋ",
    "İıß",
    "<script>alert(1)</script>",
    "{{.}}",
    "${x}",
    "@request.auth.id",
    "@collection.posts.title",
    "2024-02-30 25:61:61.000Z",
    "9999-12-31 23:59:59.999Z",
    "0000-00-00",
    "javascript:alert(1)",
    "http://[::1]:99999/",
    "mailto:a@b",
    "a@b",
    "a@@b.c",
    "x" * 256,
    "fzpost000000000",
    "fzpost000000001",
    "fzuser000000001",
]
UNICODE_POOL = "aZ09_-. /\\'\"%&?#=+@:,;!~*()[]{}<>|^`$\t\x00\x7fßéüñ漢字дЖ🙂\u200b\u202e\ufffd\U0010ffff"


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def request(self, index: int) -> FuzzRequest:
        rnd = random.Random(f"{self.seed}:{index}")
        return _Build(rnd, index).build()


class _Build:
    """One request's worth of choices."""

    def __init__(self, rnd: random.Random, index: int) -> None:
        self.r = rnd
        self.index = index
        self.headers: list[tuple[str, bytes]] = []
        self.who = rnd.choice(WHO)
        # A tame request is well-formed apart from its values: it gets past parsing and into the
        # handlers (rules, validation, the database), where the interesting failures are.
        self.tame = rnd.random() < 0.4

    # ----- small helpers ---------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, seq: Iterable[T]) -> T:
        return self.r.choice(list(seq))

    def weighted(self, table: list[tuple[int, Callable[[], FuzzRequest]]]) -> FuzzRequest:
        total = sum(w for w, _ in table)
        x = self.r.uniform(0, total)
        for w, fn in table:
            x -= w
            if x <= 0:
                return fn()
        return table[-1][1]()

    def text(self, max_len: int = 20) -> str:
        n = self.r.randint(0, max_len)
        return "".join(self.r.choice(UNICODE_POOL) for _ in range(n))

    def ident(self) -> str:
        n = self.r.randint(1, 12)
        return self.r.choice(string.ascii_letters + "_") + "".join(
            self.r.choice(string.ascii_letters + string.digits + "_") for _ in range(n - 1)
        )

    def string(self) -> str:
        k = self.r.random()
        if k < 0.35:
            return self.pick(WEIRD_STRINGS)
        if k < 0.6:
            return self.text(30)
        if k < 0.7:
            return self.pick("ax\x00é🙂") * self.pick([255, 256, 5000, 5001, 20000, 100_000])
        if k < 0.8:
            return self.ident()
        if k < 0.9:
            return self.filter_expr()
        return "".join(self.r.choice(string.printable) for _ in range(self.r.randint(1, 40)))

    def number(self) -> Any:
        if self.tame:  # JSON that any parser takes
            return self.pick([0, 1, -1, 0.5, 2**31, 2**53 + 1, 1e308, 5e-324, self.r.randint(-1000, 1000)])
        return self.pick(
            [
                0,
                1,
                -1,
                0.5,
                2**31,
                2**53 + 1,
                -(2**63),
                2**64,
                10**30,
                1e308,
                -1e308,
                5e-324,
                Raw("1e309"),
                Raw("-1e309"),
                Raw("-0"),
                Raw("-0.0"),
                Raw("1E400"),
                Raw("1e-400"),
                Raw("NaN"),
                Raw("Infinity"),
                Raw("-Infinity"),
                Raw("1" * 400),
                Raw("0.1e1"),
                Raw("12345678901234567890.5"),
                self.r.randint(-1000, 1000),
                self.r.uniform(-1e6, 1e6),
            ]
        )

    def deep(self) -> Raw:
        depth = self.pick([50, 256, 300, 999, 1000, 1001, 1500])
        leaf = dumps(self.pick([1, "x", None, [], {}]))
        if self.chance(0.5):
            return Raw("[" * depth + leaf + "]" * depth)
        return Raw('{"a":' * depth + leaf + "}" * depth)

    def value(self, depth: int = 0) -> Any:
        k = self.r.random()
        if k < 0.3:
            return self.string()
        if k < 0.5:
            return self.number()
        if k < 0.58:
            return self.pick([True, False, None])
        if k < 0.62 and not self.tame:
            return self.deep()
        if depth > 3 or k < 0.8:
            return self.pick(["x", 1, None, [], {}, [None], {"": None}])
        if k < 0.9:
            return [self.value(depth + 1) for _ in range(self.r.randint(0, 5))]
        return {self.key(): self.value(depth + 1) for _ in range(self.r.randint(0, 5))}

    def key(self) -> str:
        return self.pick(
            [
                "",
                "id",
                "@jsonPayload",
                "__proto__",
                "constructor",
                "a.b",
                "x" * 300,
                self.ident(),
                self.text(8),
            ]
        )

    # ----- per-type values -------------------------------------------------------------------
    def field_value(self, ftype: str, coll: str = "", fname: str = "") -> Any:
        if self.chance(0.05 if self.tame else 0.35):
            return self.value()
        r = self.r
        if ftype == "text" or ftype == "editor" or ftype == "password":
            return self.pick(
                [
                    "hello",
                    self.text(40),
                    "<p>x</p>" * r.randint(1, 50),
                    "x" * 201,
                    "x" * 5001,
                    "Secret-pass-1",
                ]
            )
        if ftype == "number":
            return self.number()
        if ftype == "bool":
            return self.pick([True, False, "true", "false", 1, 0, "1", "yes", None])
        if ftype == "email":
            return self.pick(
                ["a@example.com", "x@y", "@", "a@b.c" + "c" * 300, "ü@ü.de", "a b@c.de", "a@[127.0.0.1]"]
            )
        if ftype == "url":
            return self.pick(
                ["https://example.com", "ftp://x", "http://", "//x", "http://ü.de/%zz", "x" * 3000]
            )
        if ftype in ("date", "autodate"):
            return self.pick(
                [
                    "2024-01-01 00:00:00.000Z",
                    "2024-01-01",
                    "2024-01-01T10:00:00+02:00",
                    "0001-01-01 00:00:00Z",
                    "10000-01-01",
                    "2024-13-45",
                    "yesterday",
                    1700000000,
                    "",
                ]
            )
        if ftype == "select":
            return self.pick(
                ["draft", "live", ["a", "b"], ["a", "a", "a", "z"], ["a", "b", "c", "d"], "red", "", []]
            )
        if ftype == "relation":
            target = W.RELATIONS.get(coll, {}).get(fname, "posts")
            ids = W.RECORD_IDS.get(target, ["x"])
            return self.pick(
                [self.pick(ids), list(ids), [self.pick(ids)] * 3, "", "nonexistent0000", ["x" * 15], [1]]
            )
        if ftype == "json":
            return self.pick(
                [
                    self.value(),
                    self.deep(),
                    {"a": [1, 2]},
                    Raw("null"),
                    "x" * 10000,
                    Raw("[" * 999 + "]" * 999),
                ]
            )
        if ftype == "geoPoint":
            return self.pick(
                [
                    {"lon": 10, "lat": 20},
                    {"lon": 181, "lat": -91},
                    {"lon": Raw("1e309"), "lat": Raw("NaN")},
                    {"lon": "1", "lat": []},
                    [1, 2],
                    "POINT(1 2)",
                ]
            )
        if ftype == "file":
            return self.pick(["", [], ["nonexistent.png"], "x.png", None])
        return self.value()

    def collection_name(self, *, records: bool = True) -> str:
        k = self.r.random() * (0.7 if self.tame else 1)
        if k < 0.7:
            pool = (
                list(W.FIELDS)
                if records
                else [str(c["name"]) for c in W.COLLECTIONS] + ["users", "_superusers"]
            )
            return self.pick(pool)
        if k < 0.8:
            return self.scratch_name()
        if k < 0.85:
            return self.pick([str(c["id"]) for c in W.COLLECTIONS] + ["_pb_users_auth_", "pbc_3142635823"])
        return self.pick(
            ["nope", "", "POSTS", "posts ", "_pb_", "sqlite_master", "pg_class", self.ident(), self.text(10)]
        )

    def scratch_name(self) -> str:
        """Collections the fuzzer itself creates (and may alter or delete)."""
        return f"fz_{self.r.randint(0, 30)}"

    def record_id(self, coll: str) -> str:
        k = self.r.random()
        ids = W.RECORD_IDS.get(coll, [])
        if (k < 0.6 or self.tame) and ids:
            return self.pick(ids)
        return self.pick(
            [
                "",
                "x",
                "a" * 15,
                "a" * 16,
                "A" * 15,
                "%00",
                "..",
                "fzpost00000000%2F",
                self.text(15),
                "x" * 2000,
                "-1",
            ]
        )

    # ----- the filter language ---------------------------------------------------------------
    def operand(self, coll: str, depth: int) -> str:
        fields = list(W.FIELDS.get(coll, {"title": "text"})) + ["id", "created", "updated"]
        k = self.r.random()
        if k < 0.35:
            f = self.pick(fields)
            if self.chance(0.25):
                rel = W.RELATIONS.get(coll, {})
                if rel:
                    rf = self.pick(rel)
                    f = f"{rf}.{self.pick(list(W.FIELDS.get(rel[rf], {'id': 'text'})) + ['id', 'nope'])}"
            if self.chance(0.15):
                f = f"{self.pick(W.FIELDS)}_via_{self.pick(['post', 'author', 'owner', 'x'])}.{self.pick(['id', 'text', 'title'])}"
            if self.chance(0.2):
                f += self.pick(MODIFIERS)
            return f
        if k < 0.5:
            return self.pick(
                [
                    "@request.auth.id",
                    "@request.auth.email",
                    "@request.auth.collectionName",
                    "@request.auth.verified",
                    "@request.body.title",
                    "@request.body.title:isset",
                    "@request.body.tags:length",
                    "@request.query.x",
                    "@request.headers.x_token",
                    "@request.method",
                    "@request.context",
                    "@collection.posts.title",
                    "@collection.members.email",
                    "@collection.tags:t.name",
                    "@collection.nope.x",
                    "@request.auth.nope.deeper",
                    "@rowid",
                    "@random",
                ]
            )
        if k < 0.62:
            return self.pick(MACROS)
        if k < 0.75:
            s = self.pick(WEIRD_STRINGS[:30] + [self.text(10)])
            q = self.pick(["'", '"'])
            return q + s.replace(q, "\\" + q) + q
        if k < 0.85:
            return str(
                self.pick([0, 1, -1, 1.5, "1e309", "-0", "99999999999999999999999", "0.0000001", "1e5"])
            )
        if k < 0.92:
            return self.pick(["true", "false", "null", "TRUE", "nil"])
        if depth < 3:
            fn = self.pick(["geoDistance", "strftime", "lower", "count", "nofunc"])
            args = ", ".join(self.operand(coll, depth + 1) for _ in range(self.r.randint(0, 4)))
            return f"{fn}({args})"
        return "1"

    def filter_expr(self, coll: str = "posts", depth: int = 0) -> str:
        if self.chance(0.05):
            return self.pick(
                [
                    "(" * 2000 + "1=1" + ")" * 2000,
                    "(" * 300 + "1=1" + ")" * 300,
                    " && ".join(["id != ''"] * 400),
                    "title ~ '" + "%" * 3000 + "'",
                    "title = '" + "x" * 70000 + "'",
                    "@collection.posts.author.email ?= @collection.posts.author.email",
                ]
            )
        parts = [f"{self.operand(coll, depth)} {self.pick(FILTER_OPS)} {self.operand(coll, depth)}"]
        while depth < 3 and self.chance(0.35):
            sub = self.filter_expr(coll, depth + 1)
            if self.chance(0.4):
                sub = f"({sub})"
            parts.append(sub)
        expr = f" {self.pick(['&&', '||', '&&', 'AND', '|'])} ".join(parts)
        if depth == 0 and not self.tame and self.chance(0.2):
            expr = self.mutate(expr)
        return expr

    def mutate(self, s: str) -> str:
        if not s:
            return self.pick(["(", ")", "'", "&&", "="])
        i = self.r.randrange(len(s) + 1)
        k = self.r.random()
        if k < 0.3:
            return s[:i]
        if k < 0.6:
            return (
                s[:i]
                + self.pick(["(", ")", "'", '"', "\\", "&&", "||", "?", "@", ".", ":", "\x00", "~", "[", "]"])
                + s[i:]
            )
        if k < 0.8:
            return s[:i] + s[i + 1 :]
        return s + s

    def sort_expr(self, coll: str) -> str:
        fields = list(W.FIELDS.get(coll, {})) + [
            "id",
            "created",
            "@random",
            "@rowid",
            "nope",
            "author.username",
            "meta.n",
            "tags.name",
        ]
        items = [
            self.pick(["", "-", "+", "--", " "]) + self.pick(fields) for _ in range(self.r.randint(0, 5))
        ]
        s = ",".join(items)
        return self.mutate(s) if self.chance(0.2) else s

    def fields_expr(self, coll: str) -> str:
        fields = list(W.FIELDS.get(coll, {})) + [
            "*",
            "id",
            "expand.author.username",
            "expand.*",
            "title:excerpt(10,true)",
            "body:excerpt(0)",
            "body:excerpt(-1,x)",
            "meta.n",
            "nope",
            "expand.tags.*",
        ]
        s = ",".join(self.pick(fields) for _ in range(self.r.randint(0, 6)))
        return self.mutate(s) if self.chance(0.2) else s

    def expand_expr(self, coll: str) -> str:
        rel = list(W.RELATIONS.get(coll, {})) + [
            "author.posts_via_author",
            "post.author",
            "comments_via_post",
            "comments_via_post.author",
            "nope",
            "author" + ".author" * 10,
            "tags,tags,tags",
        ]
        s = ",".join(self.pick(rel) for _ in range(self.r.randint(0, 4)))
        return self.mutate(s) if self.chance(0.2) else s

    # ----- encodings -------------------------------------------------------------------------
    def seg(self, s: str) -> str:
        """A path segment, percent-encoded in one of several odd ways."""
        k = self.r.random() * (0.75 if self.tame else 1)
        if k < 0.75:
            return quote(s, safe="")
        if k < 0.85:
            return "".join(f"%{b:02X}" for b in s.encode("utf-8", "surrogatepass"))  # every byte encoded
        if k < 0.9:
            return quote(quote(s, safe=""), safe="")  # double-encoded
        if k < 0.95:
            return quote(s, safe="/") + self.pick(["/", "//", "/.", "/..", "%2F", "%", "%zz", "%00", ";x=1"])
        return "".join(f"%{b:02x}" for b in s.encode("utf-8", "surrogatepass")).lower()

    def query(self, pairs: list[tuple[str, Any]]) -> str:
        out = []
        for k, v in pairs:
            if v is None:
                continue
            sv = v if isinstance(v, str) else dumps(v)
            out.append(f"{quote(k, safe='')}={quote(sv, safe=self.pick(['', '/', ',:()']))}")
        if self.chance(0.1):
            out.append(
                self.pick(
                    [
                        "%zz",
                        "&&&",
                        "a=b=c",
                        "=x",
                        "filter",
                        "filter=%",
                        "page=1&page=2",
                        "%00=%00",
                        "x=" + "y" * 9000,
                    ]
                )
            )
        self.r.shuffle(out)
        return "&".join(out)[:60_000]  # httpx refuses URL components past 64 KiB

    def json_body(self, value: Any) -> bytes:
        ctypes = [
            b"application/json",
            b"application/json; charset=utf-8",
            b"APPLICATION/JSON",
            b"application/json; charset=latin-1",
        ]
        self.headers.append(("content-type", ctypes[0] if self.tame else self.pick(ctypes)))
        text = dumps(value)
        if not self.tame and self.chance(0.03):
            text = text.replace("}", ',"dup":1,"dup":2}', 1) if "}" in text else text
        return text.encode("utf-8", "surrogatepass")

    def body(self, value: Any) -> bytes:
        """`value` in a randomly chosen encoding: mostly JSON, sometimes anything but."""
        k = self.r.random() * (0.72 if self.tame else 1)
        if k < 0.72:
            return self.json_body(value)
        if k < 0.8:
            raw = self.json_body(value)
            if not raw:
                return b"{"
            i = self.r.randrange(len(raw))
            return self.pick(
                [
                    raw[:i],
                    raw[:i] + b"\xff\xfe" + raw[i:],
                    raw + b"garbage",
                    b"\xef\xbb\xbf" + raw,
                    raw.replace(b'"', b"'"),
                ]
            )
        if k < 0.88:
            return self.multipart(value)
        if k < 0.92:
            self.headers.append(("content-type", b"application/x-www-form-urlencoded"))
            if isinstance(value, dict):
                return self.query([(str(a), b) for a, b in value.items()]).encode()
            return b"%%%=&&" + dumps(value).encode("utf-8", "surrogatepass")[:100]
        if k < 0.96:
            self.headers.append(
                (
                    "content-type",
                    self.pick(
                        [
                            b"text/plain",
                            b"application/xml",
                            b"",
                            b"multipart/form-data",
                            b"application/json;;;",
                            b"*/*",
                            b"application/x-msgpack",
                        ]
                    ),
                )
            )
            return dumps(value).encode("utf-8", "surrogatepass")
        return self.pick(
            [
                b"",
                b"\x00" * 10,
                b"\xff" * 50,
                b"null",
                b"[]",
                b"{}",
                b"1e309",
                b'"x"',
                b"{" * 2000,
                b"[" * 100000,
            ]
        )

    def multipart(self, value: Any) -> bytes:
        boundary = self.pick(["fzb", "----x" + "y" * 60, "a" * 71, "b"])
        parts: list[bytes] = []
        fields = value if isinstance(value, dict) else {"@jsonPayload": value}
        for name, v in fields.items():
            if self.chance(0.3):
                name, v = "@jsonPayload", {name: v}
            data = v if isinstance(v, str) else dumps(v)
            parts.append(
                f'Content-Disposition: form-data; name="{name}"\r\n\r\n{data}'.encode(
                    "utf-8", "surrogatepass"
                )
            )
        for _ in range(self.r.randint(0, 2)):
            fname = self.pick(["a.txt", "../../x.png", "", "ü.png", "x" * 300, "a\x00.png", 'q"uote.txt'])
            field = self.pick(
                ["attachment", "attachment+", "+attachment", "attachment-", "avatar", "nope", "title"]
            )
            ctype = self.pick(["image/png", "text/plain", "application/octet-stream", "", "x/y"])
            content = self.pick([b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, b"x" * 200_000, b"hello"])
            parts.append(
                f'Content-Disposition: form-data; name="{field}"; filename="{fname}"\r\nContent-Type: {ctype}\r\n\r\n'.encode(
                    "utf-8", "surrogatepass"
                )
                + content
            )
        sep = f"--{boundary}\r\n".encode()
        out = b"".join(sep + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode()
        if self.chance(0.15):
            out = out[: self.r.randrange(len(out) + 1)]
        ctype = (
            f"multipart/form-data; boundary={boundary}"
            if self.chance(0.9)
            else self.pick(
                [
                    "multipart/form-data",
                    f"multipart/form-data; boundary={boundary}x",
                    "multipart/mixed; boundary=fzb",
                ]
            )
        )
        self.headers.append(("content-type", ctype.encode()))
        return out

    # ----- headers and identities ------------------------------------------------------------
    def forged_jwt(self) -> str:
        def b64(obj: Any) -> str:
            raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        payload = self.pick(
            [
                {
                    "id": W.USER_ID,
                    "collectionId": "fzc_members0001",
                    "type": "auth",
                    "refreshable": True,
                    "exp": 1,
                },
                {"id": W.USER_ID, "collectionId": "fzc_members0001", "type": "auth", "exp": 4102444800},
                {"id": "x", "collectionId": "pbc_3142635823", "type": "auth", "exp": 4102444800},
                {
                    "id": W.USER_ID,
                    "collectionId": "fzc_members0001",
                    "type": self.pick(["file", "verification", "passwordReset", "emailChange", "x", 1]),
                    "exp": 4102444800,
                    "email": "a@b.c",
                },
                {"exp": "soon"},
                {"id": [], "collectionId": {}, "type": None, "exp": 1e309},
                [],
                "x",
            ]
        )
        header = self.pick(
            [
                {"alg": "HS256", "typ": "JWT"},
                {"alg": "none"},
                {"alg": "RS256"},
                {"alg": "HS256", "kid": "../x"},
                {},
            ]
        )
        sig = self.pick(["", "AAAA", "sig", b64(b"\x00" * 32)])
        return f"{b64(header)}.{b64(payload)}.{sig}"

    def auth_header(self) -> None:
        k = self.r.random()
        if k < 0.86 or self.tame:
            return  # the harness adds the identity's token
        value = self.pick(
            [
                "",
                "Bearer",
                "Bearer " + W.TOKEN_USER,
                W.TOKEN_USER + "x",
                W.TOKEN_USER[:-3],
                W.TOKEN_SUPERUSER + "." + W.TOKEN_USER,
                "Basic YWRtaW46YWRtaW4=",
                self.forged_jwt(),
                self.forged_jwt(),
                "a.b.c",
                "....",
                "x" * self.pick([100, 8000]),
                "é",
            ]
        )
        self.headers.append(("authorization", value.encode("latin-1", "replace")))

    def extra_headers(self) -> None:
        if self.tame or not self.chance(0.2):
            return
        name, value = self.pick(
            [
                (
                    "x-forwarded-for",
                    self.pick(["1.2.3.4", "::1, 10.0.0.1", "not-an-ip", "", "1.1.1.1," * 200]),
                ),
                ("x-real-ip", "999.999.0.1"),
                ("accept", self.pick(["*/*", "text/event-stream", "application/xml", "x"])),
                ("accept-encoding", self.pick(["gzip", "br, zstd", "identity;q=0", "*;q=x"])),
                ("origin", self.pick(["https://evil.example", "null", "ü"])),
                ("range", "bytes=10-0"),
                ("if-none-match", '"x"'),
                ("cookie", "pb_auth=" + "x" * 100),
                ("user-agent", "\xff" * 20),
                ("x-huge", "h" * self.pick([1000, 8000, 16000])),
                ("content-length-x", "-1"),
                ("expect", "100-continue"),
                ("transfer-encoding-x", "chunked"),
                ("x_token", "underscore"),
                ("fields", "title"),
            ]
        )
        self.headers.append((name, value.encode("latin-1", "replace")))

    # ----- endpoints -------------------------------------------------------------------------
    def make(self, endpoint: str, method: str, path: str, query: str = "", body: bytes = b"") -> FuzzRequest:
        self.auth_header()
        self.extra_headers()
        if not self.tame and self.chance(0.03):
            method = self.pick(
                ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "get", "FOO", "CONNECTX"]
            )
        # hyper (granian) answers a request target past 64 KiB with a bare 414 before Hearth
        # sees it, and httpx refuses such URLs anyway: keep the target well under that.
        target = (path[:30_000] + ("?" + query if query else ""))[:60_000]
        return FuzzRequest(self.index, endpoint, method, target, tuple(self.headers), body, self.who)

    def build(self) -> FuzzRequest:
        return self.weighted(
            [
                (14, self.records_list),
                (5, self.records_view),
                (10, self.records_create),
                (7, self.records_update),
                (3, self.records_delete),
                (4, self.collections_read),
                (6, self.collections_create),
                (4, self.collections_update),
                (2, self.collections_delete),
                (2, self.collections_import),
                (5, self.batch),
                (12, self.auth),
                (3, self.settings),
                (2, self.health),
                (3, self.realtime),
                (2, self.files),
                (1, self.api_keys),
                (1, self.background),
                (4, self.random_path),
            ]
        )

    def records_path(self, coll: str, rid: str | None = None) -> str:
        p = f"/api/collections/{self.seg(coll)}/records"
        return p if rid is None else f"{p}/{self.seg(rid)}"

    def list_query(self, coll: str) -> str:
        pairs: list[tuple[str, Any]] = []
        if self.chance(0.6):
            pairs.append(("filter", self.filter_expr(coll)))
        if self.chance(0.4):
            pairs.append(("sort", self.sort_expr(coll)))
        if self.chance(0.3):
            pairs.append(("fields", self.fields_expr(coll)))
        if self.chance(0.3):
            pairs.append(("expand", self.expand_expr(coll)))
        for name in ("page", "perPage"):
            if self.chance(0.3):
                pairs.append(
                    (
                        name,
                        self.pick(
                            [
                                "1",
                                "0",
                                "-1",
                                "2",
                                "500",
                                "501",
                                "1000000",
                                "99999999999999999999",
                                "1.5",
                                "1e3",
                                "x",
                                "",
                                " 1",
                            ]
                        ),
                    )
                )
        if self.chance(0.2):
            pairs.append(("skipTotal", self.pick(["1", "true", "0", "false", "yes", ""])))
        return self.query(pairs)

    def records_list(self) -> FuzzRequest:
        coll = self.collection_name()
        return self.make("records.list", "GET", self.records_path(coll), self.list_query(coll))

    def records_view(self) -> FuzzRequest:
        coll = self.collection_name()
        q = self.query(
            [
                ("expand", self.expand_expr(coll)),
                ("fields", self.fields_expr(coll) if self.chance(0.5) else None),
            ]
        )
        return self.make("records.view", "GET", self.records_path(coll, self.record_id(coll)), q)

    def record_body(self, coll: str) -> dict[str, Any]:
        fields = W.FIELDS.get(coll, {"title": "text"})
        body: dict[str, Any] = {}
        for name, ftype in fields.items():
            if self.chance(0.5):
                body[name] = self.field_value(ftype, coll, name)
            if self.chance(0.05):
                body[name + self.pick(["+", "-", "+-", ":x"])] = self.field_value(ftype, coll, name)
        if self.tame:
            return body
        if self.chance(0.3):
            body[self.key()] = self.value()
        if self.chance(0.15):
            body["id"] = self.pick(
                [
                    "",
                    "fz" + "0" * 13,
                    "short",
                    "UPPERCASE000000",
                    "x" * 16,
                    "fzpost000000000",
                    "a b c d e f g h",
                    123,
                ]
            )
        if self.chance(0.1):
            body.update({"collectionId": "x", "collectionName": "y", "created": "2000-01-01", "expand": {}})
        if coll in W.AUTH_COLLECTIONS and self.chance(0.5):
            pw = self.pick(["Secret-pass-12", "short", "", "x" * 100, None, 1])
            body.update(
                {
                    "email": self.field_value("email"),
                    "password": pw,
                    "passwordConfirm": pw if self.chance(0.7) else "other",
                }
            )
            if self.chance(0.3):
                body.update(
                    {"emailVisibility": self.value(), "verified": self.value(), "oldPassword": self.value()}
                )
        return body

    def records_create(self) -> FuzzRequest:
        coll = self.collection_name()
        q = self.query([("expand", self.expand_expr(coll))]) if self.chance(0.2) else ""
        return self.make(
            "records.create", "POST", self.records_path(coll), q, self.body(self.record_body(coll))
        )

    def records_update(self) -> FuzzRequest:
        coll = self.collection_name()
        rid = self.record_id(coll)
        if rid in W.PROTECTED_IDS:
            rid = W.VICTIM_ID
        return self.make(
            "records.update", "PATCH", self.records_path(coll, rid), "", self.body(self.record_body(coll))
        )

    def records_delete(self) -> FuzzRequest:
        coll = self.collection_name()
        rid = self.record_id(coll)
        if rid in W.PROTECTED_IDS:
            rid = W.VICTIM_ID
        return self.make("records.delete", "DELETE", self.records_path(coll, rid))

    # collections
    def collections_read(self) -> FuzzRequest:
        k = self.r.random()
        if k < 0.4:
            q = self.query(
                [
                    (
                        "filter",
                        self.filter_expr("posts")
                        if self.chance(0.5)
                        else self.pick(["name ~ 'p'", "type = 'auth'", "system = true", "fields.name = 'x'"]),
                    ),
                    ("sort", self.pick(["-created", "name", "@random", "type,-name", "nope"])),
                    ("page", self.pick(["1", "2", "-1", "x"])),
                ]
            )
            return self.make("collections.list", "GET", "/api/collections", q)
        if k < 0.8:
            return self.make(
                "collections.view", "GET", f"/api/collections/{self.seg(self.collection_name(records=False))}"
            )
        if k < 0.9:
            return self.make("collections.scaffolds", "GET", "/api/collections/meta/scaffolds")
        return self.make(
            "collections.truncate",
            "DELETE",
            f"/api/collections/{self.seg(self.scratch_name() if self.chance(0.8) else self.pick(['posts', 'comments', 'tags', 'post_stats', 'users', '_superusers', 'nope']))}/truncate",
        )

    def field_def(self) -> dict[str, Any]:
        ftype = self.pick(FIELD_TYPES + ["nope", "", "TEXT"]) if self.chance(0.95) else self.value()
        name = self.pick(
            [
                self.ident(),
                self.ident(),
                "id",
                "created",
                "title",
                "select",
                "order",
                "group",
                "_x",
                "x" * 300,
                "with space",
                "ünï",
                "a.b",
                "",
                "@x",
                "collectionId",
                "expand",
            ]
        )
        f: dict[str, Any] = {"name": name, "type": ftype}
        options: dict[str, list[Any]] = {
            "required": [True, False, "yes"],
            "hidden": [True, False],
            "presentable": [True, 1],
            "system": [True, False],
            "id": ["", "x", "text123", self.text(10)],
            "min": [0, -1, 5, 1e309, Raw("1e309"), "1", None, 2**64],
            "max": [0, 1, 10, -5, Raw("-0"), "x", 2**64, 1e308],
            "onlyInt": [True, "no"],
            "pattern": [
                "^[a-z]+$",
                "(a+)+$",
                "[",
                "(?=x)",
                "\\",
                "(?P<n>x)",
                "a{99999}",
                ".*" * 50,
                "\\p{Greek}",
                "(?i)x",
                "\x00",
            ],
            "autogeneratePattern": ["[a-z]{5}", "[", "x{100000}", "(a|b)*"],
            "values": [["a", "b"], [], ["a", "a"], [1, 2], "a,b", [""], ["x" * 1000]],
            "maxSelect": [0, 1, 5, -1, 1000000, "2", 1.5],
            "collectionId": [
                "fzc_posts000001",
                "fzc_members0001",
                "nope",
                "",
                "fzc_poststats01",
                "_pb_users_auth_",
                1,
            ],
            "cascadeDelete": [True, False],
            "minSelect": [0, 3, -1],
            "maxSize": [0, 1, 2**70, -1],
            "mimeTypes": [["image/png"], ["x"], "image/png"],
            "thumbs": [["100x100"], ["0x0"], ["bad"], ["100x100f", "10x0t"]],
            "protected": [True, False],
            "onCreate": [True, False, "x"],
            "onUpdate": [True, False],
            "exceptDomains": [["example.com"], ["", "%"]],
            "onlyDomains": [["x.y"], [1]],
            "convertURLs": [True],
            "cost": [4, 40, 0, -1],
        }
        for opt, vals in options.items():
            if self.chance(0.12):
                f[opt] = self.pick(vals)
        if self.chance(0.05):
            f[self.key()] = self.value()
        return f

    def collection_def(self, name: str) -> dict[str, Any]:
        ctype = self.pick(["base", "base", "auth", "view", "nope", "", "BASE"])
        body: dict[str, Any] = {"name": name, "type": ctype}
        if self.chance(0.1):
            body["id"] = self.pick(["", "fzc_posts000001", "pbc_x", "x" * 100, self.text(10)])
        if ctype == "view" or self.chance(0.05):
            body["viewQuery"] = self.pick(
                [
                    "SELECT id, title FROM posts",
                    "SELECT p.id, count(*) AS c FROM posts p GROUP BY p.id",
                    "SELECT id FROM posts; DROP TABLE posts",
                    "SELECT title FROM posts",
                    "SELECT * FROM posts",
                    "SELECT id, (SELECT 1) AS x FROM comments",
                    "select id, meta->>'n' as n from posts",
                    "SELECT id, json_extract(meta, '$.n') AS n FROM posts",
                    "SELECT 1 AS id",
                    "SELECT id FROM nope",
                    "SELECT id FROM " + "(" * 100 + "SELECT id FROM posts" + ")" * 100,
                    "WITH x AS (SELECT id FROM posts) SELECT id FROM x",
                    "SELECT id, sqlite_version() AS v FROM posts",
                    "SELECT id, pg_sleep(0) AS s FROM posts",
                    "SELEC",
                    "",
                    self.text(30),
                    "SELECT id, created FROM comments UNION SELECT id, created FROM posts",
                    "SELECT c.id, p.title FROM comments c JOIN posts p ON p.id = c.post",
                ]
            )
        for rule in (
            "listRule",
            "viewRule",
            "createRule",
            "updateRule",
            "deleteRule",
            "authRule",
            "manageRule",
        ):
            if self.chance(0.3):
                body[rule] = self.pick(
                    [
                        None,
                        "",
                        self.filter_expr("posts"),
                        self.filter_expr("posts"),
                        1,
                        [],
                        "@request.auth.id != ''",
                    ]
                )
        if self.chance(0.8):
            body["fields"] = [self.field_def() for _ in range(self.r.randint(0, 6))]
            if self.chance(0.1):
                body["fields"] = self.value()
        if self.chance(0.2):
            body["indexes"] = self.pick(
                [
                    [f"CREATE INDEX idx_{self.ident()} ON {name} (id)"],
                    [f"CREATE UNIQUE INDEX u_{self.ident()} ON {name} (title)"],
                    ["CREATE INDEX x ON posts (title)"],
                    ["DROP TABLE posts"],
                    ["CREATE INDEX"],
                    [""],
                    "CREATE INDEX a ON b (c)",
                    [f"CREATE INDEX `a` ON `{name}` (`nope` DESC, id COLLATE nocase)"],
                    [f"CREATE INDEX i1 ON {name} (id)", f"CREATE INDEX i1 ON {name} (id)"],
                    [f"CREATE INDEX i2 ON {name} (lower(id)) WHERE id != ''"],
                ]
            )
        if ctype == "auth" or self.chance(0.05):
            for opt in (
                "passwordAuth",
                "otp",
                "mfa",
                "oauth2",
                "authToken",
                "verificationTemplate",
                "authAlert",
            ):
                if self.chance(0.2):
                    body[opt] = self.pick(
                        [
                            {"enabled": True},
                            {"enabled": "yes"},
                            {"identityFields": ["email", "nope"]},
                            {"duration": -1, "length": 0},
                            {"duration": Raw("1e309")},
                            {"providers": [{"name": "nope"}]},
                            {"subject": "{{", "body": "{APP_NAME}" * 1000},
                            [],
                            None,
                        ]
                    )
        return body

    def collections_create(self) -> FuzzRequest:
        name = self.pick(
            [self.scratch_name()] * 4
            + [
                "posts",
                "_superusers",
                "",
                "x" * 300,
                "select",
                "sqlite_master",
                "pg_catalog",
                "a-b",
                "a b",
                "ünï",
                "_pb_x",
                "1abc",
                self.ident(),
                self.text(10),
                "Users",
            ]
        )
        return self.make(
            "collections.create", "POST", "/api/collections", "", self.body(self.collection_def(name))
        )

    def collections_update(self) -> FuzzRequest:
        target = self.scratch_name() if self.chance(0.85) else self.pick(["nope", "users", ""])
        body = self.collection_def(self.pick([target, self.scratch_name(), "posts", "x" * 200]))
        if self.chance(0.5):
            body.pop("type", None)
        return self.make(
            "collections.update", "PATCH", f"/api/collections/{self.seg(target)}", "", self.body(body)
        )

    def collections_delete(self) -> FuzzRequest:
        target = (
            self.scratch_name()
            if self.chance(0.8)
            else self.pick(["nope", "_superusers", "_mfas", "_otps", "", "%00"])
        )
        return self.make("collections.delete", "DELETE", f"/api/collections/{self.seg(target)}")

    def collections_import(self) -> FuzzRequest:
        cols = [self.collection_def(self.scratch_name()) for _ in range(self.r.randint(0, 3))]
        # deleteMissing only as a wrong type: a real `true` would drop the world.
        body: Any = {"collections": cols, "deleteMissing": self.pick([False, "yes", 1, None, [], False])}
        if self.chance(0.15):
            body = self.pick([{"collections": self.value()}, cols, {}, {"collections": [self.value()]}])
        return self.make("collections.import", "PUT", "/api/collections/import", "", self.body(body))

    # batch
    def batch_item(self) -> Any:
        coll = self.collection_name()
        methods: list[Any] = ["POST", "PATCH", "DELETE", "PUT", "GET", "post", "", 1]
        urls = [
            f"/api/collections/{coll}/records",
            f"/api/collections/{coll}/records/{self.record_id(coll)}",
            f"/api/collections/{coll}/records?expand={self.expand_expr(coll)}&fields={self.fields_expr(coll)}",
            "/api/collections",
            "/api/batch",
            "/api/health",
            "http://evil/x",
            "",
            self.text(20),
        ]
        method = self.pick(methods[:3] if self.tame else methods)
        url = self.pick(urls[:3] if self.tame else urls).replace(W.USER_ID, W.VICTIM_ID)
        item: dict[str, Any] = {"method": method, "url": url}
        if self.chance(0.8):
            item["body"] = self.record_body(coll) if self.chance(0.85) else self.value()
        if not self.tame and self.chance(0.2):
            item["headers"] = self.pick(
                [{"Authorization": self.forged_jwt()}, {"x": 1}, [], {"content-type": "text/plain"}]
            )
        if not self.tame and self.chance(0.05):
            return self.value()
        return item

    def batch(self) -> FuzzRequest:
        n = self.pick([1, 2, 3, 5] if self.tame else [0, 1, 2, 3, 5, 21, 60])
        body: Any = {"requests": [self.batch_item() for _ in range(n)]}
        if self.chance(0.1):
            body = self.pick([{"requests": self.value()}, [], {"requests": {}}, self.value()])
        return self.make("batch", "POST", "/api/batch", "", self.body(body))

    # auth
    def auth(self) -> FuzzRequest:
        coll = self.pick(W.AUTH_COLLECTIONS * 3 + ["posts", "nope", "post_stats"])
        base = f"/api/collections/{self.seg(coll)}"
        identity = self.pick(
            [W.USER[0], W.VICTIM[0], W.SUPERUSER[0], "victim", "", "x" * 1000, self.field_value("email")]
        )
        password = self.pick([W.USER[1], W.VICTIM[1], "wrong", "", self.value()])
        if identity in (W.USER[0], W.SUPERUSER[0]):
            # Only the right password for the identities the run signs in with: failures would
            # lock them out (settings.rateLimits.identity); the victim takes the wrong ones.
            password = W.USER[1] if identity == W.USER[0] else W.SUPERUSER[1]
        token = self.pick([W.TOKEN_USER, W.TOKEN_SUPERUSER, self.forged_jwt(), "", "x", self.value()])
        action = self.pick(
            [
                "auth-with-password",
                "auth-with-password",
                "auth-refresh",
                "request-otp",
                "auth-with-otp",
                "request-password-reset",
                "confirm-password-reset",
                "request-verification",
                "confirm-verification",
                "request-email-change",
                "confirm-email-change",
                "auth-methods",
                "impersonate",
                "auth-with-oauth2",
                "auth-logout",
            ]
        )
        if action == "auth-methods":
            return self.make(
                "auth.methods",
                "GET",
                f"{base}/auth-methods",
                self.query(
                    [("fields", self.pick(["*", "password", "oauth2.providers.name", "x:excerpt(1)"]))]
                )
                if self.chance(0.3)
                else "",
            )
        if action == "impersonate":
            rid = self.record_id("members" if coll == "members" else coll)
            body = {"duration": self.pick([0, 1, 60, -1, 1e309, Raw("1e309"), "x", 2**63, None])}
            return self.make(
                "auth.impersonate", "POST", f"{base}/impersonate/{self.seg(rid)}", "", self.body(body)
            )
        bodies: dict[str, Any] = {
            "auth-with-password": {
                "identity": identity,
                "password": password,
                "identityField": self.pick([None, "email", "username", "id", "password", 1]),
            },
            "auth-refresh": {},
            "request-otp": {"email": identity},
            "auth-with-otp": {
                "otpId": self.pick(["", "x" * 15, self.text(15), 1]),
                "password": self.pick(["123456", "", self.value()]),
                "mfaId": self.pick([None, "x"]),
            },
            "request-password-reset": {"email": identity},
            "confirm-password-reset": {"token": token, "password": password, "passwordConfirm": password},
            "request-verification": {"email": identity},
            "confirm-verification": {"token": token},
            "request-email-change": {"newEmail": self.field_value("email")},
            "confirm-email-change": {"token": token, "password": password},
            "auth-with-oauth2": {
                "provider": self.pick(["google", "oidc", "", "nope", 1]),
                "code": "x",
                "codeVerifier": "y",
                "redirectURL": self.pick(["http://127.0.0.1:9/", "", "x"]),
                "createData": self.value(),
            },
            "auth-logout": {},
        }
        body = bodies[action]
        for k in list(body):
            if not self.tame and self.chance(0.15):
                body[k] = self.value()
        if not self.tame and self.chance(0.1):
            body = self.value()
        if isinstance(body, dict) and body.get("identity") in (W.USER[0], W.SUPERUSER[0]):
            body["password"] = password
        q = (
            self.query(
                [
                    ("expand", self.pick(["", "x", "author"])),
                    ("fields", self.pick(["token", "record.email", "*"])),
                ]
            )
            if self.chance(0.15)
            else ""
        )
        return self.make(f"auth.{action}", "POST", f"{base}/{action}", q, self.body(body))

    # settings
    def settings(self) -> FuzzRequest:
        if self.chance(0.3):
            return self.make(
                "settings.get",
                "GET",
                "/api/settings",
                self.query([("fields", self.pick(["*", "smtp", "meta.appName", "x"]))])
                if self.chance(0.3)
                else "",
            )
        if self.chance(0.1):
            body = {
                "template": self.pick(
                    ["verification", "password-reset", "email-change", "otp", "login-alert", "x", 1]
                ),
                "email": self.field_value("email"),
                "collection": self.pick(["members", "posts", "nope", ""]),
            }
            return self.make("settings.test_email", "POST", "/api/settings/test/email", "", self.body(body))
        patch: dict[str, Any] = {}
        section = self.pick(
            [
                "meta",
                "smtp",
                "batch",
                "rateLimits",
                "logs",
                "trustedProxy",
                "superuserIPs",
                "s3",
                "backups",
                self.key(),
            ]
        )
        value: Any = {
            "meta": {
                "appName": self.pick(["x", "", "x" * 300, self.value()]),
                "appURL": self.pick(["http://x", "", "nope", 1]),
                "senderAddress": self.field_value("email"),
                "hideControls": self.value(),
            },
            "smtp": {
                "enabled": self.pick([False, "true", 1]),
                "host": self.pick(["", "127.0.0.1", 1]),
                "port": self.pick([0, -1, 70000, "25"]),
                "tls": self.value(),
            },
            "batch": {
                "enabled": True,
                "maxRequests": self.pick([0, -1, 1, 10**20, "x", 5]),
                "timeout": self.pick([0, 1, -1, 1e309, Raw("1e309")]),
                "maxBodySize": self.pick([0, -1, 1, 100, 2**63]),
            },
            "rateLimits": {
                "enabled": self.pick([False, "x", 1]),
                "rules": self.pick(
                    [
                        [],
                        [
                            {
                                "label": self.pick(["", "x", "/api/", "GET /api/health", "*:auth"]),
                                "duration": self.pick([0, 1, -1, "x"]),
                                "maxRequests": self.pick([0, 1, 10**20]),
                                "audience": self.pick(["", "@guest", "x"]),
                            }
                        ],
                        "x",
                    ]
                ),
            },
            "logs": {"maxDays": self.pick([0, -1, 10**9, "x"]), "minLevel": self.value()},
            "trustedProxy": {
                "headers": self.pick([[], ["X-Forwarded-For"], [1], "x"]),
                "useLeftmostIP": self.value(),
            },
            "superuserIPs": self.pick(
                [["127.0.0.1", "::1"], ["0.0.0.0/0"], ["nope"], ["999.1.1.1/99"], "x", [1], ["10.0.0.1/33"]]
            ),
        }.get(section, self.value())
        patch[section] = value
        return self.make("settings.patch", "PATCH", "/api/settings", "", self.body(patch))

    def health(self) -> FuzzRequest:
        return self.make(
            "health",
            self.pick(["GET", "GET", "HEAD", "POST"]),
            "/api/health" + self.pick(["", "/", "/x"]),
            self.query([("fields", self.pick(["code", "*", "data.canBackup", "message:excerpt(2)"]))])
            if self.chance(0.3)
            else "",
        )

    def realtime(self) -> FuzzRequest:
        client = self.pick([W.CLIENT_ID] * 3 + ["", "nope", "x" * 5000, self.text(20)])
        subs = [
            self.pick(
                [
                    "posts",
                    "posts/*",
                    f"posts/{self.record_id('posts')}",
                    "posts?options="
                    + dumps(
                        {
                            "query": {
                                "filter": self.filter_expr("posts"),
                                "expand": self.expand_expr("posts"),
                            },
                            "headers": {"x": self.value()},
                        }
                    ),
                    "posts?options=" + self.pick(["{", "[]", "null", "%7B"]),
                    "comments/*?options=" + dumps({"query": {"fields": self.fields_expr("comments")}}),
                    "secrets/*",
                    "nope/*",
                    "",
                    "x" * 3000,
                    self.text(10),
                ]
            )
            for _ in range(self.pick([0, 1, 3, 200]))
        ]
        body: Any = {"clientId": client, "subscriptions": subs}
        if self.chance(0.15):
            body = {"clientId": self.value(), "subscriptions": self.value()}
        return self.make("realtime.subscribe", "POST", "/api/realtime", "", self.body(body))

    def files(self) -> FuzzRequest:
        if self.chance(0.3):
            return self.make(
                "files.token", "POST", "/api/files/token", "", self.body(self.pick([{}, self.value()]))
            )
        coll = self.collection_name()
        path = f"/api/files/{self.seg(coll)}/{self.seg(self.record_id(coll))}/{self.seg(self.pick(['x.png', '../../data.db', '', 'a%00.png', 'x' * 300]))}"
        q = self.query(
            [
                ("thumb", self.pick(["100x100", "0x0", "x", "99999x99999", None])),
                ("token", self.pick(["", self.forged_jwt(), None])),
                ("download", self.pick(["1", "true", None])),
            ]
        )
        return self.make("files.get", "GET", path, q)

    def api_keys(self) -> FuzzRequest:
        if self.chance(0.4):
            return self.make("apikeys.list", "GET", "/api/hearth/api-keys")
        if self.chance(0.3):
            return self.make("apikeys.delete", "DELETE", f"/api/hearth/api-keys/{self.seg(self.text(15))}")
        body = {
            "name": self.string(),
            "duration": self.number(),
            "scopes": self.pick([["read"], ["admin"], [], "x", [1]]),
        }
        return self.make("apikeys.create", "POST", "/api/hearth/api-keys", "", self.body(body))

    def background(self) -> FuzzRequest:
        """The crons API (PocketBase's) and the jobs API (Hearth's)."""
        ident = self.seg(self.pick(["__hearthJobsCleanup__", "nope", self.text(15), "", "x" * 300, "a/b"]))
        if self.chance(0.2):
            return self.make("crons.list", "GET", "/api/crons")
        if self.chance(0.2):
            return self.make("crons.run", "POST", f"/api/crons/{ident}", "", self.body({}))
        if self.chance(0.3):
            q = self.query(
                [
                    ("state", self.pick(["pending", "failed", "done", "x", "", None])),
                    ("name", self.pick(["cron:__hearthJobsCleanup__", self.string(), None])),
                    ("page", self.pick(["1", "0", "-1", "x", "99999999999999999999", None])),
                    ("perPage", self.pick(["1", "0", "5000", "x", None])),
                ]
            )
            return self.make("jobs.list", "GET", "/api/hearth/jobs", q)
        if self.chance(0.4):
            action = self.pick(["", "/retry", "/cancel"])
            method = "GET" if not action else "POST"
            return self.make("jobs.one", method, f"/api/hearth/jobs/{ident}{action}", "", self.body({}))
        return self.webhooks(ident)

    def webhooks(self, ident: str) -> FuzzRequest:
        """The webhooks API (Hearth's): endpoint bodies of every shape, ids of every kind."""
        body = {
            "url": self.pick(["http://127.0.0.1:9/", "https://example.com/hook", "ftp://x", "", self.string(),
                              "http://169.254.169.254/", "http://[::1]/", 5]),
            "collection": self.pick([self.collection_name(), "", "nope", None, 1]),
            "events": self.pick([["create"], ["create", "update", "delete"], [], ["explode"], "create", None]),
            "filter": self.pick(["", "title = 'x'", "@request.auth.id != ''", "((", self.string(), None]),
            "active": self.pick([True, False, "yes", None]),
            "secret": self.pick(["whsec_" + "A" * 43, "short", None]),
            "name": self.pick([self.string(), None]),
        }  # fmt: skip
        if self.chance(0.1):
            body["unknown"] = 1
        body = {k: v for k, v in body.items() if v is not None}
        kind = self.pick(["list", "create", "view", "update", "delete", "deliveries"])
        if kind == "list":
            return self.make("webhooks.list", "GET", "/api/hearth/webhooks")
        if kind == "create":
            return self.make("webhooks.create", "POST", "/api/hearth/webhooks", "", self.body(body))
        if kind == "view":
            return self.make("webhooks.view", "GET", f"/api/hearth/webhooks/{ident}")
        if kind == "update":
            return self.make("webhooks.update", "PATCH", f"/api/hearth/webhooks/{ident}", "", self.body(body))
        if kind == "delete":
            return self.make("webhooks.delete", "DELETE", f"/api/hearth/webhooks/{ident}")
        q = self.query([("page", self.pick(["1", "x", "-5", None])), ("perPage", self.pick(["2", "0", None]))])
        return self.make("webhooks.deliveries", "GET", f"/api/hearth/webhooks/{ident}/deliveries", q)

    def random_path(self) -> FuzzRequest:
        pieces = [
            "api",
            "collections",
            "records",
            "posts",
            "_",
            "..",
            ".",
            "",
            "%2e%2e",
            "x" * 2000,
            "batch",
            "realtime",
            "files",
            "settings",
            "health",
            "meta",
            "scaffolds",
            "oauth2-redirect",
            "import",
            "truncate",
            self.text(5),
        ]
        path = "/" + "/".join(self.seg(self.pick(pieces)) for _ in range(self.r.randint(0, 8)))
        if self.chance(0.5):
            path = "/api" + path
        method = self.pick(["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD"])
        if path.rstrip("/") in ("/api/realtime", "/api/api/realtime") and method == "GET":
            method = "POST"  # GET would open an event stream (the harness covers that separately)
        q = self.query([(self.ident(), self.string()) for _ in range(self.r.randint(0, 3))])
        return self.make(
            "random_path",
            method,
            path,
            q,
            self.body(self.value()) if method in ("POST", "PATCH", "PUT") else b"",
        )
