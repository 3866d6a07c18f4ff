"""The ``acre`` command: ``dev`` (everything, embedded), ``migrate``, ``serve``, ``worker``,
``rotate-signing-key``.

Each command imports what it runs when it runs, so ``acre --help`` or ``acre migrate`` does not load
the whole application. This is the one module that imports ``workers`` (an import-linter contract)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path


def migrate(database_admin_url: str | None = None) -> None:
    """Create the database if missing and run every pending migration as the owner role."""
    from app import migrations

    asyncio.run(migrations.migrate(database_admin_url))


def _metrics_dir() -> None:
    """With metrics on, give the API processes one fresh ``PROMETHEUS_MULTIPROC_DIR`` (the operator's,
    emptied, or a new temporary one), so that a scrape answered by any of them counts every process.
    Set before granian starts its processes, which import ``prometheus_client`` after it is set."""
    import shutil
    import tempfile
    from pathlib import Path

    from app.settings import get_settings

    settings = get_settings()
    if not settings.metrics_token:
        return
    chosen = settings.prometheus_multiproc_dir
    if chosen:
        shutil.rmtree(chosen, ignore_errors=True)  # the counts of an earlier run's processes
        Path(chosen).mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(chosen)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="acre-metrics-")
    get_settings.cache_clear()


def serve(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    _metrics_dir()
    Granian(
        "app.main:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_access=False,
    ).serve()


def worker() -> None:
    from workers.settings import worker_settings
    from workers.worker import Worker

    Worker(**worker_settings()).run()


def worker_check() -> int:
    """0 when the worker writing ``ACRE_WORKER_HEARTBEAT_FILE`` is alive, else 1 (a health check)."""
    from app.settings import get_settings
    from workers.worker import heartbeat_fresh

    path = get_settings().worker_heartbeat_file
    if path is None:
        print("acre worker --check: ACRE_WORKER_HEARTBEAT_FILE is not set", file=sys.stderr)
        return 1
    if not heartbeat_fresh(path):
        print(f"acre worker --check: {path} is missing or stale", file=sys.stderr)
        return 1
    return 0


def rotate_signing_key(new_key_file: str) -> int:
    """Re-encrypt the stored sealing keys from the current key to the one in ``new_key_file``."""
    from app import db
    from app.settings import get_settings
    from app.signing.seal import KeysNotDecrypted, current_encryption_secret, reencrypt_sealing_keys

    new = (sys.stdin.read() if new_key_file == "-" else Path(new_key_file).read_text()).strip()
    settings = get_settings()

    async def run() -> tuple[int, int]:
        await db.start(settings.database_url, 2)
        try:
            return await reencrypt_sealing_keys(current_encryption_secret(), new)
        finally:
            await db.stop()

    try:
        rotated, already = asyncio.run(run())
    except (ValueError, KeysNotDecrypted) as exc:
        print(f"acre rotate-signing-key: {exc}", file=sys.stderr)
        return 2
    print(
        f"re-encrypted {rotated} sealing keys ({already} already under the new key); now set"
        " ACRE_SIGNING_KEY_ENCRYPTION_KEY to the new key everywhere and restart the workers",
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="acre", description="Acre: CRM, quotes and e-signature for dealers")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run everything locally on an embedded PostgreSQL and Redis")
    dev.add_argument("--data-dir", default=".acre")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--no-demo", action="store_true", help="do not seed the demo company")
    sub.add_parser("migrate", help="run database migrations (ACRE_DATABASE_ADMIN_URL)")
    srv = sub.add_parser("serve", help="serve the API with granian against configured services")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--workers", type=int, default=1)
    wrk = sub.add_parser("worker", help="run the background worker (ARQ)")
    wrk.add_argument("--check", action="store_true", help="exit 0 if the running worker's heartbeat is fresh")
    rot = sub.add_parser(
        "rotate-signing-key",
        help="re-encrypt the stored e-signature sealing keys under a new ACRE_SIGNING_KEY_ENCRYPTION_KEY",
    )
    rot.add_argument("--new-key-file", required=True, help="a file holding the new key ('-' = stdin)")
    args = parser.parse_args(argv)

    if args.command == "dev":
        from app.dev import run_dev

        sys.exit(run_dev(data_dir=args.data_dir, host=args.host, port=args.port, demo=not args.no_demo))
    elif args.command == "migrate":
        migrate()
    elif args.command == "serve":
        serve(args.host, args.port, args.workers)
    elif args.command == "rotate-signing-key":
        sys.exit(rotate_signing_key(args.new_key_file))
    elif args.command == "worker":
        if args.check:
            sys.exit(worker_check())
        worker()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
