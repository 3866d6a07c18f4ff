"""`acre dev` for real: embedded PostgreSQL and Redis, demo data, API, worker, mail capture, a worker
that dies started again, and a clean stop on Ctrl-C (SIGINT) that leaves no child behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.demo import DEMO_PASSWORD
from app.dev import free_port

ROOT = Path(__file__).resolve().parents[2]


def _wait(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds}s")


def _child(parent: int, command: str) -> int | None:
    """The pid of ``parent``'s child process whose command line has ``command`` (Linux ``/proc``)."""
    for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if command.encode() in args:
            return int(pid)
    return None


def _mail_to(base: str, address: str, seconds: float = 30) -> list[dict[str, str]]:
    deadline = time.monotonic() + seconds
    mails: list[dict[str, str]] = []
    while time.monotonic() < deadline and not mails:
        mails = [m for m in httpx.get(base + "/dev/mail.json").json() if m["to"] == address]
        time.sleep(0.3)
    return mails


def test_acre_dev_runs_the_product_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACRE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev", "--data-dir", str(tmp_path / "data"), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/health")
        ready = httpx.get(base + "/ready").json()
        assert ready["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}
        login = httpx.post(
            base + "/api/v1/auth/login", json={"email": "owner@demo.acre.test", "password": DEMO_PASSWORD}
        ).json()
        auth = {"Authorization": f"Bearer {login['session']['token']}"}
        members = httpx.get(base + "/api/v1/members", headers=auth).json()["items"]
        assert {m["role"] for m in members} == {"owner", "manager", "rep"} and len(members) == 5
        tree = httpx.get(base + "/api/v1/territories", headers=auth).json()
        names = {t["name"] for t in (tree["items"] if isinstance(tree, dict) else tree)}
        assert {"广东省", "广州市", "浙江省", "杭州市"} <= names
        customers = httpx.get(base + "/api/v1/customers?limit=200", headers=auth).json()
        assert len(customers["items"]) == 200 and customers["next_cursor"]
        assert any("有限公司" in c["full_name"] for c in customers["items"])
        assert any("Co., Ltd." in c["full_name"] for c in customers["items"])
        r = httpx.post(base + "/api/v1/invitations", headers=auth, json={"email": "dev-test@example.com"})
        assert r.status_code == 201
        mails = _mail_to(base, "dev-test@example.com")
        assert mails and "/invite/" in mails[0]["text"]
        assert "dev-test@example.com" in httpx.get(base + "/dev/mail").text

        worker = _child(proc.pid, "worker")
        assert worker is not None
        os.kill(worker, signal.SIGKILL)  # a worker that dies is started again, and mail flows again
        deadline = time.monotonic() + 30
        while _child(proc.pid, "worker") in (None, worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        r = httpx.post(base + "/api/v1/invitations", headers=auth, json={"email": "dev-again@example.com"})
        assert r.status_code == 201
        assert _mail_to(base, "dev-again@example.com", seconds=60)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert "Demo logins" in output and base in output
    assert "acre dev: the worker exited (code -9); starting it again" in output
    # nothing left listening on the API port
    try:
        httpx.get(base + "/health", timeout=1)
        raise AssertionError("the API still answers after Ctrl-C")
    except httpx.HTTPError:
        pass
