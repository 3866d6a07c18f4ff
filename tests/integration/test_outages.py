"""Services going away, for real: a worker SIGKILLed mid-render (a fresh worker completes the document
within a minute), a Redis stopped and started again during a burst of writes (the worker waits for it,
every job runs once, and login, signup and invitation acceptance work meanwhile), and PostgreSQL cut
off (503 problem+json with Retry-After, then normal service again).

The API and the workers are real ``acre serve`` / ``acre worker`` processes on the suite's database,
with a redis-server of this module's own on a free loopback port (never the machine's shared one) and,
for the PostgreSQL test, a TCP proxy in front of PostgreSQL that the test cuts and restores.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app.dev import free_port
from tests.conftest import ROOT, Stack
from tests.helpers import PASSWORD, Member, connect, last_link, signup

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], seconds: float, what: str, explain: Callable[[], str] = str
) -> T:
    """The first truthy result of ``probe``, polled every 0.2 s for at most ``seconds``; the failure
    says ``what`` did not happen, and ``explain()`` (the processes' logs)."""
    deadline = time.monotonic() + seconds
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s\n{explain()}")
        await asyncio.sleep(0.2)


class RedisServer:
    """A redis-server on a free loopback port that keeps its data across a stop and start (AOF,
    fsync on every write), as a production Redis would."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # a clean shutdown: what was written is on disk
            self.process.wait(timeout=10)


@dataclass
class Services:
    """The suite's database and this module's Redis, and the ``acre`` processes started on them."""

    redis: RedisServer
    logs: Path
    queue: str = field(default_factory=lambda: f"acre-outage:{secrets.token_hex(4)}")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            **os.environ,
            "ACRE_REDIS_URL": self.redis.url,
            "ACRE_QUEUE_NAME": self.queue,
            "ACRE_UNOSERVER_COUNT": "0",
            "ACRE_SOFFICE_PATH": "no-such-soffice",  # DOCX only: what is tested here is the queue
            "ACRE_LOG_LEVEL": "INFO",
            **overrides,
        }

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """``acre <args>`` in a session of its own (so that its whole group can be killed)."""
        log = (self.logs / f"{name}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=self.env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    async def api(self, **env: str) -> str:
        port = free_port()
        self.start("api", "serve", "--port", str(port), **env)
        base = f"http://127.0.0.1:{port}"

        async def up() -> bool:
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(base + "/health", timeout=1)).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(up, 60, "the API answering")
        return base

    def log_text(self, tail: int = 4000) -> str:
        logs = sorted(self.logs.iterdir())
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}" for p in logs)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture
def services(stack: Stack, tmp_path: Path) -> Iterator[Services]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    (tmp_path / "redis").mkdir()
    (tmp_path / "logs").mkdir()
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    running = Services(redis, tmp_path / "logs")
    try:
        yield running
    finally:
        for process in running.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in running.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(process)
        redis.stop()


async def request_document(http: httpx.AsyncClient, member: Member) -> str:
    r = await http.post(
        "/api/v1/documents",
        json={
            "kind": "contract",
            "subject_type": "sample",
            "subject_id": "s-1",
            "idempotency_key": secrets.token_hex(8),
        },
        headers=member.headers,
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


async def documents(admin_db: str, ids: list[str]) -> dict[str, Any]:
    async with connect(admin_db) as conn:
        rows = await conn.fetch(
            "SELECT id::text, status, attempts, docx_key FROM documents WHERE id::text = ANY($1)",
            ids,
        )
    return {r["id"]: r for r in rows}


async def test_a_worker_killed_mid_render_is_replaced_and_the_document_done_within_a_minute(
    services: Services, admin_db: str, tmp_path: Path
) -> None:
    # The first worker's converter hangs (a stand-in for a long conversion), so it is surely
    # mid-render when it is killed; the second has none (DOCX only).
    hang = tmp_path / "hanging-soffice"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    hang.chmod(0o755)
    base = await services.api()
    first = services.start("worker", "worker", ACRE_SOFFICE_PATH=str(hang), ACRE_CONVERTER_DIR=str(tmp_path))
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        owner = await signup(http)
        doc = await request_document(http, owner)

        async def rendering() -> bool:
            return bool((await documents(admin_db, [doc]))[doc]["status"] == "rendering")

        await eventually(rendering, 60, "the first worker taking the document", services.log_text)
        await asyncio.sleep(1)  # past the render, into the conversion
        assert (await documents(admin_db, [doc]))[doc]["status"] == "rendering"
        kill_group(first)
        killed = time.monotonic()
        services.start("worker", "worker")

        async def ready() -> Any:
            row = (await documents(admin_db, [doc]))[doc]
            return row if row["status"] in ("ready", "failed") else None

        row = await eventually(ready, 60, "a fresh worker completing the document", services.log_text)
        recovered = time.monotonic() - killed
    assert row["status"] == "ready" and row["docx_key"], (row, services.log_text())
    assert row["attempts"] == 2  # claimed once by each worker: done once, by the second
    print(f"\nworker-kill recovery: {recovered:.1f} s")
    assert recovered < 60


async def test_the_worker_waits_out_a_redis_outage_and_every_job_runs_once(
    services: Services, admin_db: str, mailbox: Any
) -> None:
    base = await services.api(ACRE_LOGIN_RATE_LIMIT_PER_MINUTE="20")
    worker = services.start("worker", "worker")
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        owner = await signup(http)
        invited = f"invited-{secrets.token_hex(4)}@example.com"
        invitation = {"email": invited, "role": "rep"}
        r = await http.post("/api/v1/invitations", json=invitation, headers=owner.headers)
        assert r.status_code == 201, r.text

        async def mailed() -> bool:
            return any(invited in m.decode(errors="replace") for m in mailbox.messages)

        await eventually(mailed, 60, "the invitation mail")
        token = last_link(mailbox, to=invited)

        ids = []
        for i in range(30):  # a burst of writes; Redis goes away a third of the way through
            if i == 10:
                services.redis.stop()
            ids.append(await request_document(http, owner))
        # Degraded, not broken: without Redis, login, signup and invitation acceptance still work,
        # and the login limit still holds (in the API process's memory).
        login = {"email": owner.email, "password": PASSWORD}
        assert (await http.post("/api/v1/auth/login", json=login)).status_code == 200
        await signup(http)
        accept = {"password": PASSWORD, "name": "新成员"}
        r = await http.post(f"/api/v1/invitations/{token}/accept", json=accept)
        assert r.status_code == 201, r.text
        statuses = [(await http.post("/api/v1/auth/login", json=login)).status_code for _ in range(20)]
        assert statuses[0] == 200 and statuses[-1] == 429
        await asyncio.sleep(3)  # the worker meets the outage
        assert worker.poll() is None, services.log_text()
        services.redis.start()

        async def all_done() -> Any:
            rows = await documents(admin_db, ids)
            return rows if all(r["status"] in ("ready", "failed") for r in rows.values()) else None

        rows = await eventually(all_done, 90, "every document rendered after the outage", services.log_text)
    assert worker.poll() is None  # the same worker throughout
    assert {r["status"] for r in rows.values()} == {"ready"}, services.log_text()
    assert {r["attempts"] for r in rows.values()} == {1}  # each rendered once
    text = services.log_text(tail=10**8)
    assert "redis unreachable; the worker waits for it" in text and "redis is back" in text
    assert "rate limits fall back to this process's memory" in text and "never retrieved" not in text


class PostgresProxy:
    """A TCP proxy to PostgreSQL that can be cut (every connection dropped, no new ones) and restored."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.pipes):
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.pipes.add(task)
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
            try:
                await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w))
            finally:
                server_w.transport.abort()
        finally:
            client_w.transport.abort()
            self.pipes.discard(task)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def proxied(url: str) -> AsyncIterator[tuple[PostgresProxy, str]]:
    parts = urlsplit(url)
    if not parts.hostname:
        pytest.skip("PostgreSQL is reached over a unix socket here; the proxy needs TCP")
    proxy = PostgresProxy(parts.hostname, parts.port or 5432)
    await proxy.start()
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}"
    try:
        yield proxy, urlunsplit(parts._replace(netloc=netloc))
    finally:
        if proxy.server is not None:
            await proxy.cut()


async def test_postgresql_going_away_answers_503_with_retry_after(services: Services, stack: Stack) -> None:
    async with proxied(stack.app_url) as (proxy, url):
        base = await services.api(ACRE_DATABASE_URL=url, ACRE_DATABASE_POOL_SIZE="2")
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            owner = await signup(http)
            assert (await http.get("/api/v1/me", headers=owner.headers)).status_code == 200
            await proxy.cut()
            login = {"email": owner.email, "password": PASSWORD}
            for request in (
                http.build_request("GET", "/api/v1/me", headers=owner.headers),
                http.build_request("GET", "/api/v1/customers", headers=owner.headers),
                http.build_request("POST", "/api/v1/auth/login", json=login),
            ):
                r = await http.send(request)
                assert r.status_code == 503, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.headers["retry-after"] == "5" and r.json()["type"] == "/problems/unavailable"
            assert r.json()["title"] == "Temporarily unavailable"
            zh = await http.get("/api/v1/customers", headers={**owner.headers, "Accept-Language": "zh-CN"})
            assert zh.status_code == 503 and zh.json()["title"] == "服务暂时不可用"
            assert (await http.get("/health")).status_code == 200  # the process itself is fine
            await proxy.start()

            async def back() -> bool:
                return (await http.get("/api/v1/me", headers=owner.headers)).status_code == 200

            await eventually(back, 30, "service once PostgreSQL is back")


async def test_readiness_follows_postgresql_and_only_reports_redis(services: Services, stack: Stack) -> None:
    """``/ready`` is what the load balancer asks: a Redis outage (this module's own redis-server,
    stopped) leaves the API ready and serving, degraded; PostgreSQL cut off makes it unready."""
    async with proxied(stack.app_url) as (proxy, url):
        base = await services.api(ACRE_DATABASE_URL=url, ACRE_DATABASE_POOL_SIZE="2")
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            r = await http.get("/ready")
            assert r.status_code == 200 and r.json() == {
                "status": "ok",
                "checks": {"database": "ok", "redis": "ok", "storage": "ok"},
            }, r.text
            owner = await signup(http)
            services.redis.stop()
            r = await http.get("/ready")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "degraded"
            assert r.json()["checks"]["redis"].startswith("error") and r.json()["checks"]["database"] == "ok"
            login = {"email": owner.email, "password": PASSWORD}
            assert (await http.post("/api/v1/auth/login", json=login)).status_code == 200  # serving
            assert (await http.get("/api/v1/me", headers=owner.headers)).status_code == 200
            await proxy.cut()
            r = await http.get("/ready")
            assert r.status_code == 503, r.text
            assert r.json()["status"] == "unavailable" and r.json()["checks"]["database"].startswith("error")
            await proxy.start()
            services.redis.start()

            async def ready_again() -> bool:
                r = await http.get("/ready")
                return r.status_code == 200 and r.json()["status"] == "ok"

            await eventually(ready_again, 30, "ready again once both are back", services.log_text)
