"""The import graph: no module imports itself through others, and every top-level module has a
place in the layers contract (``[tool.importlinter]`` in pyproject.toml; ``lint-imports`` checks the
contracts, but a module no layer names escapes them)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import grimp
import pytest

from tests.conftest import ROOT

DOMAINS = {
    "app.customers",
    "app.deals",
    "app.documents",
    "app.handover",
    "app.leads",
    "app.notifications",
    "app.outbound",
    "app.sales",
    "app.signing",
    "app.territories",
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("app", "tenants", "workers", cache_dir=None)


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _layers() -> list[set[str]]:
    return [{m.strip() for m in re.split(r"[|:]", layer)} for layer in _contracts()["layers"]["layers"]]


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = sorted(
        (module, *chain)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if (chain := graph.find_shortest_chain(importer=imported, imported=module))
    )
    assert cycles == []


def test_every_top_level_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    named = set().union(*_layers())
    assert sorted(graph.find_children("app") - named) == []
    assert {"tenants", "workers"} <= named


def test_the_contracts_name_the_same_domains() -> None:
    contracts = _contracts()
    assert DOMAINS in _layers()
    assert set(contracts["domains"]["modules"]) == DOMAINS
    assert set(contracts["web"]["source_modules"]) == DOMAINS
