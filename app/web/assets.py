"""The built assets (``app/web/static/``, made by ``build_assets.py``): their URLs for the templates
and the route that serves them.

Names carry their content's hash, so an answer may be cached for a year (``immutable``): a changed
file is a new name. Only the files the manifest names are served (and the licences); anything else
under ``/static/`` is 404."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.params import FromPath

from app.errors import NotFound

STATIC = Path(__file__).resolve().parent / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain; charset=utf-8"}
_YEAR = "public, max-age=31536000, immutable"


@cache
def manifest() -> dict[str, dict[str, str]]:
    return dict(json.loads((STATIC / "manifest.json").read_text(encoding="utf-8")))


def asset_url(logical: str) -> str:
    """``/static/<hashed name>`` of ``logical`` (``htmx.js``, ``app.css``…); a KeyError for an unknown
    name, so a template naming a missing asset fails when rendered, not silently in the browser."""
    return f"/static/{manifest()[logical]['file']}"


@cache
def _served() -> dict[str, tuple[bytes, str, str]]:
    files = {e["file"]: _YEAR for e in manifest().values()} | {"LICENSES.txt": "public, max-age=3600"}
    return {
        name: ((STATIC / name).read_bytes(), _TYPES[Path(name).suffix], cache_control)
        for name, cache_control in files.items()
    }


@get("/static/{name:str}", include_in_schema=False)
async def static_file(name: FromPath[str]) -> Response[bytes]:
    found = _served().get(name)
    if found is None:
        raise NotFound()
    content, media_type, cache_control = found
    return Response(
        content,
        media_type=media_type,
        headers={"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"},
    )
