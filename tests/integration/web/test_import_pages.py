"""The import page over HTTP: a GBK CSV's columns are shown with their fields preset, a column mapped by
hand is remembered for the next file; the import is queued, its progress polled (every second, until
done), the job run as the worker runs it, then the row report: rows imported, each refused row with its
reason, the refused rows as a CSV to fix (the file's own header and cells plus what to fix). Bad input
inline, nothing queued; another member's or tenant's import is 404."""

from __future__ import annotations

import codecs
import csv
import io

from tests.factories import db_value
from tests.helpers import run_jobs
from tests.integration.customers.imports.support import HEADER, csv_file, rows, team
from tests.integration.web.support import HTMX, htmx, sign_in


def _files(content: bytes, name: str = "名单.csv") -> dict:
    return {"file": (name, content, "application/octet-stream")}


async def test_columns_preset_and_a_hand_mapping_remembered(client, mailbox, app):
    t = await team(client, mailbox, app, locale="en")
    csrf = await sign_in(client, t.rep)
    header = ["公司", *HEADER[1:]]  # "公司" is no usual name of a column
    content = csv_file(rows(2), encoding="gbk", header=header)
    r = await client.post("/customers/import/columns", files=_files(content), headers=htmx(csrf))
    assert r.status_code == 200 and 'name="header:0" value="公司"' in r.text
    assert '<option value="tax_id" selected>' in r.text  # 统一社会信用代码, by its usual name
    assert 'id="field-0" name="field:0">\n      <option value="">' in r.text  # 公司: not known yet
    # without a full name column the file is refused inline; nothing is queued
    r = await client.post("/customers/import", files=_files(content), headers=htmx(csrf))
    assert r.status_code == 422 and "full name column" in r.text and "<html" not in r.text
    data = {f"header:{i}": h for i, h in enumerate(header)} | {"field:0": "full_name", "mode": "valid_rows"}
    r = await client.post("/customers/import", files=_files(content), data=data, headers=htmx(csrf))
    assert r.status_code == 200 and 'id="job-area" hx-swap-oob="true"' in r.text
    assert 'hx-trigger="every 1s"' in r.text and "<progress" in r.text
    # the next file with the same header: 公司 is the full name, as last time
    r = await client.post("/customers/import/columns", files=_files(content), headers=htmx(csrf))
    assert '<option value="full_name" selected>' in r.text.split('name="field:0"', 1)[1].split("</select>")[0]
    assert "as last time" in r.text


async def test_a_gbk_import_with_bad_rows_reports_them_and_the_file_to_fix(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    data = rows(5)
    data[1][5] = "Z"  # no such grade
    data[3][6] = "火星"  # no such territory
    content = csv_file(data, encoding="gbk")
    csrf = await sign_in(client, t.rep)
    page = await client.get("/customers/import")
    assert page.status_code == 200 and 'hx-encoding="multipart/form-data"' in page.text
    assert 'href="/api/v1/customers/export?format=xlsx"' in page.text
    r = await client.post(
        "/customers/import", files=_files(content), data={"mode": "valid_rows"}, headers=htmx(csrf)
    )
    assert r.status_code == 200, r.text
    import_id = r.text.split('hx-get="/customers/imports/', 1)[1].split('"', 1)[0]
    poll = await client.get(f"/customers/imports/{import_id}", headers=HTMX)
    assert (
        poll.status_code == 200
        and 'hx-trigger="every 1s"' in poll.text
        and "Waiting for the worker" in poll.text
    )

    await run_jobs(app)
    poll = await client.get(f"/customers/imports/{import_id}", headers=HTMX)
    assert poll.status_code == 200 and "hx-trigger" not in poll.text  # done: the polling stops
    assert "3 rows imported · 2 rows refused" in poll.text
    assert "Row 3" in poll.text and "Row 5" in poll.text and 'max="1" value="1"' in poll.text
    full = await client.get(f"/customers/imports/{import_id}")
    assert full.status_code == 200 and "<h1>Import customers</h1>" in full.text

    r = await client.get(f"/customers/imports/{import_id}/refused.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == [*HEADER, "What to fix"]
    assert [row[0] for row in table[1:]] == [data[1][0], data[3][0]]  # the cells as uploaded
    assert table[1][5] == "Z" and "客户等级" in table[1][-1]
    count = await db_value(
        admin_db, "SELECT count(*) FROM customers WHERE tenant = $1::uuid", t.owner.tenant_id
    )
    assert count == 3

    # the fixed file goes in again
    fixed = [row[: len(HEADER)] for row in table[1:]]
    fixed[0][5], fixed[1][6] = "B", "浦东新区"
    r = await client.post("/customers/import", files=_files(csv_file(fixed)), headers=htmx(csrf))
    assert r.status_code == 200
    await run_jobs(app)
    count = await db_value(
        admin_db, "SELECT count(*) FROM customers WHERE tenant = $1::uuid", t.owner.tenant_id
    )
    assert count == 5


async def test_bad_uploads_are_refused_inline_and_nothing_is_queued(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    csrf = await sign_in(client, t.rep)
    h = htmx(csrf)
    for files, data in (
        ({}, {}),
        (_files(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "x.png"), {}),
        (_files(csv_file(rows(1))), {"mode": "sometimes"}),
        (_files(csv_file(rows(1))), {"default_territory_id": "nope"}),
        (
            _files(csv_file(rows(1))),
            {"header:0": HEADER[0], "field:0": "phone", "header:2": HEADER[2], "field:2": "phone"},
        ),
    ):
        r = await client.post("/customers/import", files=files or None, data=data, headers=h)
        assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text, (data, r.text)
    r = await client.post("/customers/import/columns", files=_files(b"\x00\x01\x02", "x.csv"), headers=h)
    assert r.status_code == 422
    queued = await db_value(
        admin_db, "SELECT count(*) FROM customer_imports WHERE tenant = $1::uuid", t.owner.tenant_id
    )
    assert queued == 0


async def test_another_members_or_tenants_import_is_404(client, mailbox, app):
    t = await team(client, mailbox, app, locale="en")
    other = await team(client, mailbox, app, locale="en")
    csrf = await sign_in(client, t.rep)
    r = await client.post("/customers/import", files=_files(csv_file(rows(1))), headers=htmx(csrf))
    import_id = r.text.split('hx-get="/customers/imports/', 1)[1].split('"', 1)[0]
    await sign_in(client, t.rep2)  # a colleague
    assert (await client.get(f"/customers/imports/{import_id}")).status_code == 404
    assert (await client.get(f"/customers/imports/{import_id}/refused.csv")).status_code == 404
    await sign_in(client, other.owner)  # another tenant's owner
    r = await client.get(f"/customers/imports/{import_id}")
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    assert (await client.get(f"/customers/imports/{import_id}/errors", headers=HTMX)).status_code == 404
    await sign_in(client, t.owner)  # the owner sees every import of the tenant
    assert (await client.get(f"/customers/imports/{import_id}")).status_code == 200
