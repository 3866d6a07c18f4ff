"""Sample data of every document kind: realistic Chinese companies and people, 30 product lines
for contracts and quotes. Used for previews, tests and the benchmark (via ``kinds.sample``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Data = dict[str, Any]
TITLES: dict[str, dict[str, str]] = {
    "contract": {"zh-CN": "软件销售合同", "en": "Software Sales Contract"},
    "proposal_requirements": {"zh-CN": "需求方案", "en": "Requirements Proposal"},
    "proposal_product": {"zh-CN": "产品方案", "en": "Product Proposal"},
    "proposal_pricing": {"zh-CN": "报价方案", "en": "Pricing Proposal"},
    "quote": {"zh-CN": "报价单", "en": "Quotation"},
    "handover": {"zh-CN": "客户移交表", "en": "Customer Handover Sheet"},
}


def _t(locale: str, zh: str, en: str) -> str:
    return zh if locale == "zh-CN" else en


def money(amount: Decimal, currency: str = "CNY") -> str:
    """``¥12,800.00`` style; the currency symbol for CNY, else the ISO code."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    prefix = "¥" if currency == "CNY" else f"{currency} "
    return f"{prefix}{value:,.2f}"


# --- shared blocks ------------------------------------------------------------------------------


def _company(locale: str) -> Data:
    return {
        "name": _t(locale, "上海启明软件科技有限公司", "Shanghai Qiming Software Technology Co., Ltd."),
        "address": _t(locale, "上海市浦东新区张江路 88 号 6 楼", "6F, 88 Zhangjiang Road, Pudong, Shanghai"),
        "phone": "021-5080 1234",
        "email": "sales@qiming-soft.cn",
        "website": "www.qiming-soft.cn",
        "tax_id": "91310115MA1K4A2B3C",
        "bank": _t(locale, "招商银行上海张江支行", "China Merchants Bank, Shanghai Zhangjiang Branch"),
        "account": "1219 0866 8810 801",
    }


def _customer(locale: str) -> Data:
    return {
        "full_name": _t(locale, "苏州恒泰精密机械有限公司", "Suzhou Hengtai Precision Machinery Co., Ltd."),
        "short_name": _t(locale, "恒泰精密", "Hengtai"),
        "address": _t(locale, "江苏省苏州市工业园区星湖街 218 号", "218 Xinghu Street, SIP, Suzhou, Jiangsu"),
        "contact": _t(locale, "张建国", "Zhang Jianguo"),
        "phone": "0512-6288 3456",
        "tax_id": "91320594MA1NB7X92P",
        "industry": _t(locale, "机械制造", "Machinery manufacturing"),
        "bank": _t(locale, "中国工商银行苏州园区支行", "ICBC Suzhou Industrial Park Branch"),
        "account": "1102 0201 0900 1234 567",
    }


def _author(locale: str) -> Data:
    return {
        "name": _t(locale, "李晓明", "Li Xiaoming"),
        "title": _t(locale, "高级销售顾问", "Senior Sales Consultant"),
        "phone": "138 1701 2468",
        "email": "li.xiaoming@qiming-soft.cn",
    }


_PRODUCTS = [  # (zh, en, unit price, unit zh, unit en)
    ("财务核算", "General Ledger", "6800", "站点", "seat"),
    ("应收应付管理", "Receivables & Payables", "4800", "站点", "seat"),
    ("固定资产管理", "Fixed Assets", "3200", "站点", "seat"),
    ("供应链-采购管理", "Supply Chain - Purchasing", "5600", "站点", "seat"),
    ("供应链-销售管理", "Supply Chain - Sales", "5600", "站点", "seat"),
    ("库存管理", "Inventory", "4200", "站点", "seat"),
    ("生产制造-MRP", "Manufacturing - MRP", "9800", "站点", "seat"),
    ("车间管理", "Shop Floor Control", "7600", "站点", "seat"),
    ("人力资源-薪资", "HR - Payroll", "3600", "站点", "seat"),
    ("CRM 客户关系管理", "CRM", "4500", "用户", "user"),
]
_EDITIONS = [("标准版", "Standard"), ("专业版", "Professional"), ("企业版", "Enterprise")]


def _lines(locale: str, count: int = 30) -> tuple[list[Data], Decimal]:
    lines: list[Data] = []
    total = Decimal(0)
    for i in range(count):
        zh, en, price, unit_zh, unit_en = _PRODUCTS[i % len(_PRODUCTS)]
        edition = _EDITIONS[(i // len(_PRODUCTS)) % len(_EDITIONS)]
        seats = 1 + (i * 7) % 12
        unit_price = Decimal(price) * (1 + Decimal(i // len(_PRODUCTS)) / 4)
        amount = unit_price * seats
        total += amount
        lines.append(
            {
                "no": str(i + 1),
                "product": _t(locale, zh, en),
                "edition": _t(locale, *edition),
                "quantity": str(seats),
                "unit": _t(locale, unit_zh, unit_en),
                "unit_price": money(unit_price),
                "years": "1",
                "amount": money(amount),
            }
        )
    return lines, total


def _totals(locale: str, subtotal: Decimal) -> Data:
    discount = (subtotal * Decimal("0.08")).quantize(Decimal("0.01"))
    total = subtotal - discount
    return {
        "subtotal": money(subtotal),
        "discount": money(discount),
        "total": money(total),
        "total_in_words": _t(locale, "人民币（大写）见金额栏", "see the amount column"),
        "currency": "CNY",
        "tax_note": _t(locale, "以上价格含 13% 增值税", "Prices include 13% VAT"),
    }


def _milestones(locale: str, total: Decimal) -> list[Data]:
    """The handbook's default for contracts above 10,000: 20% at signing, 70% after delivery and
    installation, the balance after two weeks of stable running."""
    plan = [
        (
            "20%",
            Decimal("0.2"),
            "合同签订后 5 个工作日内",
            "Within 5 working days of signing",
            "签约定金",
            "Deposit at signing",
        ),
        (
            "70%",
            Decimal("0.7"),
            "软件交付并安装完成后 10 个工作日内",
            "Within 10 working days of installation",
            "交付安装款",
            "Delivery and installation",
        ),
        (
            "10%",
            Decimal("0.1"),
            "系统稳定运行两周后 10 个工作日内",
            "Within 10 working days after two weeks of stable running",
            "验收尾款",
            "Balance after acceptance",
        ),
    ]
    return [
        {
            "no": str(i + 1),
            "name": _t(locale, zh_name, en_name),
            "percent": pct,
            "amount": money(total * share),
            "due": _t(locale, zh_due, en_due),
        }
        for i, (pct, share, zh_due, en_due, zh_name, en_name) in enumerate(plan)
    ]


def _revisions(locale: str) -> list[Data]:
    return [
        {
            "version": "V1.0",
            "date": "2026-11-02",
            "author": _t(locale, "李晓明", "Li Xiaoming"),
            "note": _t(locale, "初稿", "First draft"),
        },
        {
            "version": "V1.1",
            "date": "2026-11-20",
            "author": _t(locale, "王芳", "Wang Fang"),
            "note": _t(locale, "根据客户反馈修订", "Revised after the customer's feedback"),
        },
    ]


def _proposal(locale: str, kind: str) -> Data:
    return {
        "company": _company(locale),
        "customer": _customer(locale),
        "author": _author(locale),
        "proposal": {
            "type": TITLES[kind][locale],
            "title": _t(locale, "恒泰精密 ERP 信息化建设", "Hengtai ERP implementation"),
            "number": "QM-P-2026-1120",
            "version": "V1.1",
            "date": "2026-11-20",
        },
        "revisions": _revisions(locale),
        "contact": {**_author(locale), "address": _company(locale)["address"]},
    }


# --- the kinds' samples ---------------------------------------------------------------------------


def contract(locale: str) -> Data:
    lines, subtotal = _lines(locale)
    totals = _totals(locale, subtotal)
    company = _company(locale)
    return {
        "company": company,
        "contract": {
            "number": "QM-C-2026-0318",
            "date": "2026-11-23",
            "place": _t(locale, "上海市浦东新区", "Pudong, Shanghai"),
            "currency": "CNY",
        },
        "party_a": _customer(locale),
        "party_b": {**company, "full_name": company["name"], "contact": _t(locale, "李晓明", "Li Xiaoming")},
        "lines": lines,
        "totals": totals,
        "milestones": _milestones(locale, subtotal - (subtotal * Decimal("0.08")).quantize(Decimal("0.01"))),
        "maintenance": {
            "free_upgrade_years": "1",
            "onsite_fee": money(Decimal(800)) + _t(locale, " / 人·天", " per engineer-day"),
            "hotline": "400-820-1234",
            "response_hours": "4",
        },
    }


def quote(locale: str) -> Data:
    lines, subtotal = _lines(locale)
    return {
        "company": _company(locale),
        "customer": _customer(locale),
        "author": _author(locale),
        "quote": {
            "number": "QM-Q-2026-0877",
            "date": "2026-11-23",
            "valid_until": "2026-12-23",
            "round": _t(locale, "第 2 轮", "Round 2"),
            "currency": "CNY",
        },
        "lines": lines,
        "totals": _totals(locale, subtotal),
        "terms": _t(
            locale,
            "含一年免费同版本升级；上门服务另行收费。",
            "Includes one year of free same-version upgrades; on-site service is charged.",
        ),
    }


def requirements(locale: str) -> Data:
    data = _proposal(locale, "proposal_requirements")
    data["background"] = _t(
        locale,
        "恒泰精密现有 300 名员工，财务与库存分别使用两套软件，月结需要 7 天，库存准确率约 92%。",
        "Hengtai has 300 staff; finance and inventory run on two separate packages, the month-end "
        "close takes 7 days and inventory accuracy is about 92%.",
    )
    areas = [
        ("财务", "Finance", "月结缩短到 3 天以内", "Close the month within 3 days"),
        ("采购", "Purchasing", "采购申请到订单全程线上审批", "Online approval from requisition to order"),
        ("库存", "Inventory", "条码出入库，准确率 99% 以上", "Barcode stock moves, accuracy above 99%"),
        ("生产", "Production", "MRP 运算生成采购与生产建议", "MRP runs suggest purchases and jobs"),
        ("报表", "Reporting", "管理层移动端查看经营日报", "Daily management report on mobile"),
    ]
    data["requirements"] = [
        {
            "no": str(i + 1),
            "area": _t(locale, zh, en),
            "need": _t(locale, nzh, nen),
            "priority": _t(locale, "高", "High") if i < 3 else _t(locale, "中", "Medium"),
        }
        for i, (zh, en, nzh, nen) in enumerate(areas)
    ]
    data["scope"] = _t(
        locale,
        "总部及苏州、无锡两个工厂，约 45 个用户。",
        "Head office and the Suzhou and Wuxi plants, about 45 users.",
    )
    return data


def product(locale: str) -> Data:
    data = _proposal(locale, "proposal_product")
    data["modules"] = [
        {
            "no": str(i + 1),
            "name": _t(locale, zh, en),
            "description": _t(
                locale, f"{zh}模块，支持多组织、多币种。", f"{en}, multi-company and multi-currency."
            ),
        }
        for i, (zh, en, *_rest) in enumerate(_PRODUCTS[:8])
    ]
    data["services"] = _t(
        locale,
        "实施、培训、数据迁移与一年免费同版本升级。",
        "Implementation, training, data migration and one year of free same-version upgrades.",
    )
    return data


def pricing(locale: str) -> Data:
    data = _proposal(locale, "proposal_pricing")
    lines, subtotal = _lines(locale, 10)
    data["lines"] = lines
    data["totals"] = _totals(locale, subtotal)
    data["validity"] = _t(locale, "本报价自出具之日起 30 天内有效。", "This pricing is valid for 30 days.")
    data["payment_terms"] = _t(
        locale,
        "签约付 20%，安装完成付 70%，稳定运行两周后付 10%。",
        "20% at signing, 70% after installation, 10% after two weeks of stable running.",
    )
    return data


def handover(locale: str) -> Data:
    names = [
        "苏州恒泰精密机械有限公司",
        "无锡华立电子科技有限公司",
        "常州新东方纺织有限公司",
        "南通远洋船舶配件有限公司",
        "昆山瑞丰塑胶制品有限公司",
        "杭州云帆物流有限公司",
    ]
    names_en = [
        "Suzhou Hengtai Precision Machinery Co., Ltd.",
        "Wuxi Huali Electronics Co., Ltd.",
        "Changzhou Xindongfang Textile Co., Ltd.",
        "Nantong Yuanyang Marine Parts Co., Ltd.",
        "Kunshan Ruifeng Plastics Co., Ltd.",
        "Hangzhou Yunfan Logistics Co., Ltd.",
    ]
    steps = [
        ("下周安排产品演示", "Product demo next week"),
        ("跟进报价审批", "Follow up the quote approval"),
        ("回访确认需求", "Call back to confirm needs"),
    ]
    customers = [
        {
            "no": str(i + 1),
            "full_name": _t(locale, zh, en),
            "grade": "ABCD"[i % 4],
            "last_followup": f"2026-11-{10 + i:02d}",
            "open_deals": str(i % 3),
            "next_steps": _t(locale, *steps[i % 3]),
            "to": _t(locale, "赵磊", "Zhao Lei") if i % 2 else _t(locale, "陈静", "Chen Jing"),
        }
        for i, (zh, en) in enumerate(zip(names, names_en, strict=True))
    ]
    return {
        "company": _company(locale),
        "handover": {
            "number": "QM-H-2026-0042",
            "date": "2026-11-23",
            "from_rep": _t(locale, "孙伟", "Sun Wei"),
            "manager": _t(locale, "周敏", "Zhou Min"),
            "reason": _t(locale, "业务员调岗至南京区域", "The rep moves to the Nanjing territory"),
            "territory": _t(locale, "江苏-苏州", "Jiangsu - Suzhou"),
        },
        "customers": customers,
        "summary": {
            "customers": str(len(customers)),
            "open_deals": str(sum(int(c["open_deals"]) for c in customers)),
        },
    }
