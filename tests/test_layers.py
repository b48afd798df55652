"""Layering rules that keep the code base navigable (see docs/architecture.md, "Layers").

The imports are read with `ast`, not matched as text: every `import hearth.x…`,
`from hearth.x… import …`, `from hearth import x` and relative import anywhere in a module
counts, at module level or inside a function, class or try block. Only the body of an
`if TYPE_CHECKING:` block is left out of the layer and cycle checks: it never runs, so an
annotation may name a type of any package without making the packages depend on each other at
run time. (Imports through importlib or strings are not seen; Hearth uses none.)

A "package" is a top-level name under src/hearth: a directory (`schema`, `http`) or a module
(`errors.py`, `app.py`); `hearth` itself is the package's own `__init__.py`.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hearth"

# Package → layer. A package may import only packages of a LOWER layer: siblings in one layer
# are independent of each other. Every package must be listed (place new ones here and in
# docs/architecture.md); a listed package may be absent (hooks is being added).
LAYERS: dict[str, int] = {
    # Libraries: no domain knowledge, usable from anywhere.
    "version": 0,
    "errors": 0,
    "config": 0,
    "_util": 1,  # ids, times, deepjson, outage, tasks, passwords, projection (`?fields=`)
    "filter": 1,  # the filter language: text → tree
    "ratelimit": 2,
    "hooks": 2,
    "dashboard": 1,  # the admin UI's static files (HTML, CSS, JS), served by http
    "files": 2,  # file storage: local disk (PocketBase's layout) and S3, one interface
    # Storage.
    "sql": 3,  # SQL text, from plain data (names, dialect, small protocols)
    "db": 4,  # connections and transactions
    "schema": 5,  # collections and fields as data, migrations, the repository, bootstrap
    # Reading data.
    "query": 6,  # filter tree + collection → SQL condition; the request context
    "rules": 7,  # the one gate for API rules
    # Domain services.
    "records": 8,
    "settings": 8,
    "sqlconsole": 8,  # the superuser SQL console (POST /api/sql) over db
    "jobs": 8,  # durable jobs (queue, worker) and cron, in the application's database
    "logs": 8,  # request logs (_logs): the buffer, its writer, list/stats through the filter compiler
    "auth": 9,  # uses the record service
    "collections": 10,  # the collection service (rules checked by query, truncate by records)
    "mail": 10,  # auth mails carry auth's tokens
    "realtime": 10,
    "audit": 10,  # the audit trail: record hooks write an entry in the write's transaction
    "backups": 10,  # backups: engines per database over db and sql, archives in files' storage
    "openapi": 10,  # the OpenAPI description, generated from the live collections
    "webhooks": 10,  # outbound webhooks: record hooks enqueue durable jobs that POST signed payloads
    "transfer": 10,  # hearth import|export pocketbase: whole databases between PocketBase's layout and Hearth
    "migrations": 10,  # migration files: applied through the collection service (duck-typed), written in --dev
    "metrics": 10,  # Prometheus metrics: hooks observed, the pool, jobs by state (realtime's figures passed in)
    # Composition and entry points.
    "app": 11,  # builds the services of one process
    "http": 12,  # routes call the services of an app
    "extend": 13,  # hearth.App: hooks, custom routes and the hooks folder on top of the server
    "admin_cli": 14,
    "cli": 15,
    "__main__": 16,
    "hearth": 17,  # __init__.py: the public surface (hearth.App, events, errors), re-exported
}


@dataclass(frozen=True)
class Import:
    source: str  # package of the importing module
    target: str  # package imported
    where: str  # path:line
    type_checking: bool


def _package_of(rel: Path) -> str:
    if rel.parts == ("__init__.py",):
        return "hearth"
    return rel.parts[0].removesuffix(".py")


def _module_of(rel: Path) -> list[str]:
    parts = ["hearth", *rel.with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _target(dotted: str) -> str | None:
    """`hearth.schema.collection` → `schema`; `hearth` → `hearth`; anything else → None."""
    parts = dotted.split(".")
    if parts[0] != "hearth":
        return None
    return parts[1] if len(parts) > 1 else "hearth"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_imports(source: str, rel: Path) -> list[Import]:
    """Every import of a hearth package in one module (rel: its path under src/hearth)."""
    found: list[Import] = []
    package = _package_of(rel)
    module = _module_of(rel)
    is_package = rel.name == "__init__.py"

    def add(dotted: str, node: ast.stmt, type_checking: bool) -> None:
        target = _target(dotted)
        if target is not None:
            found.append(Import(package, target, f"{rel}:{node.lineno}", type_checking))

    def visit(node: ast.AST, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_checking)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, type_checking)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative: resolve against the importing module's own package.
                base = module if is_package else module[:-1]
                base = base[: len(base) - (node.level - 1)]
                dotted = ".".join([*base, node.module] if node.module else base)
            else:
                dotted = node.module or ""
            if dotted == "hearth":
                # `from hearth import schema` imports the package `schema`; `__version__` the root.
                for alias in node.names:
                    sub = alias.name
                    is_sub = (SRC / sub).is_dir() or (SRC / f"{sub}.py").is_file()
                    add(f"hearth.{sub}" if is_sub else "hearth", node, type_checking)
            else:
                add(dotted, node, type_checking)
        for child in ast.iter_child_nodes(node):
            visit(child, type_checking)

    visit(ast.parse(source), False)
    return found


@cache
def all_imports() -> tuple[Import, ...]:
    out: list[Import] = []
    for path in sorted(SRC.rglob("*.py")):
        out.extend(read_imports(path.read_text(), path.relative_to(SRC)))
    return tuple(out)


def runtime_graph() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) package pairs → where, for imports that run (not TYPE_CHECKING)."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for imp in all_imports():
        if imp.source != imp.target and not imp.type_checking:
            edges[(imp.source, imp.target)].append(imp.where)
    return edges


def packages() -> set[str]:
    return {_package_of(p.relative_to(SRC)) for p in SRC.rglob("*.py")}


# --- the import reader itself ---------------------------------------------------------------


def test_reader_sees_every_import_and_sets_type_checking_apart() -> None:
    source = """
from __future__ import annotations
import json
import hearth.sql.system
from hearth.schema.collection import Collection
from hearth import errors, __version__
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from hearth.app import Hearth
else:
    import hearth.db.base
def f():
    try:
        from hearth.records import service
    except ImportError:
        pass
class C:
    import hearth.auth
"""
    got = {(i.target, i.type_checking) for i in read_imports(source, Path("query/x.py"))}
    assert got == {
        ("sql", False),
        ("schema", False),
        ("errors", False),
        ("hearth", False),
        ("app", True),
        ("db", False),
        ("records", False),
        ("auth", False),
    }
    relative = read_imports("from .ast import X\nfrom .. import errors\n", Path("filter/lexer.py"))
    assert [i.target for i in relative] == ["filter", "errors"]
    assert [i.target for i in read_imports("from . import y\n", Path("schema/__init__.py"))] == ["schema"]


# --- (1) the layer table --------------------------------------------------------------------


def test_every_package_has_a_layer() -> None:
    missing = sorted(packages() - LAYERS.keys())
    assert missing == [], (
        f"place these packages in LAYERS (tests/test_layers.py) and docs/architecture.md: {missing}"
    )


def test_packages_import_only_lower_layers() -> None:
    offenders = []
    for (source, target), where in sorted(runtime_graph().items()):
        if source not in LAYERS or target not in LAYERS:
            continue  # reported by test_every_package_has_a_layer
        if LAYERS[target] >= LAYERS[source]:
            offenders.append(
                f"{source} (layer {LAYERS[source]}) imports {target} (layer {LAYERS[target]}): {', '.join(where)}"
            )
    assert offenders == []


# --- (2) no cycles, whatever the table says -------------------------------------------------


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(edges):
        graph[a].append(b)
    nodes = sorted({n for edge in edges for n in edge})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in nodes:
        if v not in index:
            connect(v)
    return found


def test_cycle_finder() -> None:
    assert _cycles({("a", "b"), ("b", "c"), ("c", "d")}) == []
    assert _cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]


def test_no_import_cycles_between_packages() -> None:
    edges = runtime_graph()
    report = []
    for component in _cycles(set(edges)):
        inside = [
            f"  {a} -> {b}: {', '.join(edges[(a, b)])}"
            for (a, b) in sorted(edges)
            if {a, b} <= set(component)
        ]
        report.append(f"cycle among {component}:\n" + "\n".join(inside))
    assert report == [], "\n".join(report)


# --- (3) SQL text, the HTTP layer, the filter language --------------------------------------

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
    """Not even for type checking: handlers never hold a connection or a statement."""
    offenders = [i.where for i in all_imports() if i.source == "http" and i.target in ("sql", "db")]
    assert offenders == []


def test_filter_language_is_pure() -> None:
    """The filter language imports nothing else of Hearth, not even for type checking."""
    offenders = [
        f"{i.where} → {i.target}" for i in all_imports() if i.source == "filter" and i.target != "filter"
    ]
    assert offenders == []
