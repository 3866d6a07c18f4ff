from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import structlog

from app.observability import configure_logging
from app.settings import Settings


def test_logs_are_json_lines_with_the_bound_request_id(capsys) -> None:
    configure_logging(Settings(log_json=True, log_level="INFO", secret_key="x"))
    structlog.contextvars.bind_contextvars(request_id="req-12345678")
    try:
        structlog.get_logger("t").info("customer claimed", customer="上海青禾")
    finally:
        structlog.contextvars.clear_contextvars()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "customer claimed"
    assert record["request_id"] == "req-12345678"
    assert record["customer"] == "上海青禾" and record["level"] == "info"


def test_sentry_is_initialised_with_tags_only_when_a_dsn_is_set() -> None:
    script = textwrap.dedent("""
        import sentry_sdk
        from app.observability import init_sentry, tag_request
        from app.settings import Settings
        print(init_sentry(Settings(secret_key="x"), "api"))
        print(init_sentry(Settings(secret_key="x", sentry_dsn="http://public@127.0.0.1:9/1"), "worker"))
        tag_request("req-1", "tenant-1")
        tags = {**sentry_sdk.get_isolation_scope()._tags, **sentry_sdk.get_current_scope()._tags}
        print(tags.get("component"), tags.get("request_id"), tags.get("tenant_id"))
        print(sentry_sdk.get_client().is_active())
    """)
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert out == ["False", "True", "worker", "req-1", "tenant-1", "True"]
