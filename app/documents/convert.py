"""DOCX → PDF with LibreOffice kept warm: a pool of ``ACRE_UNOSERVER_COUNT`` unoserver processes
(``unoserver``), health-checked and restarted when they die, with a one-shot ``soffice --headless
--convert-to pdf`` (``soffice``) as the fallback. The errors are ``soffice``'s.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import tempfile
import xmlrpc.client
from pathlib import Path
from typing import Any

import structlog

from app.documents.soffice import (
    ConversionFailed,
    ConversionTransient,
    ConversionUnavailable,
    convert_once,
    soffice_binary,
)
from app.documents.unoserver import UnoServer
from app.settings import Settings, get_settings

log = structlog.get_logger(__name__)
_HEALTH_EVERY = 30


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

    def pool_state(self) -> dict[str, int]:
        """How many warm converters are ``busy`` converting, ``idle`` (ready for the next document) and
        ``stopped`` (not started yet, or none: one-shot ``soffice`` only)."""
        if self.idle is None or not self.uno_ok:
            return {"busy": 0, "idle": 0, "stopped": len(self.servers)}
        idle = self.idle.qsize()
        return {"busy": len(self.servers) - idle, "idle": idle, "stopped": 0}

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
        """A one-shot conversion (``soffice.convert_once``) under this pool's directory."""
        if self.soffice is None:
            raise ConversionUnavailable("LibreOffice (soffice) is not installed")
        return await convert_once(self.soffice, docx, self.root, self.settings.conversion_timeout_seconds)

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


def current_converter() -> Converter | None:
    """This process's converter if one was made (no converter is made for asking)."""
    return _converter


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
