"""What the processes say about themselves: ``acre dev`` without its embedded servers (a production
install), and ``acre worker --check`` (the worker image's health check and liveness probe)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from app import cli, dev
from app.settings import get_settings
from workers.worker import HEARTBEAT_STALE_SECONDS, heartbeat_fresh


def test_acre_dev_says_which_embedded_servers_are_missing_and_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert dev.missing_embedded() == []  # a `uv sync` install has them
    monkeypatch.setitem(sys.modules, "pgserver", None)  # importing it now raises ImportError
    monkeypatch.setitem(sys.modules, "aiosmtpd", None)
    assert dev.missing_embedded() == ["pgserver", "aiosmtpd"]
    assert dev.run_dev(str(tmp_path / "data"), "127.0.0.1", 0) == 2
    err = capsys.readouterr().err
    assert "pgserver, aiosmtpd" in err and "uv sync" in err and "--no-dev" in err
    assert not (tmp_path / "data").exists()  # stopped before touching anything


def test_worker_check_follows_the_heartbeat_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    beat = tmp_path / "beat"
    monkeypatch.setenv("ACRE_ENVIRONMENT", "test")
    monkeypatch.setenv("ACRE_WORKER_HEARTBEAT_FILE", str(beat))
    get_settings.cache_clear()
    try:
        assert cli.worker_check() == 1  # no file yet: no worker loop ran
        beat.touch()
        assert cli.worker_check() == 0
        old = time.time() - HEARTBEAT_STALE_SECONDS - 1
        os.utime(beat, (old, old))
        assert cli.worker_check() == 1 and not heartbeat_fresh(beat)
        monkeypatch.delenv("ACRE_WORKER_HEARTBEAT_FILE")
        get_settings.cache_clear()
        assert cli.worker_check() == 1  # not configured: the check cannot pass
    finally:
        get_settings.cache_clear()
