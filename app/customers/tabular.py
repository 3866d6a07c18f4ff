"""Spreadsheet files in and out, as pure functions over bytes and file objects (no database).

Reading: :func:`sniff_format` decides CSV or XLSX from the **content**, not the name (a PNG or a
``.docx`` renamed ``.csv`` is refused); :func:`detect_encoding` picks UTF-8 (with or without BOM),
UTF-16 with a BOM, or GB18030 (a superset of GBK/GB2312, what Excel on a Chinese Windows writes)
for CSV; :func:`read_rows` streams rows as lists of strings (``None`` for an empty cell) — XLSX
through openpyxl's ``read_only`` mode, never the whole sheet in memory.

Writing: :func:`neutralize` defuses spreadsheet formula injection (CSV/formula injection): a text
starting with ``= + - @``, a tab or a carriage return is prefixed with an apostrophe, and so is one
that already starts with apostrophes followed by such a character, so :func:`unneutralize` (used
by the importer) gives back exactly the original — an exported file re-imports unchanged. A phone
such as ``+86 21 5555 0000`` is data, not a formula: in CSV it becomes ``'+86 21 5555 0000`` (Excel
shows it as text; our import strips the apostrophe); in XLSX every text is written as a *string
cell* — never evaluated as a formula — with Excel's ``quotePrefix`` style on the dangerous ones, so
the cell shows and holds exactly ``+86 21 5555 0000`` and stays text if someone edits it.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any, Literal

Format = Literal["csv", "xlsx"]
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 1 << 20
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "xlsx": _XLSX_TYPE}


class NotSpreadsheet(ValueError):
    """The bytes are not a CSV or XLSX file (an image, a Word document, binary data)."""


class UnreadableText(ValueError):
    """A CSV whose text is in none of the supported encodings."""


# --- what kind of file ---------------------------------------------------------------------------

_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%PDF",
    b"\xd0\xcf\x11\xe0",  # OLE2: .xls, .doc
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
    b"BM",
)


def sniff_format(data: bytes) -> Format:
    """``xlsx`` for a ZIP holding an Excel workbook, ``csv`` for text; else :class:`NotSpreadsheet`
    (another ZIP such as a ``.docx``, an image, a PDF, an old ``.xls``, text with NUL bytes)."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise NotSpreadsheet("a damaged ZIP file") from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise NotSpreadsheet("a ZIP file that is not an Excel workbook")
    if data.startswith(_BINARY_MAGIC) and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotSpreadsheet("a binary file")
    head = data[:65536]
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in head:
        raise NotSpreadsheet("a binary file")
    try:
        encoding = detect_encoding(io.BytesIO(head), complete=len(data) <= len(head))
    except UnreadableText:
        raise NotSpreadsheet("not text") from None
    text = head.decode(encoding, errors="ignore")
    controls = sum(1 for c in text if c < " " and c not in "\t\r\n")
    if controls > max(8, len(text) // 100):
        raise NotSpreadsheet("a binary file")
    return "csv"


def detect_encoding(stream: IO[bytes], complete: bool = True) -> str:
    """The codec of a CSV: ``utf-8-sig`` (BOM), ``utf-16`` (BOM), ``utf-8`` when the whole stream is
    valid UTF-8, else ``gb18030`` when it is valid GB18030 (covers GBK/GB2312). Reads the stream to
    the end in 1 MB chunks (no text kept) and leaves it at 0. ``complete=False``: the stream is only
    the start of a file, so a character cut at its end is not an error. GBK-encoded Chinese is
    almost never valid UTF-8, so UTF-8 first is safe; plain ASCII answers ``utf-8``."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        for encoding in ("utf-8", "gb18030"):
            if _decodes(stream, encoding, complete):
                return encoding
    finally:
        stream.seek(0)
    raise UnreadableText("neither UTF-8 nor GB18030")


def _decodes(stream: IO[bytes], encoding: str, complete: bool) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=complete)
    except UnicodeDecodeError:
        return False
    return True


# --- reading ---------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    """A cell as text: integral floats without ``.0`` (phones and tax ids typed as numbers), dates
    ISO, empty strings as ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def read_rows(fmt: Format, stream: IO[bytes]) -> Iterator[list[str | None]]:
    """Every row of the file (the first sheet of a workbook), in order, blank rows included (as
    lists without any text), so the row's position is its number in Excel. Raises
    :class:`UnreadableText` or :class:`NotSpreadsheet` when the file cannot be read at all."""
    if fmt == "xlsx":
        yield from _xlsx_rows(stream)
    else:
        yield from _csv_rows(stream)


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str | None]]:
    encoding = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first_line = text.readline()
        text.seek(0)
        # Excel writes "," (or ";" in some locales, tab for "Unicode text"): the most frequent in the
        # header line wins. csv.Sniffer is not used: it guesses wrong on Chinese text.
        delimiter = max((",", "\t", ";"), key=first_line.count)
        for record in csv.reader(text, delimiter=delimiter):
            yield [cell if cell.strip() else None for cell in record]
    finally:
        text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str | None]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        raise NotSpreadsheet(f"an unreadable workbook ({type(exc).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def xlsx_max_row(data: bytes) -> int | None:
    """The last row of the first sheet as its ``<dimension>`` records it (an upper bound on its
    rows, blank ones included), or ``None`` when the file does not say."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except Exception:
        return None
    try:
        max_row = workbook.worksheets[0].max_row
        return max_row if isinstance(max_row, int) else None
    finally:
        workbook.close()


# --- formula injection -------------------------------------------------------------------------------


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (or it already carries our prefix)."""
    return text.lstrip("'").startswith(_TRIGGERS)


def neutralize(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet could evaluate it (see module doc)."""
    return "'" + text if is_dangerous(text) else text


def unneutralize(text: str) -> str:
    """The inverse of :func:`neutralize`: drop one leading apostrophe put there by it."""
    return text[1:] if text.startswith("'") and is_dangerous(text) else text


# --- writing -----------------------------------------------------------------------------------------


def csv_bytes(rows: Iterable[list[Any]], *, bom: bool = False) -> bytes:
    """Rows as CSV: UTF-8 (with a BOM when ``bom``: the start of a file, so Excel opens Chinese
    correctly), CRLF, every text cell neutralised, ``None`` as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else neutralize(v) if isinstance(v, str) else v for v in row])
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode("utf-8")


def xlsx_bytes(header: list[str], rows: Iterable[list[Any]], title: str = "Customers") -> bytes:
    """A workbook (openpyxl ``write_only``) whose texts are all string cells — never formulas —
    and whose texts a spreadsheet could take for a formula carry Excel's ``quotePrefix``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        out = WriteOnlyCell(sheet, value=value)
        out.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if is_dangerous(value):
            out.quotePrefix = True
        return out

    sheet.append([cell(h) for h in header])
    for row in rows:
        sheet.append([cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
