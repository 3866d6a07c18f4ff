"""Exporting customers: CSV (UTF-8 with BOM) and XLSX, headers in the member's language, only what
the member may see, the list's filters, formula injection neutralised, and a round trip: export,
then import into a fresh tenant, gives the same customers."""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

from tests.factories import customer, db_rows, territory
from tests.helpers import add_member, signup
from tests.integration.customers.imports.support import imported, read_xlsx, tax_id, team

HYPERLINK = '=HYPERLINK("http://x")'
PHONE = "+86 21 5555 0000"


async def _export(client: Any, who: Any, **params: str) -> Any:
    return await client.get("/api/v1/customers/export", params=params, headers=who.headers)


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_csv_export_is_excel_friendly_and_neutralises_formulas(client, mailbox, app):
    t = await team(client, mailbox, app)
    await customer(client, t.rep, t.pd["id"], full_name=HYPERLINK, phone=PHONE, grade="A", source="referral")
    r = await _export(client, t.rep, format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert r.headers["content-disposition"].startswith("attachment;")
    header, row = _csv_rows(r.content)
    assert header[:3] == ["客户全称", "简称", "统一社会信用代码"] and header[-2:] == ["责任区域", "负责人"]
    assert row[0] == "'" + HYPERLINK and row[3] == "'" + PHONE  # text for Excel, not a formula
    assert (row[10], row[12], row[14], row[15]) == ("转介绍", "A", "华东/上海市/浦东新区", t.rep.email)

    english = await signup(client, locale="en")
    nj = await territory(client, english, "Nanjing")
    await customer(client, english, nj["id"], full_name="@SUM(1+1)", phone="-1", owner_membership_id=None)
    header, row = _csv_rows((await _export(client, english)).content)
    assert header[0] == "Full name" and header[-1] == "Owner"
    assert (row[0], row[3], row[-1], row[-2]) == ("'@SUM(1+1)", "'-1", "pool", "Nanjing")


async def test_xlsx_export_stores_texts_as_strings(client, mailbox, app):
    t = await team(client, mailbox, app)
    await customer(client, t.rep, t.pd["id"], full_name=HYPERLINK, phone=PHONE, headcount=12)
    r = await _export(client, t.rep, format="xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    name, phone, headcount = sheet["A2"], sheet["D2"], sheet["H2"]
    assert (name.value, name.data_type, name.quotePrefix) == (HYPERLINK, "s", True)
    assert (phone.value, phone.data_type, phone.quotePrefix) == (PHONE, "s", True)
    assert headcount.value == 12
    assert sheet["A1"].value == "客户全称"


async def test_export_holds_only_what_the_member_may_see_with_the_list_filters(client, mailbox, app):
    t = await team(client, mailbox, app)
    mine = await customer(client, t.rep, t.pd["id"], grade="A")
    pooled = await customer(client, t.owner, t.pd["id"], grade="B", owner_membership_id=None)
    theirs = await customer(client, t.rep2, t.js["id"], grade="A")

    def names(response: Any) -> set[str]:
        return {row[0] for row in _csv_rows(response.content)[1:]}

    assert names(await _export(client, t.rep)) == {mine["full_name"], pooled["full_name"]}
    assert names(await _export(client, t.rep, grade="A")) == {mine["full_name"]}
    assert names(await _export(client, t.rep, owner="none")) == {pooled["full_name"]}
    assert names(await _export(client, t.owner)) == {
        mine["full_name"],
        pooled["full_name"],
        theirs["full_name"],
    }
    assert names(await _export(client, t.owner, territory_id=t.sh["id"])) == {
        mine["full_name"],
        pooled["full_name"],
    }
    assert names(await _export(client, t.manager)) == {mine["full_name"], pooled["full_name"]}
    other_tenant = await signup(client)
    assert names(await _export(client, other_tenant)) == set()
    xlsx = read_xlsx((await _export(client, t.rep2, format="xlsx")).content)
    assert [row[0] for row in xlsx[1:]] == [theirs["full_name"]]
    for bad in ({"format": "pdf"}, {"grade": "Z"}, {"owner": "somebody"}):
        r = await _export(client, t.rep, **bad)
        assert r.status_code == 422, bad
    assert (await client.get("/api/v1/customers/export")).status_code == 401


_PROJECTION = (
    "SELECT c.full_name, c.short_name, c.tax_id, c.phone, c.address, c.industry, c.size_revenue_band,"
    " c.headcount, c.it_status, c.current_software, c.source, c.referrer, c.grade, c.status,"
    " t.name AS territory, u.email AS owner FROM customers c"
    " JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id"
    " LEFT JOIN memberships m ON m.tenant = c.tenant AND m.id = c.owner_membership_id"
    " LEFT JOIN users u ON u.id = m.user_id WHERE c.tenant = $1"
)


async def _projection(admin_db: str, tenant_id: str) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in await db_rows(admin_db, _PROJECTION, tenant_id)}


async def _fresh_tenant_like(client: Any, mailbox: Any, app: Any, rep_email: str) -> Any:
    """A new tenant with the same territory names and the same rep (by email)."""
    owner = await signup(client, locale="zh-CN")
    east = await territory(client, owner, "华东")
    sh = await territory(client, owner, "上海市", parent=east["id"], level="province")
    await territory(client, owner, "浦东新区", parent=sh["id"], level="county")
    await territory(client, owner, "江苏省", level="province")
    await add_member(client, owner, mailbox, app, role="rep", email_addr=rep_email)
    return owner


async def test_export_then_import_into_a_fresh_tenant_gives_the_same_customers(
    client, mailbox, app, admin_db
):
    t = await team(client, mailbox, app)
    full = {
        "short_name": "青禾",
        "tax_id": tax_id(),
        "address": "上海市浦东新区张江路 88 号",
        "phone": PHONE,
        "industry": "制造业",
        "size_revenue_band": "1000-5000万",
        "headcount": 120,
        "it_status": "uses_software",
        "current_software": "用友 U8",
        "source": "cold_visit",
        "referrer": "老客户推荐",
        "grade": "A",
        "status": "won",
    }
    await customer(client, t.rep, t.pd["id"], full_name="上海青禾软件有限公司", **full)
    await customer(client, t.rep, t.pd["id"], full_name=HYPERLINK, phone="-", grade="C")
    await customer(client, t.owner, t.pd["id"], full_name="上海浦江数据有限公司", owner_membership_id=None)
    await customer(client, t.owner, t.js["id"], full_name="南京紫金山软件有限公司", owner_membership_id=None)
    original = await _projection(admin_db, t.owner.tenant_id)
    assert len(original) == 4

    for fmt in ("csv", "xlsx"):
        r = await _export(client, t.owner, format=fmt)
        assert r.status_code == 200
        fresh = await _fresh_tenant_like(client, mailbox, app, t.rep.email)
        done = await imported(client, app, fresh, r.content)
        assert done["status"] == "done" and done["rows_imported"] == 4, done
        assert await _projection(admin_db, fresh.tenant_id) == original, fmt
