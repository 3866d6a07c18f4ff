"""Test data shared by the integration tests: members with their membership ids, territories,
customers, a complete company profile (Party B of documents) with its pictures, today in the test
tenants' time zone, and direct (admin) database reads to check what a refused request left behind."""

from __future__ import annotations

import io
import secrets
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.helpers import Member, add_member

ZONE = ZoneInfo("Asia/Shanghai")  # the zone tests.helpers.signup gives every tenant


def today() -> date:
    """Today in the test tenants' time zone."""
    return datetime.now(ZONE).date()


async def staff(client: Any, owner: Member, mailbox: Any, app: Any, role: str = "rep") -> Member:
    """``add_member`` plus the new member's membership id."""
    member = await add_member(client, owner, mailbox, app, role=role)
    r = await client.get("/api/v1/members", params={"limit": 200}, headers=owner.headers)
    member.membership_id = next(m["id"] for m in r.json()["items"] if m["user_id"] == member.user_id)
    return member


async def territory(
    client: Any, who: Member, name: str, parent: str | None = None, level: str = "custom"
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/territories", json={"name": name, "level": level, "parent_id": parent}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def assign(client: Any, who: Member, territory_id: str, member: Member, role: str) -> None:
    r = await client.post(
        f"/api/v1/territories/{territory_id}/members",
        json={"membership_id": member.membership_id, "role": role},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text


PROFILE: dict[str, Any] = {
    "legal_name": "华东启航软件有限公司",
    "credit_code": "91310115MA1K4A2B3A",
    "address": "上海市浦东新区张江路 88 号 6 楼",
    "phone": "021-5080 1234",
    "email": "sales@qihang-soft.cn",
    "website": "www.qihang-soft.cn",
    "bank": "招商银行上海张江支行",
    "bank_account": "1219 0866 8810 801",
    "service_hotline": "400-820-1234",
    "response_hours": 4,
    "onsite_day_rate": "800.00",
    "free_upgrade_years": 1,
}


async def company_profile(client: Any, owner: Member, **fields: Any) -> dict[str, Any]:
    """Save a complete company profile (``PROFILE`` with ``fields`` changed) as ``owner``."""
    r = await client.put("/api/v1/company-profile", json={**PROFILE, **fields}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def picture(kind: str = "seal", fmt: str = "PNG", size: int = 300) -> bytes:
    """A small picture: a red ring with a star for a seal, a blue square for a logo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    if kind == "seal":
        draw.ellipse((8, 8, size - 8, size - 8), outline=(210, 20, 20, 255), width=max(size // 25, 2))
        c, r = size / 2, size / 6
        draw.polygon(
            [
                (c, c - r),
                (c + r * 0.3, c - r * 0.1),
                (c + r, c - r * 0.1),
                (c + r * 0.45, c + r * 0.3),
                (c + r * 0.6, c + r),
                (c, c + r * 0.55),
                (c - r * 0.6, c + r),
                (c - r * 0.45, c + r * 0.3),
                (c - r, c - r * 0.1),
                (c - r * 0.3, c - r * 0.1),
            ],
            fill=(210, 20, 20, 255),
        )
    else:
        draw.rectangle((0, 0, size, size), fill=(31, 78, 121, 255))
    out = io.BytesIO()
    (image.convert("RGB") if fmt == "JPEG" else image).save(out, format=fmt)
    return out.getvalue()


def company(prefix: str = "测试") -> str:
    return f"{prefix}{secrets.token_hex(4)}科技有限公司"


async def customer(client: Any, who: Member, territory_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"full_name": company(), "territory_id": territory_id, "grade": "B"}
    body.update(fields)
    r = await client.post("/api/v1/customers", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def db_rows(admin_db: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(admin_db)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def db_value(admin_db: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(admin_db)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()
