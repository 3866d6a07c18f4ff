"""The floor of a scoped read, for ``bench_request_path``: the least a Litestar app must do to answer the
pool page honestly — the same session lookup (``acre_session()``) and the same pool SQL (captured from
the product by the benchmark, in a file) in a transaction that sets ``app.tenant_id`` for row-level
security, on one pooled connection, the rows encoded as JSON with msgspec. No middleware, no
dependency injection, no schema. Four round trips: the session; ``BEGIN; set_config(…)`` as one
simple query; the query; ``COMMIT`` — what the product did when issue 23 measured it.

    python tests/bench/floor_app.py PORT   (env: ACRE_DATABASE_URL, ACRE_BENCH_FLOOR_SQL_FILE)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get

_pool: asyncpg.Pool | None = None
_SQL: dict[str, Any] = {}
_ENCODER = msgspec.json.Encoder()


def _arg(kind: str, value: Any) -> Any:
    return {"uuid": UUID, "datetime": datetime.fromisoformat}.get(kind, lambda v: v)(value)


async def _start() -> None:
    global _pool
    _SQL.update(json.loads(Path(os.environ["ACRE_BENCH_FLOOR_SQL_FILE"]).read_text()))  # noqa: ASYNC240
    _SQL["values"] = [_arg(kind, value) for kind, value in _SQL["args"]]
    _pool = await asyncpg.create_pool(os.environ["ACRE_DATABASE_URL"], min_size=1, max_size=10)


async def _stop() -> None:
    if _pool is not None:
        await _pool.close()


@get("/floor/pool")
async def floor_pool(request: Request[Any, Any, Any]) -> Response[bytes]:
    token = request.headers.get("authorization", "")[7:]
    assert _pool is not None
    async with _pool.acquire() as conn:
        member = await conn.fetchrow(
            "SELECT * FROM acre_session($1)", hashlib.sha256(token.encode()).digest()
        )
        if member is None:
            return Response(b'{"detail":"Sign in"}', status_code=401, media_type="application/json")
        tenant = str(UUID(str(member["tenant"])))
        await conn.execute(
            f"BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true),"
            " set_config('app.user_id', '', true)"
        )
        try:
            rows = await conn.fetch(_SQL["sql"], *_SQL["values"])
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
    limit = _SQL["limit"]
    items = [dict(row) for row in rows[:limit]]
    body = {"items": items, "next_cursor": str(items[-1]["id"]) if len(rows) > limit else None}
    return Response(_ENCODER.encode(body), media_type="application/json")


app = Litestar([floor_pool], on_startup=[_start], on_shutdown=[_stop], openapi_config=None)


if __name__ == "__main__":
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "tests.bench.floor_app:app",
        address="127.0.0.1",
        port=int(sys.argv[1]),
        interface=Interfaces.ASGI,
        workers=1,
        log_access=False,
    ).serve()
