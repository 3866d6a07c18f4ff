"""Files the import refuses: not a spreadsheet, empty, header only, too big, too many rows, no
full-name column, bad options — at upload (422) or, for the row limit, as a failed import."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.factories import db_value
from tests.integration.customers.imports.support import HEADER, csv_file, rows, team, upload, xlsx_file


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
        + chunk(b"IEND", b"")
    )


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>客户全称,电话</w:document>")
    return out.getvalue()


def _field_message(response) -> tuple[str, str]:
    body = response.json()
    assert body["type"] == "/problems/validation", body
    error = body["errors"][0]
    return error["field"], error["message"]


async def test_files_that_are_not_spreadsheets_are_refused_at_upload(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    for content, filename in (
        (_png(), "客户.csv"),
        (_docx(), "客户.csv"),
        (b"\x00\x01\x02binary" * 50, "a.csv"),
    ):
        r = await upload(client, t.rep, content, filename=filename)
        assert r.status_code == 422, r.text
        assert _field_message(r) == ("file", "请上传 CSV 或 XLSX 文件")
    r = await upload(client, t.rep, b"", filename="empty.csv")
    assert r.status_code == 422 and _field_message(r) == ("file", "文件为空")
    r = await upload(client, t.rep, csv_file([]), filename="header-only.csv")
    assert r.status_code == 422 and _field_message(r) == ("file", "文件中没有数据行")
    r = await upload(client, t.rep, xlsx_file([]), filename="header-only.xlsx")
    assert r.status_code == 422 and _field_message(r) == ("file", "文件中没有数据行")
    r = await upload(client, t.rep, "电话,地址\r\n021-1,上海\r\n".encode(), filename="no-name.csv")
    assert r.status_code == 422
    assert _field_message(r) == ("file", "文件中没有客户全称列（例如“客户全称”或 full_name）")
    assert (
        await db_value(admin_db, "SELECT count(*) FROM customer_imports WHERE tenant = $1", t.owner.tenant_id)
        == 0
    )


async def test_bad_options_are_refused(client, mailbox, app):
    t = await team(client, mailbox, app, locale="en")
    content = csv_file(rows(1))
    r = await upload(client, t.rep, content, mode="sometimes")
    assert r.status_code == 422 and _field_message(r) == ("mode", "Use all_or_nothing or valid_rows")
    r = await upload(client, t.rep, content, default_owner="boss")
    assert r.status_code == 422 and _field_message(r) == ("default_owner", "Use me or pool")
    r = await upload(client, t.rep, content, default_territory_id="not-a-uuid")
    assert r.status_code == 422 and _field_message(r)[0] == "default_territory_id"
    r = await upload(client, t.rep, content, default_territory_id="8c1a2f7e-0000-4000-8000-000000000000")
    assert r.status_code == 422 and _field_message(r) == ("default_territory_id", "No territory with this id")


async def test_a_file_over_50_mb_is_refused(client, mailbox, app):
    t = await team(client, mailbox, app, locale="en")
    line = "某某科技有限公司,,,,,A,浦东新区,,\r\n".encode()
    content = csv_file([]) + line * (50 * 1024 * 1024 // len(line) + 1)
    assert len(content) > 50 * 1024 * 1024
    r = await upload(client, t.owner, content)
    assert r.status_code == 422 and _field_message(r) == ("file", "The file is larger than 50 MB")


async def test_more_than_100000_rows_is_refused(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    # a CSV is counted at upload
    body = "".join(f"客户{i}有限公司,,,,,B,浦东新区,,\r\n" for i in range(100_001))
    r = await upload(client, t.owner, ",".join(HEADER).encode() + b"\r\n" + body.encode(), mode="valid_rows")
    assert r.status_code == 422 and _field_message(r) == ("file", "The file has more than 100000 rows")
    assert (
        await db_value(admin_db, "SELECT count(*) FROM customer_imports WHERE tenant = $1", t.owner.tenant_id)
        == 0
    )
