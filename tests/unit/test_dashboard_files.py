"""The dashboard's files as shipped: what the wheel carries (pyproject's package data is
`static/*`, top-level files only) is what the routes serve, and every file the page or a module
loads is among them (a typo in an import would otherwise show only in a browser)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from hearth import dashboard

STATIC = Path(dashboard.__file__).with_name("static")
ROOT = Path(__file__).resolve().parents[2]


def test_every_static_file_ships_and_is_served() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert package_data["hearth.dashboard"] == ["static/*"]
    files = sorted(STATIC.iterdir())
    assert all(f.is_file() for f in files), "static/* ships no subdirectory"
    assert {f.name for f in files} == set(dashboard.ASSETS)
    assert dashboard.asset("index.html") is None, "the page is served at /_/ only"
    assert dashboard.asset("../__init__.py") is None


def test_every_loaded_file_exists() -> None:
    page = (STATIC / "index.html").read_text()
    wanted = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert wanted
    for module in STATIC.glob("*.js"):
        wanted += re.findall(r'^import [^;]*? from "\./([^"]+)";', module.read_text(), re.M)
    assert "pocketbase.es.mjs" in wanted
    missing = [w for w in wanted if w not in dashboard.ASSETS]
    assert not missing
