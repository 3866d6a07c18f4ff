"""DOCX → PDF with LibreOffice kept warm: ``ACRE_UNOSERVER_COUNT`` unoserver processes, health-checked
and restarted when they die, with a one-shot ``soffice --headless --convert-to pdf`` as the fallback.

unoserver's server side needs ``import uno``, which only the distribution's Python has (Debian's
``python3-uno`` for ``/usr/bin/python3``), not the project's virtualenv. So each server runs as
``ACRE_UNO_PYTHON -I -c <boot>``: isolated mode, the system paths first, then the one directory
holding the ``unoserver`` package installed in our venv appended; the client side is plain XML-RPC
from our venv. Every LibreOffice gets its own absolute ``--user-installation`` profile directory
(two processes sharing a profile block each other). Servers run in their own process group, which is
killed as a whole on stop and restart; on Linux they also get SIGTERM if the worker dies.

Errors: ``ConversionUnavailable`` (LibreOffice is not installed: produce DOCX only),
``ConversionTransient`` (timeouts, crashes: retry later), ``ConversionFailed`` (LibreOffice cannot
convert this document: retrying will not help).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from app.settings import Settings, get_settings

log = structlog.get_logger(__name__)
# The server's entry point. A watchdog thread kills the whole process group (this python, oosplash,
# soffice.bin) as soon as the worker that started it is gone, however it died.
_BOOT = """
import os, signal, sys, threading, time
def _watch(parent=os.getppid()):
    while os.getppid() == parent:
        time.sleep(1)
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=_watch, daemon=True).start()
sys.path.append(sys.argv.pop(1))
from unoserver.server import main
sys.exit(main())
"""
_READY_SECONDS = 90
_HEALTH_EVERY = 30


class ConversionUnavailable(Exception):
    """LibreOffice is not installed here: documents are produced as DOCX only."""


class ConversionTransient(Exception):
    """The converter timed out or crashed: the same document may well convert on a later try."""


class ConversionFailed(Exception):
    """LibreOffice could not convert this document (a damaged or pathological template)."""


def soffice_binary(settings: Settings) -> str | None:
    return shutil.which(settings.soffice_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Transport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: Any) -> Any:
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


def _proxy(port: int, timeout: float) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(
        f"http://127.0.0.1:{port}", transport=_Transport(timeout), allow_none=True
    )


@dataclass
class UnoServer:
    """One unoserver + LibreOffice pair on loopback ports, with its own profile directory."""

    slot: int
    profile: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    ready: bool = False
    restarts: int = -1
    conversions: int = 0
    log_file: Any = field(default=None, repr=False)

    def start(self, settings: Settings, soffice: str) -> None:
        spec = importlib.util.find_spec("unoserver")
        if spec is None or not spec.submodule_search_locations:
            raise ConversionUnavailable("the unoserver package is not installed")
        site_dir = str(Path(next(iter(spec.submodule_search_locations))).parent)
        self.port, uno_port = _free_port(), _free_port()
        self.profile.mkdir(parents=True, exist_ok=True)
        self.log_file = (self.profile.parent / f"{self.profile.name}.log").open("ab")
        cmd = [
            settings.uno_python,
            "-I",
            "-c",
            _BOOT,
            site_dir,
            "--interface",
            "127.0.0.1",
            "--uno-interface",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--uno-port",
            str(uno_port),
            "--user-installation",
            str(self.profile.resolve()),
            "--executable",
            soffice,
            "--conversion-timeout",
            str(settings.conversion_timeout_seconds),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=self.log_file,
            preexec_fn=_die_with_parent,
            close_fds=True,
        )
        self.ready, self.restarts = False, self.restarts + 1
        log.info("unoserver started", slot=self.slot, port=self.port, pid=self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ping(self, timeout: float = 5) -> bool:
        try:
            _proxy(self.port, timeout).info()
        except (OSError, xmlrpc.client.Error):
            return False
        return True

    async def wait_ready(self) -> bool:
        deadline = time.monotonic() + _READY_SECONDS
        while time.monotonic() < deadline and self.alive():
            if await asyncio.to_thread(self.ping, 2):
                self.ready = True
                return True
            await asyncio.sleep(0.5)
        return False

    def terminate(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self, grace: float = 3) -> None:
        """SIGTERM the group, then SIGKILL whatever is left of it after ``grace`` seconds (unoserver's
        own SIGTERM handling can hang once LibreOffice is gone; the group kill never does)."""
        if self.process is not None:
            self.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self.ready = False
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def convert(self, docx: bytes, timeout: float) -> bytes:
        result: Any = _proxy(self.port, timeout).convert(
            None, xmlrpc.client.Binary(docx), None, "pdf", None, [], True, None, None
        )
        self.conversions += 1
        return bytes(result.data)


class Converter:
    """The pool of warm servers of one worker process. ``convert`` starts it on first use."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.soffice = soffice_binary(self.settings)
        self.root = Path(tempfile.mkdtemp(prefix="acre-lo-", dir=self._base_dir())).resolve()
        self.servers = [
            UnoServer(i, self.root / f"unoserver-{i}") for i in range(self.settings.unoserver_count)
        ]
        self.idle: asyncio.Queue[UnoServer] | None = None
        self._lock = asyncio.Lock()
        self._health: asyncio.Task[None] | None = None
        self.uno_ok: bool | None = None

    def _base_dir(self) -> str:
        base = self.settings.converter_dir.resolve()
        base.mkdir(parents=True, exist_ok=True)
        return str(base)

    @property
    def available(self) -> bool:
        return self.soffice is not None

    async def start(self) -> None:
        """Start every server and wait until they answer (a cold start takes ~7–10 s)."""
        async with self._lock:
            if self.idle is not None or not self.available or not self.servers:
                return
            self.uno_ok = await self._probe_uno()
            self.idle = asyncio.Queue()
            if not self.uno_ok:
                log.warning(
                    "no python with 'import uno' (ACRE_UNO_PYTHON): using one-shot soffice only",
                    python=self.settings.uno_python,
                )
                return
            for server in self.servers:
                server.start(self.settings, str(self.soffice))
            await asyncio.gather(*(s.wait_ready() for s in self.servers))
            for server in self.servers:
                self.idle.put_nowait(server)
            self._health = asyncio.create_task(self._health_loop(), name="unoserver-health")

    async def _probe_uno(self) -> bool:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.settings.uno_python,
                "-I",
                "-c",
                "import uno",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError:
            return False
        return await proc.wait() == 0

    async def restart(self, server: UnoServer) -> None:
        server.stop()
        assert self.soffice is not None
        server.start(self.settings, self.soffice)
        await server.wait_ready()

    async def _health_loop(self) -> None:
        """Every 30 s, restart idle servers whose process died or that stopped answering."""
        assert self.idle is not None
        while True:
            await asyncio.sleep(_HEALTH_EVERY)
            for _ in range(self.idle.qsize()):
                server = self.idle.get_nowait()
                try:
                    if not server.alive() or not await asyncio.to_thread(server.ping):
                        log.warning("unoserver unhealthy; restarting", slot=server.slot)
                        await self.restart(server)
                finally:
                    self.idle.put_nowait(server)

    def health(self) -> list[dict[str, Any]]:
        return [
            {
                "slot": s.slot,
                "alive": s.alive(),
                "ready": s.ready,
                "restarts": max(s.restarts, 0),
                "conversions": s.conversions,
            }
            for s in self.servers
        ]

    async def convert(self, docx: bytes) -> tuple[bytes, str]:
        """PDF bytes and how they were made (``unoserver`` or ``soffice``)."""
        if not self.available:
            raise ConversionUnavailable("LibreOffice (soffice) is not installed")
        await self.start()
        if self.idle is None or not self.uno_ok or not self.servers:
            return await self.oneshot(docx), "soffice"
        timeout = self.settings.conversion_timeout_seconds
        try:
            server = await asyncio.wait_for(self.idle.get(), timeout)
        except TimeoutError:
            raise ConversionTransient("every converter stayed busy") from None
        try:
            if not server.alive() or not server.ready:
                log.warning("unoserver down; restarting it and converting one-shot", slot=server.slot)
                await self.restart(server)
                return await self.oneshot(docx), "soffice"
            try:
                return await asyncio.to_thread(server.convert, docx, timeout + 10), "unoserver"
            except xmlrpc.client.Fault as exc:
                reason = (
                    exc.faultString.strip().splitlines()[-1][:300] if exc.faultString else "conversion error"
                )
                log.warning("unoserver could not convert; trying one-shot", error=reason)
                try:
                    return await self.oneshot(docx), "soffice"
                except ConversionFailed:
                    raise ConversionFailed(f"LibreOffice could not convert the document: {reason}") from exc
            except (OSError, xmlrpc.client.ProtocolError) as exc:
                log.warning("unoserver crashed or hung; restarting", slot=server.slot, error=repr(exc))
                await self.restart(server)
                raise ConversionTransient(f"the converter crashed or timed out: {exc!r}") from exc
        finally:
            self.idle.put_nowait(server)

    async def oneshot(self, docx: bytes) -> bytes:
        """``soffice --headless --convert-to pdf`` with a fresh profile: ~1 s, no warm state."""
        if self.soffice is None:
            raise ConversionUnavailable("LibreOffice (soffice) is not installed")
        with tempfile.TemporaryDirectory(prefix="oneshot-", dir=self.root) as tmp:
            work = Path(tmp)
            (work / "document.docx").write_bytes(docx)
            proc = await asyncio.create_subprocess_exec(
                self.soffice,
                "--headless",
                "--norestore",
                "--nologo",
                "--nodefault",
                "--nolockcheck",
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                str(work / "document.docx"),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                output, _ = await asyncio.wait_for(
                    proc.communicate(), self.settings.conversion_timeout_seconds
                )
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
                raise ConversionTransient("one-shot LibreOffice timed out") from None
            pdf = work / "document.pdf"
            if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
                tail = output.decode("utf-8", "replace").strip()[-300:]
                raise ConversionFailed(
                    f"LibreOffice could not convert the document ({tail or proc.returncode})"
                )
            return pdf.read_bytes()

    async def stop(self) -> None:
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        self.close()

    def close(self) -> None:
        """Synchronous stop (also run at interpreter exit): kill every server's process group."""
        for server in self.servers:  # all at once, so the grace periods overlap
            server.terminate()
        for server in self.servers:
            server.stop(grace=2)
        self.idle = None
        shutil.rmtree(self.root, ignore_errors=True)


_converter: Converter | None = None


def get_converter() -> Converter:
    """This process's converter (made on first use; its servers start on the first conversion)."""
    global _converter
    if _converter is None:
        _converter = Converter()
        atexit.register(_converter.close)
    return _converter


async def shutdown() -> None:
    global _converter
    if _converter is not None:
        await _converter.stop()
        _converter = None


def describe_missing() -> str | None:
    """A one-line explanation when PDF output is impossible here, else None (for ``acre dev``)."""
    settings = get_settings()
    if soffice_binary(settings) is None:
        return (
            f"LibreOffice ({settings.soffice_path}) was not found: documents will be produced as DOCX "
            "only. Install libreoffice-writer-nogui, python3-uno and fonts-noto-cjk for PDFs."
        )
    return None


if sys.platform != "linux":  # PDEATHSIG is Linux-only; elsewhere the process group still goes on stop()
    _die_with_parent = os.setsid  # type: ignore[assignment]
