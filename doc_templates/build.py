"""Build the default document templates: ``doc_templates/<kind>.<locale>.docx``.

    uv run python doc_templates/build.py [--out DIR]

Reproducible: the same code gives byte-identical files (fixed document properties, fixed zip entry
times and order), so the committed templates can be checked against this script. Every Jinja tag is
written inside one Word run (a tag split across runs is what the upload validator rejects). The
variables are those of ``app/documents/kinds.py``; the sections live in ``sections.py``.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentT
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from doc_templates.labels import L  # noqa: E402

ACCENT = RGBColor(0x1F, 0x4E, 0x79)
GREY = RGBColor(0x59, 0x59, 0x59)
FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)
TEXT_WIDTH = 16.6  # cm between the margins of an A4 page (21 − 2 × 2.2): every table fits in it
CELL_PADDING = 0.1  # cm left and right inside a table cell (Word's default is 0.19)
LATIN_FONT = "Arial"
CJK_FONT = {"zh-CN": "SimSun", "en": "SimSun"}


class Builder:
    """A thin layer over python-docx for the house style: one instance per output file."""

    def __init__(self, kind: str, locale: str) -> None:
        self.kind, self.locale = kind, locale
        self.doc: DocumentT = Document()
        self._setup()

    def t(self, key: str) -> str:
        zh, en = L[key]
        return zh if self.locale == "zh-CN" else en

    # --- page, styles, header and footer --------------------------------------------------------

    def _setup(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
        for name, size, bold, color in (
            ("Normal", 10.5, False, None),
            ("Title", 24, True, ACCENT),
            ("Heading 1", 14, True, ACCENT),
            ("Heading 2", 12, True, ACCENT),
            ("Subtitle", 13, False, GREY),
        ):
            style = self.doc.styles[name]
            style.font.size, style.font.bold = Pt(size), bold
            style.font.name = LATIN_FONT
            if color is not None:
                style.font.color.rgb = color
            rpr = style.element.get_or_add_rPr()
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is None:
                fonts = OxmlElement("w:rFonts")
                rpr.append(fonts)
            for attr in ("w:ascii", "w:hAnsi", "w:cs"):
                fonts.set(qn(attr), LATIN_FONT)
            fonts.set(qn("w:eastAsia"), CJK_FONT[self.locale])
            for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(theme), None)
            if rpr.find(qn("w:lang")) is None:  # Chinese text is zh-CN: renderers pick SC glyphs
                lang = OxmlElement("w:lang")
                lang.set(qn("w:val"), "zh-CN" if self.locale == "zh-CN" else "en-US")
                lang.set(qn("w:eastAsia"), "zh-CN")
                rpr.append(lang)
        self.doc.styles["Normal"].paragraph_format.space_after = Pt(4)
        self.doc.styles["Normal"].paragraph_format.line_spacing = 1.25
        props = self.doc.core_properties
        props.author = props.last_modified_by = "Acre"
        props.title = self.t(f"kind.{self.kind}")
        props.created = props.modified = FIXED_TIME
        props.revision = 1
        self.header_footer(section)

    def header_footer(self, section: object) -> None:
        header = section.header  # type: ignore[attr-defined]
        p = header.paragraphs[0]
        p.text = ""
        self.run(p, "{% if party_b.logo %}{{ party_b.logo }}  {% endif %}", size=9)
        self.run(p, "{{ company.name }}", bold=True, color=ACCENT, size=9)
        self.run(p, "    " + self.t(f"kind.{self.kind}"), color=GREY, size=9)
        self.border(p, "bottom")
        footer = section.footer  # type: ignore[attr-defined]
        f = footer.paragraphs[0]
        f.alignment = WD_ALIGN_PARAGRAPH.CENTER
        before, middle, after = self.t("page").split("|")
        self.run(f, before, size=8, color=GREY)
        self.field(f, "PAGE")
        self.run(f, middle, size=8, color=GREY)
        self.field(f, "NUMPAGES")
        self.run(f, after, size=8, color=GREY)
        line = footer.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.run(
            line,
            "{{ company.name }}{% if company.phone %} · {{ company.phone }}{% endif %}"
            "{% if company.website %} · {{ company.website }}{% endif %}",
            size=7,
            color=GREY,
        )

    # --- primitives ---------------------------------------------------------------------------------

    def run(
        self,
        paragraph: Paragraph,
        text: str,
        *,
        bold: bool = False,
        size: float | None = None,
        color: RGBColor | None = None,
    ) -> None:
        r = paragraph.add_run(text)
        r.bold = bold or None
        if size:
            r.font.size = Pt(size)
        if color is not None:
            r.font.color.rgb = color

    def field(self, paragraph: Paragraph, instr: str) -> None:
        """A Word field (PAGE, NUMPAGES): begin, instruction, separator, placeholder, end."""
        for kind, text in (
            ("begin", None),
            ("instr", f" {instr} "),
            ("separate", None),
            ("text", "1"),
            ("end", None),
        ):
            r = paragraph.add_run()
            r.font.size = Pt(8)
            if kind == "instr":
                el = OxmlElement("w:instrText")
                el.set(qn("xml:space"), "preserve")
                el.text = text
                r._r.append(el)
            elif kind == "text":
                r.text = text or ""
            else:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
                r._r.append(el)

    def border(self, paragraph: Paragraph, side: str) -> None:
        ppr = paragraph._p.get_or_add_pPr()
        borders = OxmlElement("w:pBdr")
        edge = OxmlElement(f"w:{side}")
        for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "1F4E79")):
            edge.set(qn(key), value)
        borders.append(edge)
        ppr.append(borders)

    def para(
        self,
        text: str = "",
        *,
        bold: bool = False,
        size: float | None = None,
        align: str | None = None,
        color: RGBColor | None = None,
        style: str | None = None,
    ) -> Paragraph:
        p = self.doc.add_paragraph(style=style)
        if text:
            self.run(p, text, bold=bold, size=size, color=color)
        if align == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif align == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        return p

    def heading(self, key_or_text: str, level: int = 1) -> Paragraph:
        text = self.t(key_or_text) if key_or_text in L else key_or_text
        return self.doc.add_heading(text, level=level)

    def label_value(self, label_key: str, value: str) -> Paragraph:
        p = self.doc.add_paragraph()
        self.run(p, self.t(label_key) + self.t("colon"), bold=True)
        self.run(p, value)
        return p

    def shade(self, cell: object, fill: str) -> None:
        tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), fill)
        tcpr.append(shd)

    def table(self, headers: list[str], widths: list[float]) -> Table:
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        self.widths(table, widths)
        self.padding(table)
        for cell, key, width in zip(table.rows[0].cells, headers, widths, strict=True):
            cell.width = Cm(width)
            cell.paragraphs[0].text = ""
            self.run(cell.paragraphs[0], self.t(key), bold=True, color=RGBColor(0xFF, 0xFF, 0xFF), size=9)
            self.shade(cell, "1F4E79")
        trpr = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
        trpr.append(repeat)
        return table

    def widths(self, table: Table, widths: list[float]) -> None:
        """Fixed column widths (the grid is what LibreOffice and Word lay out from), within the page."""
        if sum(widths) > TEXT_WIDTH + 1e-9:
            raise ValueError(f"a table {sum(widths):.2f} cm wide does not fit in {TEXT_WIDTH} cm")
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Cm(width)

    def padding(self, table: Table) -> None:
        """Narrow left/right cell padding for the whole table, so that labels fit on one line."""
        tblpr = table._tbl.tblPr
        margins = OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            edge = OxmlElement(f"w:{side}")
            edge.set(qn("w:w"), str(round(CELL_PADDING / 2.54 * 1440)))
            edge.set(qn("w:type"), "dxa")
            margins.append(edge)
        tblpr.append(margins)

    def keep_together(self, table: Table, with_next: bool = False) -> None:
        """Rows that never split over two pages, each kept with the next (the last one too when
        ``with_next``: then the paragraph after the table comes along): a table moves to the next page
        whole rather than break (a signature block; the quote's sales block with its seal)."""
        last = table.rows[-1]
        for row in table.rows:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            if with_next or row is not last:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        paragraph.paragraph_format.keep_with_next = True

    def loop_table(
        self, headers: list[str], widths: list[float], loop: str, item: str, fields: list[str]
    ) -> Table:
        """A table whose middle row repeats for each item: ``{%tr for item in loop %}`` … ``endfor``."""
        table = self.table(headers, widths)
        cells = table.add_row().cells
        cells[0].paragraphs[0].text = f"{{%tr for {item} in {loop} %}}"
        values = table.add_row().cells
        for cell, name, width in zip(values, fields, widths, strict=True):
            cell.width = Cm(width)
            cell.paragraphs[0].text = ""
            self.run(cell.paragraphs[0], f"{{{{ {item}.{name} }}}}", size=9)
        table.add_row().cells[0].paragraphs[0].text = "{%tr endfor %}"
        return table

    def key_table(
        self, rows: list[tuple[str, str] | tuple[str, str, str]], widths: tuple[float, float] = (4.5, 12)
    ) -> Table:
        """Two columns: a shaded label and its value. A row ``(label, value, test)`` is there only
        when ``test`` (a variable) is not blank: ``{%tr if test %}`` … ``{%tr endif %}`` around it."""
        table = self.doc.add_table(rows=0, cols=2)
        table.style = self.doc.styles["Table Grid"]
        self.widths(table, list(widths))
        self.padding(table)
        for key, value, *test in rows:
            if test:
                table.add_row().cells[0].paragraphs[0].text = f"{{%tr if {test[0]} %}}"
            cells = table.add_row().cells
            cells[0].width, cells[1].width = Cm(widths[0]), Cm(widths[1])
            self.run(cells[0].paragraphs[0], self.t(key), bold=True, size=9.5)
            self.shade(cells[0], "DCE6F1")
            self.run(cells[1].paragraphs[0], value, size=9.5)
            if test:
                table.add_row().cells[0].paragraphs[0].text = "{%tr endif %}"
        return table

    def page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def sign_anchor(self, paragraph: Paragraph, party: str) -> None:
        """The e-signature anchor ``[[SIGN:<party>]]``: white, 1 pt, invisible on paper but present in
        the PDF's text layer, where the signing step finds its position."""
        r = paragraph.add_run(f"[[SIGN:{party}]]")
        r.font.size = Pt(1)
        r.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)

    def landscape_section(self) -> None:
        section = self.doc.add_section(WD_SECTION_START.NEW_PAGE)
        section.orientation = 1  # type: ignore[assignment]
        section.page_width, section.page_height = Cm(29.7), Cm(21)

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        path.write_bytes(normalise_zip(buffer.getvalue()))


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and a stable order: byte-identical rebuilds."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        order = ["[Content_Types].xml", *sorted(n for n in names if n != "[Content_Types].xml")]
        for name in order:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


def build_all(out: Path) -> list[Path]:
    from doc_templates.sections import BUILDERS

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, build in BUILDERS.items():
        for locale in ("zh-CN", "en"):
            builder = Builder(kind, locale)
            build(builder)
            path = out / f"{kind}.{locale}.docx"
            builder.save(path)
            written.append(path)
    return written


SectionBuilder = Callable[[Builder], None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for path in build_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
