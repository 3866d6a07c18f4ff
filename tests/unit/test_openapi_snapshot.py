"""The OpenAPI document is the API's contract: it changes only on purpose.

The generated document is compared with ``snapshots/openapi.json``. After a deliberate API change,
refresh the snapshot with ``ACRE_UPDATE_SNAPSHOTS=1 uv run pytest tests/unit/test_openapi_snapshot.py``
and commit it with the change, so the diff shows what the API now says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec

from app.main import create_app
from app.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def _document() -> dict[str, Any]:
    """The generated document; each operation's parameters in a fixed order (``in``, then ``name``),
    since their order carries no meaning and moves when a parameter comes from a shared dependency."""
    app = create_app(Settings(environment="test", secret_key="snapshot-" + "k" * 32))
    document: dict[str, Any] = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"].sort(key=lambda p: (p.get("in", ""), p.get("name", "")))
    return document


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_openapi_document_matches_the_committed_snapshot() -> None:
    current = _text(_document())
    if os.environ.get("ACRE_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if current != committed:
        now, then = json.loads(current), json.loads(committed)
        added = sorted(set(now["paths"]) - set(then["paths"]))
        removed = sorted(set(then["paths"]) - set(now["paths"]))
        shared = set(now["paths"]) & set(then["paths"])
        changed = sorted(p for p in shared if now["paths"][p] != then["paths"][p])
        schemas = sorted(
            k
            for k in set(now["components"]["schemas"]) | set(then["components"]["schemas"])
            if now["components"]["schemas"].get(k) != then["components"]["schemas"].get(k)
        )
        raise AssertionError(
            "The OpenAPI document differs from tests/unit/snapshots/openapi.json "
            f"(paths added {added}, removed {removed}, changed {changed}; schemas changed {schemas}). "
            "If the API change is deliberate, refresh the snapshot (see this module's docstring)."
        )


def test_snapshot_covers_the_api() -> None:
    document = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert "/api/v1/customers/{customer_id}/claim" in document["paths"]
    assert len(document["paths"]) > 100
