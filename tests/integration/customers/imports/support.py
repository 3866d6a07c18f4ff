"""Helpers for the import and export tests: a sales team with a territory tree, realistic Chinese
customer rows, files in every supported encoding, upload and run-to-the-end."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook

from tests.factories import assign, staff, territory
from tests.helpers import Member, run_jobs, signup

HEADER = [
    "客户全称",
    "统一社会信用代码",
    "电话",
    "地址",
    "行业",
    "客户等级",
    "责任区域",
    "名单来源",
    "负责人",
]
_CODE = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def tax_id() -> str:
    """A well-formed (random) unified social credit code."""
    return "91310115" + "".join(secrets.choice(_CODE) for _ in range(10))


def name(prefix: str = "上海") -> str:
    return f"{prefix}{secrets.token_hex(3)}信息技术有限公司"


@dataclass
class Team:
    owner: Member
    rep: Member
    rep2: Member
    manager: Member
    sh: dict[str, Any]  # 华东/上海市, managed by ``manager``
    pd: dict[str, Any]  # 华东/上海市/浦东新区, worked by ``rep``
    js: dict[str, Any]  # 江苏省, worked by ``rep2``


async def team(client: Any, mailbox: Any, app: Any, locale: str = "zh-CN") -> Team:
    owner = await signup(client, locale=locale)
    rep = await staff(client, owner, mailbox, app, role="rep")
    rep2 = await staff(client, owner, mailbox, app, role="rep")
    manager = await staff(client, owner, mailbox, app, role="manager")
    east = await territory(client, owner, "华东")
    sh = await territory(client, owner, "上海市", parent=east["id"], level="province")
    pd = await territory(client, owner, "浦东新区", parent=sh["id"], level="county")
    js = await territory(client, owner, "江苏省", level="province")
    await assign(client, owner, pd["id"], rep, "rep")
    await assign(client, owner, js["id"], rep2, "rep")
    await assign(client, owner, sh["id"], manager, "manager")
    return Team(owner, rep, rep2, manager, sh, pd, js)


def rows(count: int, territory_ref: str = "浦东新区", owner: str = "") -> list[list[str]]:
    grades = "ABCD"
    sources = ["转介绍", "扫街", "来电", "展会"]
    return [
        [name(), tax_id(), f"021-5{i:03d} 88{i % 10}{i % 7}", f"上海市浦东新区张江路{i + 1}号", "制造业",
         grades[i % 4], territory_ref, sources[i % 4], owner]
        for i in range(count)
    ]  # fmt: skip


def csv_file(data: list[list[str]], encoding: str = "utf-8", header: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header or HEADER)
    writer.writerows(data)
    return buffer.getvalue().encode(encoding)


def xlsx_file(data: list[list[Any]], header: list[str] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or HEADER)
    for row in data:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


async def upload(
    client: Any, who: Member, content: bytes, filename: str = "客户名单.csv", **options: str
) -> httpx.Response:
    return await client.post(  # type: ignore[no-any-return]
        "/api/v1/customers/import",
        files={"file": (filename, content, "application/octet-stream")},
        data=options,
        headers=who.headers,
    )


async def imported(client: Any, app: Any, who: Member, content: bytes, **options: str) -> dict[str, Any]:
    """Upload, run the job, and return the finished import (asserts the upload was accepted)."""
    r = await upload(client, who, content, **options)
    assert r.status_code == 202, r.text
    await run_jobs(app)
    r = await client.get(f"/api/v1/customers/imports/{r.json()['id']}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def all_customers(client: Any, who: Member) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/customers", params=params, headers=who.headers)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
