"""One warm unoserver + LibreOffice pair on loopback ports (see ``convert`` for the pool).

unoserver's server side needs ``import uno``, which only the distribution's Python has (Debian's
``python3-uno`` for ``/usr/bin/python3``), not the project's virtualenv. So each server runs as
``ACRE_UNO_PYTHON -I -c <boot>``: isolated mode, the system paths first, then the one directory
holding the ``unoserver`` package installed in our venv appended; the client side is plain XML-RPC
from our venv. Every LibreOffice gets its own absolute ``--user-installation`` profile directory
(two processes sharing a profile block each other). Servers run in their own process group, which is
killed as a whole on stop and restart; on Linux they also get SIGTERM if the worker dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from app.documents.soffice import ConversionUnavailable
from app.settings import Settings

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
DOCX_IMPORT = "MS Word 2007 XML"
PDF_EXPORT = "writer_pdf_Export"
# A field or content control that LibreOffice turns into an index to fill in (table of contents,
# figures, alphabetical index, bibliography); page numbers are laid out, not refreshed.
_INDEX = re.compile(
    rb"(?:<w:instrText[^>]*>|w:instr=\")\s*(?:TOC|INDEX|BIBLIOGRAPHY)\b"
    rb'|w:docPartGallery w:val="Table of (?:Contents|Figures)"'
)


def has_index(docx: bytes) -> bool:
    """Whether the body of ``docx`` (a DOCX package) holds an index that needs its entries filled in."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            body = package.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError):
        return True  # let LibreOffice make what it can of it, as before
    return _INDEX.search(body) is not None


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
        """The PDF of ``docx``: read with the Word import filter named (no type detection of a
        suffix-less temporary file), written with Writer's PDF export, and indexes refreshed only
        when the document has one (unoserver's default refreshes every document twice)."""
        result: Any = _proxy(self.port, timeout).convert(
            None,
            xmlrpc.client.Binary(docx),
            None,
            "pdf",
            PDF_EXPORT,
            [],
            has_index(docx),
            DOCX_IMPORT,
            None,
        )
        self.conversions += 1
        return bytes(result.data)


if sys.platform != "linux":  # PDEATHSIG is Linux-only; elsewhere the process group still goes on stop()
    _die_with_parent = os.setsid  # type: ignore[assignment]
