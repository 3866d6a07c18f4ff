"""Importing customers from CSV (UTF-8, UTF-8 with BOM, GBK, GB18030) and XLSX: progress, the row
report, duplicates in the file and against the database, both modes, ownership history, reruns."""

from __future__ import annotations

import asyncio
import codecs
import secrets

import asyncpg
import httpx
import pytest

from app.customers.imports.job import run_customer_import
from tests.factories import customer, db_rows, db_value
from tests.helpers import connect, run_jobs, signup
from tests.integration.customers.imports.support import (
    HEADER,
    csv_file,
    imported,
    name,
    rows,
    tax_id,
    team,
    upload,
    xlsx_file,
)


def _encoded(kind: str, data: list[list[str]]) -> bytes:
    if kind == "xlsx":
        return xlsx_file(data)
    if kind == "utf-8-bom":
        return codecs.BOM_UTF8 + csv_file(data)
    return csv_file(data, encoding=kind)


@pytest.mark.parametrize("kind", ["utf-8", "utf-8-bom", "gbk", "gb18030", "xlsx"])
async def test_a_rep_imports_chinese_rows_in_every_encoding(client, mailbox, app, admin_db, kind):
    t = await team(client, mailbox, app)
    data = rows(4)
    data[1][7] = "转介绍"
    data[2][8] = "公海"  # explicitly into the pool
    r = await upload(
        client, t.rep, _encoded(kind, data), filename=f"名单.{'xlsx' if kind == 'xlsx' else 'csv'}"
    )
    assert r.status_code == 202, r.text
    queued = r.json()
    assert (queued["status"], queued["rows_done"], queued["rows_total"]) == ("queued", 0, None)
    assert queued["format"] == ("xlsx" if kind == "xlsx" else "csv")

    await run_jobs(app)
    done = (await client.get(f"/api/v1/customers/imports/{queued['id']}", headers=t.rep.headers)).json()
    assert done["status"] == "done", done
    assert (done["rows_total"], done["rows_done"], done["rows_imported"], done["rows_rejected"]) == (
        4,
        4,
        4,
        0,
    )
    assert done["errors"] == [] and done["report_url"] is None and done["error"] is None

    found = await db_rows(
        admin_db,
        "SELECT c.full_name, c.tax_id, c.phone, c.address, c.industry, c.grade, c.source, c.territory_id,"
        " c.owner_membership_id, c.created_by FROM customers c WHERE c.tenant = $1 ORDER BY c.full_name",
        t.owner.tenant_id,
    )
    by_name = {row["full_name"]: row for row in found}
    assert set(by_name) == {d[0] for d in data}
    for i, d in enumerate(data):
        row = by_name[d[0]]
        assert (row["tax_id"], row["phone"], row["address"], row["industry"], row["grade"]) == tuple(d[1:6])
        assert str(row["territory_id"]) == t.pd["id"] and str(row["created_by"]) == t.rep.membership_id
        assert str(row["owner_membership_id"]) == (t.rep.membership_id if i != 2 else "None")
    assert by_name[data[1][0]]["source"] == "referral" and by_name[data[0][0]]["source"] == "referral"
    assert by_name[data[3][0]]["source"] == "trade_show"

    # ownership history: one "import" entry per owned row, none for the pool row; grade history too
    history = await db_rows(
        admin_db,
        "SELECT customer_id, from_membership_id, to_membership_id, actor FROM customer_ownership_history"
        " WHERE tenant = $1 AND cause = 'import'",
        t.owner.tenant_id,
    )
    assert len(history) == 3
    assert {str(h["to_membership_id"]) for h in history} == {t.rep.membership_id}
    assert all(h["from_membership_id"] is None and str(h["actor"]) == t.rep.membership_id for h in history)
    grades = await db_value(
        admin_db,
        "SELECT count(*) FROM customer_grade_changes WHERE tenant = $1 AND reason = 'imported'",
        t.owner.tenant_id,
    )
    assert grades == 4
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM customer_import_rows WHERE import_id = $1", queued["id"]
        )
        == 0
    )  # imported rows are not kept


async def test_valid_rows_mode_imports_the_good_rows_and_reports_each_bad_one(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    data = rows(6)
    data[1][5] = "E"  # row 3: unknown grade
    data[2][6] = "火星"  # row 4: unknown territory
    data[3][7] = "飞鸽传书"  # row 5: unknown source
    data[4][0] = "长" * 10_000  # row 6: a 10,000-character name
    data[5][1] = "123"  # row 7: not a credit code
    done = await imported(client, app, t.rep, csv_file(data), mode="valid_rows")
    assert done["status"] == "done"
    assert (done["rows_total"], done["rows_imported"], done["rows_rejected"], done["rows_done"]) == (
        6,
        1,
        5,
        6,
    )
    report = {(e["row"], e["column"]): e["message"] for e in done["errors"]}
    assert report == {
        (3, "客户等级"): "未知的客户等级 E，请使用 A、B、C 或 D",
        (4, "责任区域"): "没有区域 火星",
        (5, "名单来源"): "未知的名单来源 飞鸽传书",
        (6, "客户全称"): "最多使用 200 个字符",
        (7, "统一社会信用代码"): "统一社会信用代码为 18 位数字和大写字母",
    }
    assert {e["field"] for e in done["errors"]} == {"grade", "territory", "source", "full_name", "tax_id"}
    names = await db_rows(admin_db, "SELECT full_name FROM customers WHERE tenant = $1", t.owner.tenant_id)
    assert [n["full_name"] for n in names] == [data[0][0]]

    # the report pages, and the whole report as a CSV download (UTF-8 with BOM, Chinese)
    page = (
        await client.get(
            f"/api/v1/customers/imports/{done['id']}/errors", params={"limit": 2}, headers=t.rep.headers
        )
    ).json()
    assert [e["row"] for e in page["items"]] == [3, 4] and page["next_cursor"]
    rest = (
        await client.get(
            f"/api/v1/customers/imports/{done['id']}/errors",
            params={"limit": 10, "cursor": page["next_cursor"]},
            headers=t.rep.headers,
        )
    ).json()
    assert [e["row"] for e in rest["items"]] == [5, 6, 7] and rest["next_cursor"] is None
    async with httpx.AsyncClient() as http:
        downloaded = await http.get(done["report_url"])
    assert downloaded.status_code == 200 and downloaded.content.startswith(codecs.BOM_UTF8)
    text = downloaded.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "行,列,问题" and "3,客户等级,未知的客户等级 E" in text


async def test_all_or_nothing_writes_nothing_when_one_row_is_bad(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app, locale="en")
    before = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", t.owner.tenant_id)
    data = rows(300)
    data[250][5] = "Z"
    done = await imported(client, app, t.owner, xlsx_file(data))
    assert done["status"] == "failed"
    assert done["error"] == "1 rows have errors; nothing was imported"
    assert (done["rows_imported"], done["rows_rejected"], done["rows_total"]) == (0, 1, 300)
    assert [(e["row"], e["field"], e["message"]) for e in done["errors"]] == [
        (252, "grade", "Unknown grade Z: use A, B, C or D")
    ]
    assert done["report_url"]
    after = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", t.owner.tenant_id)
    assert after == before == 0
    for table in ("customer_ownership_history", "customer_grade_changes"):
        assert (
            await db_value(admin_db, f"SELECT count(*) FROM {table} WHERE tenant = $1", t.owner.tenant_id)
            == 0
        )


async def _notifications(client, who, kind):
    r = await client.get("/api/v1/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == kind]


async def test_duplicates_in_the_file_and_in_the_database_are_reported(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    taken = await customer(client, t.rep2, t.js["id"], full_name="南京紫金山软件有限公司", tax_id=tax_id())
    pooled = await customer(
        client, t.owner, t.pd["id"], full_name="上海浦江数据有限公司", owner_membership_id=None
    )
    data = rows(3)
    data += [
        [data[0][0], "", "021-1", "", "", "B", "浦东新区", "", ""],  # row 5: same name as row 2
        [name(), data[1][1].lower(), "", "", "", "B", "浦东新区", "", ""],  # row 6: same tax id as row 3
        ["南京紫金山软件（有限公司）", taken["tax_id"], "", "", "", "A", "浦东新区", "", ""],  # row 7: rep2's
        ["上海浦江数据有限责任公司", "", "", "", "", "C", "浦东新区", "", ""],  # row 8: in the pool
    ]
    done = await imported(client, app, t.rep, csv_file(data), mode="valid_rows")
    assert (done["rows_imported"], done["rows_rejected"]) == (3, 4)
    messages = {e["row"]: e["message"] for e in done["errors"]}
    assert messages == {
        5: "与第 2 行是同一家公司",
        6: "与第 3 行是同一家公司",
        7: "该公司已是 江苏省 的 新成员 的客户",
        8: "该公司已是客户，位于 浦东新区 的公海",
    }
    # the company owned by another rep leaves a conflict item for its territory's managers
    conflicts = await db_rows(
        admin_db,
        "SELECT customer_id, attempted_by, attempted_data->>'row' AS row FROM customer_conflicts"
        " WHERE tenant = $1",
        t.owner.tenant_id,
    )
    assert [(str(c["customer_id"]), str(c["attempted_by"]), c["row"]) for c in conflicts] == [
        (taken["id"], t.rep.membership_id, "7")
    ]
    # ... and tells them at once, once per import: 江苏省 has no manager, so the owner
    told = await _notifications(client, t.owner, "customer_conflicts_imported")
    assert [(n["subject_id"], n["params"]["count"]) for n in told] == [(done["id"], 1)]
    assert "1 家公司已是其他成员的客户" in told[0]["message"]
    assert await _notifications(client, t.manager, "customer_conflicts_imported") == []
    assert pooled["id"]
    total = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", t.owner.tenant_id)
    assert total == 2 + 3


async def test_permissions_follow_the_importer(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    rep_rows = [
        [name(), "", "", "", "", "A", "浦东新区", "", ""],  # own territory: fine
        [name(), "", "", "", "", "A", "江苏省", "", ""],  # not the rep's territory
        [name(), "", "", "", "", "A", "浦东新区", "", t.rep2.email],  # a rep cannot give customers away
    ]
    done = await imported(client, app, t.rep, csv_file(rep_rows), mode="valid_rows")
    assert {(e["row"], e["field"]) for e in done["errors"]} == {(3, "territory"), (4, "owner")}
    assert done["rows_imported"] == 1

    manager_rows = [
        [name(), "", "", "", "", "B", "华东/上海市/浦东新区", "", t.rep.email],  # in the managed subtree
        [name(), "", "", "", "", "B", "上海市", "", "公海"],
        [name(), "", "", "", "", "B", "江苏省", "", t.rep2.email],  # outside it
        [name(), "", "", "", "", "B", "浦东新区", "", "nobody@example.com"],
    ]
    done = await imported(client, app, t.manager, csv_file(manager_rows), mode="valid_rows")
    assert {(e["row"], e["field"]) for e in done["errors"]} == {(4, "territory"), (5, "owner")}
    owners = await db_rows(
        admin_db,
        "SELECT full_name, owner_membership_id FROM customers WHERE tenant = $1 AND full_name = ANY($2)",
        t.owner.tenant_id,
        [manager_rows[0][0], manager_rows[1][0]],
    )
    assert {r["full_name"]: str(r["owner_membership_id"]) for r in owners} == {
        manager_rows[0][0]: t.rep.membership_id,
        manager_rows[1][0]: "None",
    }

    admin_rows = [[name(), "", "", "", "", "C", "江苏省", "", t.rep2.email]]
    done = await imported(client, app, t.owner, csv_file(admin_rows), default_owner="pool")
    assert done["status"] == "done" and done["rows_imported"] == 1


async def test_default_territory_and_owner_options(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    header = ["公司名称", "税号", "客户等级"]
    data = [[name(), tax_id(), "a类"], [name(), "", "B级"]]
    done = await imported(
        client,
        app,
        t.rep,
        csv_file(data, header=header),
        default_owner="pool",
        default_territory_id=t.pd["id"],
    )
    assert done["status"] == "done" and done["rows_imported"] == 2, done
    found = await db_rows(
        admin_db,
        "SELECT grade, territory_id, owner_membership_id FROM customers WHERE tenant = $1 ORDER BY grade",
        t.owner.tenant_id,
    )
    assert [(r["grade"], str(r["territory_id"]), r["owner_membership_id"]) for r in found] == [
        ("A", t.pd["id"], None), ("B", t.pd["id"], None)
    ]  # fmt: skip
    # without a territory column nor a default, every row says so
    done = await imported(client, app, t.rep, csv_file([[name(), "", "A"]], header=header), mode="valid_rows")
    assert [(e["row"], e["column"]) for e in done["errors"]] == [(2, "责任区域")]
    r = await upload(client, t.rep, csv_file(data, header=header), default_territory_id=t.js["id"])
    assert r.status_code == 403


async def test_a_job_run_twice_or_concurrently_imports_once(client, mailbox, app, admin_db):
    t = await team(client, mailbox, app)
    data = rows(12_000, owner=t.rep.email)  # more than two batches
    r = await upload(client, t.owner, csv_file(data), mode="valid_rows")
    assert r.status_code == 202, r.text
    import_id = r.json()["id"]
    results = await asyncio.gather(
        run_customer_import({}, t.owner.tenant_id, import_id),
        run_customer_import({}, t.owner.tenant_id, import_id),
    )
    assert "done" in results and set(results) <= {"done", "busy"}
    assert await run_customer_import({}, t.owner.tenant_id, import_id) == "done"
    await run_jobs(app)  # the queued job too
    count = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", t.owner.tenant_id)
    entries = await db_value(
        admin_db, "SELECT count(*) FROM customer_ownership_history WHERE tenant = $1", t.owner.tenant_id
    )
    assert count == entries == 12_000
    done = (await client.get(f"/api/v1/customers/imports/{import_id}", headers=t.owner.headers)).json()
    assert (done["status"], done["rows_done"], done["rows_imported"]) == ("done", 12_000, 12_000)


async def test_imports_are_private_to_their_tenant_and_importer(client, mailbox, app):
    t = await team(client, mailbox, app)
    done = await imported(client, app, t.rep, csv_file(rows(1)))
    path = f"/api/v1/customers/imports/{done['id']}"
    stranger = await signup(client)
    for who, status in ((stranger, 404), (t.rep2, 404), (t.owner, 200), (t.rep, 200)):
        assert (await client.get(path, headers=who.headers)).status_code == status
        assert (await client.get(path + "/errors", headers=who.headers)).status_code == status
    assert (await client.get(path)).status_code == 401
    assert HEADER[0] == "客户全称"


@pytest.mark.parametrize("mode", ["valid_rows", "all_or_nothing"])
async def test_a_run_that_dies_while_importing_is_resumed_by_the_next(client, mailbox, app, admin_db, mode):
    t = await team(client, mailbox, app)
    data = rows(7000, owner=t.rep.email)
    if mode == "valid_rows":
        data[10][5] = "E"  # one bad row, rejected
    r = await upload(client, t.owner, csv_file(data), mode=mode)
    import_id = r.json()["id"]
    # the worker "dies" on the 6,000th row: in the second batch
    suffix = secrets.token_hex(4)
    crash = [
        f"CREATE FUNCTION crash_{suffix}() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$",
        f"CREATE TRIGGER crash_{suffix} BEFORE INSERT ON customers FOR EACH ROW"
        f" WHEN (NEW.full_name = '{data[6000][0]}') EXECUTE FUNCTION crash_{suffix}()",
    ]
    async with connect(admin_db) as conn:
        for statement in crash:
            await conn.execute(statement)
    try:
        with pytest.raises(asyncpg.RaiseError, match="simulated crash"):
            await run_customer_import({}, t.owner.tenant_id, import_id)
    finally:
        async with connect(admin_db) as conn:
            await conn.execute(f"DROP TRIGGER crash_{suffix} ON customers; DROP FUNCTION crash_{suffix}()")
    half = (await client.get(f"/api/v1/customers/imports/{import_id}", headers=t.owner.headers)).json()
    count = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", t.owner.tenant_id)
    if mode == "valid_rows":  # the first batch is in, with its progress
        assert (half["status"], half["rows_total"], half["rows_rejected"]) == ("importing", 7000, 1)
        assert count == half["rows_imported"] == 5000 and half["rows_done"] == 5001
    else:  # nothing at all
        assert half["status"] == "importing" and count == 0
    assert await run_customer_import({}, t.owner.tenant_id, import_id) == "done"
    await run_jobs(app)
    done = (await client.get(f"/api/v1/customers/imports/{import_id}", headers=t.owner.headers)).json()
    expected = 6999 if mode == "valid_rows" else 7000
    assert (done["status"], done["rows_imported"], done["rows_done"]) == ("done", expected, 7000)
    count = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", t.owner.tenant_id)
    ledger = await db_rows(
        admin_db,
        "SELECT customer_id, count(*) AS n FROM customer_ownership_history WHERE tenant = $1 GROUP BY 1",
        t.owner.tenant_id,
    )
    assert count == len(ledger) == expected and {r["n"] for r in ledger} == {1}
