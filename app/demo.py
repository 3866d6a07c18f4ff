"""The demo company seeded by ``acre dev`` on first run: people, its company profile, a territory tree
of provinces and cities, a few hundred customers with realistic Chinese and English names, some in
the pool, and their follow-ups. Written through the real service functions, so it obeys every rule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from app import db
from app.accounts import service as accounts
from app.customers import followups as customer_followups
from app.customers import service as customers
from app.customers.identity import company_name_key
from app.customers.schemas import CustomerCreate, FollowupCreate
from app.settings import get_settings
from app.storage import create_storage
from app.territories import members as territory_members
from app.territories import service as territories
from app.territories.schemas import Level, TerritoryCreate, TerritoryMemberCreate
from tenants.profile import save_profile
from tenants.schemas import CompanyProfileWrite
from tenants.scope import MEMBER_SQL, TenantScope

DEMO_PASSWORD = "Acre-demo-2026"  # noqa: S105 - a published demo login for local development only
DEMO_PEOPLE = [
    ("owner@demo.acre.test", "王建国", "owner"),
    ("manager@demo.acre.test", "李晓梅", "manager"),
    ("rep1@demo.acre.test", "张伟", "rep"),
    ("rep2@demo.acre.test", "Emily Chen", "rep"),
    ("rep3@demo.acre.test", "刘洋", "rep"),
]
# province → cities; the manager runs 广东省 and 浙江省, each rep works some cities.
TREE = {
    "广东省": ["广州市", "深圳市", "佛山市"],
    "浙江省": ["杭州市", "宁波市"],
    "上海市": ["浦东新区", "徐汇区"],
}
REP_CITIES = {2: ["广州市", "佛山市"], 3: ["深圳市", "浦东新区", "徐汇区"], 4: ["杭州市", "宁波市"]}
_BRANDS = [
    "恒通",
    "华信",
    "金桥",
    "新宇",
    "瑞丰",
    "同创",
    "远航",
    "鼎盛",
    "立邦",
    "嘉禾",
    "博远",
    "正泰",
    "天润",
    "宏达",
    "永安",
    "中科",
    "云帆",
    "德信",
    "汇丰",
    "安吉",
]
_TRADES = [
    ("机械制造", "制造业"),
    ("电子科技", "电子"),
    ("商贸", "批发零售"),
    ("物流", "物流"),
    ("食品", "食品饮料"),
    ("医疗器械", "医疗"),
    ("建筑工程", "建筑"),
    ("服装", "纺织服装"),
    ("化工", "化工"),
    ("餐饮管理", "餐饮"),
]
_SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
_EN = [
    "Pearl River Logistics",
    "Golden Bridge Trading",
    "Harbor Light Electronics",
    "Blue Ocean Foods",
    "Silk Road Textiles",
    "Summit Medical Devices",
    "Evergreen Packaging",
    "Jade Mountain Tea",
    "Red Lantern Catering",
    "Northstar Machinery",
    "Bright Future Education",
    "Lotus Cosmetics",
]
_SOFTWARE = ["用友 U8", "金蝶 K/3", "速达", "管家婆", "SAP Business One", "Excel 手工台账"]
_STREETS = ["人民路", "解放大道", "科技园", "中山路"]
_SOURCES = ["event", "telemarketing", "inbound", "cold_visit", "list", "trade_show", "web", "referral"]
_SUMMARIES = [
    "电话沟通财务软件需求，对方关注进销存和报表",
    "上门拜访，见到财务经理，了解现有系统痛点",
    "产品演示，客户对移动审批很感兴趣",
    "发送报价方案，等待客户内部评估",
    "客户表示年底前会启动选型",
]


DEMO_PROFILE = CompanyProfileWrite(
    legal_name="青禾软件（上海）有限公司",
    credit_code="91310115MA1K4A2B3A",
    address="上海市浦东新区张江路 88 号 6 楼",
    phone="021-5080 1234",
    email="sales@qinghe-demo.cn",
    website="www.qinghe-demo.cn",
    bank="招商银行上海张江支行",
    bank_account="1219 0866 8810 801",
    service_hotline="400-820-1234",
    response_hours=4,
    onsite_day_rate=Decimal("800.00"),
    free_upgrade_years=1,
)


def _tax_id(rng: random.Random) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(chars) for _ in range(10))
    )


async def seed_demo(customer_count: int = 300) -> list[tuple[str, str]]:
    """Create the demo company once; returns the logins. Deterministic (seeded random)."""
    settings = get_settings()
    await db.start(settings.database_url, 2)
    try:
        async with db.transaction(None) as tx:
            exists = await tx.fetchval("SELECT id FROM tenants WHERE slug = 'demo'")
        if not exists:
            await _seed(uuid4(), customer_count)
    finally:
        await db.stop()
    return [(email, DEMO_PASSWORD) for email, _, _ in DEMO_PEOPLE]


async def _seed(tenant_id: UUID, customer_count: int) -> None:
    rng = random.Random(2026)
    people: list[tuple[UUID, UUID]] = []  # (user id, membership id)
    async with db.transaction(tenant_id) as tx:
        await tx.execute(
            "INSERT INTO tenants (id, name, slug, locale, time_zone, currency)"
            " VALUES ($1, '青禾软件（演示）', 'demo', 'zh-CN', 'Asia/Shanghai', 'CNY')",
            tenant_id,
        )
        for email, name, role in DEMO_PEOPLE:
            user_id = await accounts.create_user(tx, email, name, DEMO_PASSWORD, None)
            membership = await tx.fetchval(
                "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, $3) RETURNING id",
                tenant_id,
                user_id,
                role,
            )
            people.append((user_id, membership))
        row = await tx.fetchrow(MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2", tenant_id, people[0][1])
    assert row is not None
    owner = TenantScope.for_member(row)
    await save_profile(owner, create_storage(get_settings()), DEMO_PROFILE)
    cities: dict[str, UUID] = {}
    for province, names in TREE.items():
        top = await territories.create_territory(owner, TerritoryCreate(name=province, level="province"))
        if province != "上海市":
            await territory_members.add_territory_member(
                owner, top.id, TerritoryMemberCreate(membership_id=people[1][1], role="manager")
            )
        for city in names:
            level: Level = "city" if city.endswith("市") else "county"
            cities[city] = (
                await territories.create_territory(
                    owner, TerritoryCreate(name=city, level=level, parent_id=top.id)
                )
            ).id
    for index, city_names in REP_CITIES.items():
        for city in city_names:
            await territory_members.add_territory_member(
                owner, cities[city], TerritoryMemberCreate(membership_id=people[index][1], role="rep")
            )
    await _seed_customers(owner, rng, cities, people, customer_count)


async def _seed_customers(
    owner: TenantScope,
    rng: random.Random,
    cities: dict[str, UUID],
    people: list[tuple[UUID, UUID]],
    count: int,
) -> None:
    rep_of = {city: people[i][1] for i, names in REP_CITIES.items() for city in names}
    names: set[str] = set()
    now = datetime.now(UTC)
    while len(names) < count:
        city = rng.choice(list(cities))
        if rng.random() < 0.12:
            name = f"{rng.choice(_EN)} ({city[:2]}) Co., Ltd."
            industry = "外资企业"
        else:
            trade, industry = rng.choice(_TRADES)
            place = city.removesuffix("市").removesuffix("新区").removesuffix("区")
            name = f"{place}{rng.choice(_BRANDS)}{trade}{rng.choice(_SUFFIXES)}"
        if company_name_key(name) in names:  # the duplicate guard would refuse it (撞单)
            continue
        names.add(company_name_key(name))
        owned = rng.random() < 0.7
        customer = await customers.create_customer(
            owner,
            CustomerCreate(
                full_name=name,
                territory_id=cities[city],
                tax_id=_tax_id(rng) if rng.random() < 0.6 else None,
                address=f"{city}{rng.choice(_STREETS)}{rng.randint(1, 999)}号",
                phone=f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                industry=industry,
                headcount=rng.choice([15, 40, 80, 150, 300, 800]),
                it_status="uses_software" if rng.random() < 0.6 else "none",
                current_software=rng.choice(_SOFTWARE),
                source=rng.choice(_SOURCES),  # type: ignore[arg-type]
                grade=rng.choice("AABBBCCCDD"),  # type: ignore[arg-type]
                owner_membership_id=rep_of[city] if owned else None,
            ),
        )
        for _ in range(rng.randint(0, 3)):
            await customer_followups.create_followup(
                owner,
                customer.id,
                FollowupCreate(
                    kind=rng.choice(["call", "visit", "meeting", "demo"]),
                    summary=rng.choice(_SUMMARIES),
                    happened_at=now - timedelta(days=rng.randint(1, 80), hours=rng.randint(0, 8)),
                    next_followup_at=now + timedelta(days=rng.randint(1, 30)),
                ),
            )
