"""LibreOffice itself: finding ``soffice``, the conversion errors, and the one-shot
``soffice --headless --convert-to pdf`` (the fallback of the warm pool in ``convert``).

Errors: ``ConversionUnavailable`` (LibreOffice is not installed: produce DOCX only),
``ConversionTransient`` (timeouts, crashes: retry later), ``ConversionFailed`` (LibreOffice cannot
convert this document: retrying will not help).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

from app.settings import Settings, get_settings


class ConversionUnavailable(Exception):
    """LibreOffice is not installed here: documents are produced as DOCX only."""


class ConversionTransient(Exception):
    """The converter timed out or crashed: the same document may well convert on a later try."""


class ConversionFailed(Exception):
    """LibreOffice could not convert this document (a damaged or pathological template)."""


def soffice_binary(settings: Settings) -> str | None:
    return shutil.which(settings.soffice_path)


async def convert_once(soffice: str, docx: bytes, workdir: Path, seconds: float) -> bytes:
    """``soffice --headless --convert-to pdf`` with a fresh profile in a temporary directory under
    ``workdir``: ~1 s, no warm state. Raises ``ConversionTransient`` after ``seconds`` (the
    process group is killed), ``ConversionFailed`` when LibreOffice produces no PDF."""
    with tempfile.TemporaryDirectory(prefix="oneshot-", dir=workdir) as tmp:
        work = Path(tmp)
        (work / "document.docx").write_bytes(docx)
        proc = await asyncio.create_subprocess_exec(
            soffice,
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
            output, _ = await asyncio.wait_for(proc.communicate(), seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise ConversionTransient("one-shot LibreOffice timed out") from None
        pdf = work / "document.pdf"
        if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
            tail = output.decode("utf-8", "replace").strip()[-300:]
            raise ConversionFailed(f"LibreOffice could not convert the document ({tail or proc.returncode})")
        return pdf.read_bytes()


def describe_missing() -> str | None:
    """A one-line explanation when PDF output is impossible here, else None (for ``acre dev``)."""
    settings = get_settings()
    if soffice_binary(settings) is None:
        return (
            f"LibreOffice ({settings.soffice_path}) was not found: documents will be produced as DOCX "
            "only. Install libreoffice-writer-nogui, python3-uno and fonts-noto-cjk for PDFs."
        )
    return None
