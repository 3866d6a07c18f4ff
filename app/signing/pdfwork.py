"""PDF work for signing: page images for the signing page, signature placement at the template's
anchors, appending the certificate of completion (``certificate.py``).

Signatures go onto the pages as images only (a typed name is rendered with the CJK font by Pillow), so
the overlay needs no font at all."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

CJK_FONT = "Noto Sans CJK SC"

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
_ANCHOR = re.compile(r"\[\[SIGN:([a-z0-9_]+)\]\]")


@dataclass(frozen=True)
class Anchor:
    page: int  # 0-based
    x: float  # PDF user space, origin bottom-left
    y: float  # the marker's baseline


@dataclass(frozen=True)
class Mark:
    """One signature to place: a drawn PNG, or a typed name."""

    anchor: str | None
    name: str
    signed_at: str
    drawing: bytes | None = None
    typed: str | None = None


def find_anchors(pdf: bytes) -> dict[str, Anchor]:
    """``[[SIGN:<name>]]`` markers of the text layer (pdftotext -bbox), the first of each name."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        html = subprocess.run(  # noqa: S603 - fixed argv of poppler/fontconfig tools, no shell
            ["pdftotext", "-bbox", str(path), "-"],  # noqa: S607
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode("utf-8", "replace")
    found: dict[str, Anchor] = {}
    for number, page in enumerate(_PAGE.finditer(html)):
        height = float(page.group(2))
        for word in _WORD.finditer(page.group(3)):
            match = _ANCHOR.search(word.group(5))
            if match and match.group(1) not in found:
                found[match.group(1)] = Anchor(number, float(word.group(1)), height - float(word.group(4)))
    return found


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def render_page_png(pdf: bytes, page: int, dpi: int = 96) -> bytes:
    """One page (1-based) as PNG, by poppler's pdftoppm."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        subprocess.run(  # noqa: S603 - fixed argv of poppler/fontconfig tools, no shell
            [  # noqa: S607
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(path),
                str(Path(tmp) / "out"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return (Path(tmp) / "out.png").read_bytes()


@lru_cache(maxsize=1)
def _font_file() -> tuple[str, int] | None:
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv of poppler/fontconfig tools, no shell
            ["fc-match", "-f", "%{file}:%{index}", CJK_FONT],  # noqa: S607
            capture_output=True,
            check=True,
            timeout=10,
        ).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, index = out.rpartition(":")
    return (path, int(index or 0)) if path else None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = _font_file()
    if found:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            pass
    return ImageFont.load_default(size)


def signature_png(mark: Mark) -> bytes:
    """The signature as it goes on the page (360x130 px, transparent): the drawing or the typed name,
    with the signer's name and time underneath."""
    image = Image.new("RGBA", (360, 130), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    if mark.drawing:
        drawn = Image.open(io.BytesIO(mark.drawing)).convert("RGBA")
        drawn.thumbnail((360, 100))
        image.alpha_composite(drawn, (0, max(0, 100 - drawn.height)))
    else:
        draw.text((4, 40), (mark.typed or mark.name)[:40], font=_font(44), fill=(11, 42, 107, 255))
    draw.text((4, 108), f"{mark.name} · {mark.signed_at}"[:70], font=_font(16), fill=(80, 80, 80, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def place_signatures(pdf: bytes, marks: list[Mark]) -> bytes:
    """The original with each signature at its anchor (else stacked at the foot of the last page)."""
    anchors = find_anchors(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    last = len(writer.pages) - 1
    by_page: dict[int, list[tuple[Mark, float, float]]] = {}
    fallback = 0
    for mark in marks:
        anchor = anchors.get(mark.anchor or "")
        if anchor is not None:
            by_page.setdefault(anchor.page, []).append((mark, anchor.x, anchor.y - 4))
        else:
            by_page.setdefault(last, []).append((mark, 60 + 180 * (fallback % 3), 60 + 60 * (fallback // 3)))
            fallback += 1
    for number, items in by_page.items():
        page = writer.pages[number]
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(width, height))
        for mark, x, y in items:
            c.drawImage(
                ImageReader(io.BytesIO(signature_png(mark))), x, y - 10, width=120, height=43.3, mask="auto"
            )
        c.save()
        page.merge_page(PdfReader(buf).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def append_pages(pdf: bytes, extra: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in PdfReader(io.BytesIO(extra)).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pages_from(pdf: bytes, first: int) -> bytes:
    """The pages of ``pdf`` from the 0-based ``first`` on, as a PDF of their own (the certificate of
    completion out of a sealed PDF: what follows the signed document's pages)."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages[first:]:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
