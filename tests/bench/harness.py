"""Shared benchmark plumbing: a throwaway database migrated for real (and the domains wired, as in the
API and the worker), a granian server run as a child process on loopback, and a bounded load
generator (wrk when installed, else an asyncio HTTP/1.1 keep-alive client). Every load run stops by
itself."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from app.dev import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BenchDB:
    name: str
    admin_url: str
    app_url: str


def _with(url: str, name: str, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc if user is None else f"{user}@{parts.netloc.split('@')[-1]}"
    return urlunsplit(parts._replace(path="/" + name, netloc=netloc))


@contextmanager
def bench_database() -> Iterator[BenchDB]:
    maintenance = os.environ.get("ACRE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"acre_bench_{secrets.token_hex(4)}"
    db = BenchDB(name, _with(maintenance, name), _with(maintenance, name, "acre_app"))
    os.environ["ACRE_DATABASE_URL"] = db.app_url
    os.environ["ACRE_DATABASE_ADMIN_URL"] = db.admin_url
    os.environ.setdefault("ACRE_ENVIRONMENT", "test")
    from app.migrations import migrate
    from app.settings import get_settings
    from app.wiring import wire

    get_settings.cache_clear()
    asyncio.run(migrate(db.admin_url))
    wire()  # as the API and the worker do: benchmarks call services directly
    try:
        yield db
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(maintenance)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())


@contextmanager
def cached_database(
    key: str, fill: Callable[[BenchDB], Awaitable[dict[str, object]]], *, fresh: bool = False
) -> Iterator[tuple[BenchDB, dict[str, object]]]:
    """A throwaway bench database copied from a cached template (``acre_bench_cache_<key>``): the
    first run migrates and fills the template with ``fill`` (what it returns, JSON, is kept as the
    template's comment and handed back); later runs with the same ``key`` bring the template up to
    the current migrations (the new ones only: seconds) and copy it (``CREATE DATABASE … TEMPLATE``,
    a file copy) instead of generating again. ``fresh`` (or a template a migration fails on, or one
    whose fill did not finish) generates it again."""
    maintenance = os.environ.get("ACRE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    template = f"acre_bench_cache_{key}"
    assert len(template) <= 63, template
    cache = BenchDB(template, _with(maintenance, template), _with(maintenance, template, "acre_app"))
    name = f"acre_bench_{secrets.token_hex(4)}"
    db = BenchDB(name, _with(maintenance, name), _with(maintenance, name, "acre_app"))
    os.environ["ACRE_DATABASE_URL"] = db.app_url
    os.environ["ACRE_DATABASE_ADMIN_URL"] = db.admin_url
    os.environ.setdefault("ACRE_ENVIRONMENT", "test")
    from app.migrations import migrate
    from app.settings import get_settings
    from app.wiring import wire

    get_settings.cache_clear()

    async def sql(statement: str) -> Any:
        conn = await asyncpg.connect(maintenance)
        try:
            return await conn.fetchval(statement)
        finally:
            await conn.close()

    async def drop_template() -> None:
        await sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')

    async def cached() -> dict[str, object] | None:
        note = await sql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
            f" WHERE datname = {_literal(template)}"
        )
        if fresh or note is None:  # asked to, absent, or a fill that did not finish
            await drop_template()
            return None
        try:
            await migrate(cache.admin_url)  # the migrations added since it was made
        except Exception as exc:  # any failure: generate it again
            print(f"cached {template} does not migrate ({exc}); generating it again", file=sys.stderr)
            await drop_template()
            return None
        return dict(json.loads(note))

    async def build() -> dict[str, object]:
        await migrate(cache.admin_url)
        made = await fill(cache)  # its connections closed: a template is copied only when unused
        await sql(f'COMMENT ON DATABASE "{template}" IS {_literal(json.dumps(made))}')
        return made

    async def prepare() -> dict[str, object]:
        info = await cached() or await build()
        await sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return info

    info = asyncio.run(prepare())
    wire()  # as the API and the worker do: benchmarks call services directly
    try:
        yield db, info
    finally:
        asyncio.run(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def server(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    port = free_port()
    child_env = {
        **os.environ,
        "ACRE_ENVIRONMENT": "test",
        "ACRE_SECRET_KEY": secrets.token_urlsafe(16),
        "ACRE_LOG_LEVEL": "WARNING",
        "ACRE_STORAGE_BACKEND": "local",
        "ACRE_LOGIN_RATE_LIMIT_PER_MINUTE": "100000",
        "ACRE_SIGNING_RATE_LIMIT_PER_MINUTE": "100000",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=child_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError(
                "server did not start: " + (proc.stderr.read(4000).decode() if proc.stderr else "")
            )
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load(url: str, headers: dict[str, str] | None = None, seconds: int = 8, connections: int = 32) -> Load:
    """Drive ``url`` for ``seconds`` with ``connections`` keep-alive connections."""
    if shutil.which("wrk"):
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
        for key, value in (headers or {}).items():
            cmd += ["-H", f"{key}: {value}"]
        out = subprocess.run(
            [*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 30
        ).stdout
        latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
        if set(latency) != {"50", "99"}:
            raise RuntimeError(f"wrk reported no latency distribution for {url}:\n{out}")
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return Load(
            float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            _ms(latency["50"]),
            _ms(latency["99"]),
            requests,
            int(errors.group(1)) if errors else 0,
        )
    return asyncio.run(_python_load(url, headers or {}, seconds, connections))


async def _python_load(url: str, headers: dict[str, str], seconds: int, connections: int) -> Load:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=5) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += response.status_code >= 300

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Load(
        len(latencies) / elapsed,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.99) - 1],
        len(latencies),
        errors,
    )
