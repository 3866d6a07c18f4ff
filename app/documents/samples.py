"""Sample data of every document kind: realistic Chinese companies and people, 30 product lines
for contracts and quotes. Used for previews, tests and the benchmark (via ``kinds.sample``).

Also the formatting every provider shares: ``money`` and ``amount_in_words`` (人民币大写 in zh-CN)."""

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
    "acceptance": {"zh-CN": "安装验收单", "en": "Installation Acceptance Note"},
}


def _t(locale: str, zh: str, en: str) -> str:
    return zh if locale == "zh-CN" else en


def money(amount: Decimal, currency: str = "CNY") -> str:
    """``¥12,800.00`` style; the currency symbol for CNY, else the ISO code."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    prefix = "¥" if currency == "CNY" else f"{currency} "
    return f"{prefix}{value:,.2f}"


_DIGITS_ZH = "零壹贰叁肆伍陆柒捌玖"
_SMALL_ZH = ("", "拾", "佰", "仟")
_GROUPS_ZH = ("", "万", "亿", "万亿")
_ONES_EN = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS_EN = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_GROUPS_EN = ("", " thousand", " million", " billion", " trillion")
_CURRENCY_ZH = {"CNY": "人民币", "USD": "美元", "EUR": "欧元", "HKD": "港币"}


def _zh_integer(n: int) -> str:
    """Financial (大写) numerals of ``n`` ≥ 0: 壹佰万零壹佰 style, a run of zeros written as one 零
    between digits, 万/亿 after each non-zero group of four."""
    if n == 0:
        return "零"
    digits = str(n)
    out = ""
    zero = False
    for index, char in enumerate(digits):
        place = len(digits) - 1 - index
        digit = int(char)
        if digit == 0:
            zero = zero or bool(out)
        else:
            out += ("零" if zero else "") + _DIGITS_ZH[digit] + _SMALL_ZH[place % 4]
            zero = False
        group_end = place % 4 == 0
        if group_end and place and int(digits[max(index - 3, 0) : index + 1]):
            out += _GROUPS_ZH[place // 4]
    return out


def _en_below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES_EN[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS_EN[tens - 2] + (f"-{_ONES_EN[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES_EN[rest])
    return " ".join(words)


def _en_integer(n: int) -> str:
    if n == 0:
        return "zero"
    parts = []
    index = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            parts.append(_en_below_thousand(group) + _GROUPS_EN[index])
        index += 1
    return " ".join(reversed(parts))


def amount_in_words(amount: Decimal, currency: str, locale: str) -> str:
    """The amount written out: ``人民币壹拾贰万肆仟捌佰伍拾贰元整`` (zh-CN, 元角分) or ``CNY one hundred
    twenty-four thousand eight hundred fifty-two and 00/100`` (en). Negative amounts get 负 / minus."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = value < 0
    cents = int(abs(value) * 100)
    whole, fraction = divmod(cents, 100)
    if locale == "zh-CN":
        jiao, fen = divmod(fraction, 10)
        text = _CURRENCY_ZH.get(currency, currency) + ("负" if sign else "")
        text += _zh_integer(whole) + "元" if whole or not fraction else ""
        if not fraction:
            return text + "整"
        if jiao:
            text += _DIGITS_ZH[jiao] + "角"
        elif whole:
            text += "零"
        return text + (_DIGITS_ZH[fen] + "分" if fen else "整")
    return f"{currency} {'minus ' if sign else ''}{_en_integer(whole)} and {fraction:02d}/100"


# --- shared blocks ------------------------------------------------------------------------------


def _company(locale: str) -> Data:
    return {
        "name": _t(locale, "上海启明软件科技有限公司", "Shanghai Qiming Software Technology Co., Ltd."),
        "address": _t(locale, "上海市浦东新区张江路 88 号 6 楼", "6F, 88 Zhangjiang Road, Pudong, Shanghai"),
        "phone": "021-5080 1234",
        "email": "sales@qiming-soft.cn",
        "website": "www.qiming-soft.cn",
        "tax_id": "91310115MA1K4A2B3A",
        "bank": _t(locale, "招商银行上海张江支行", "China Merchants Bank, Shanghai Zhangjiang Branch"),
        "account": "1219 0866 8810 801",
    }


def _party_b(locale: str) -> Data:
    """The dealer (乙方) from its company profile; ``contact`` is the member generating the document,
    ``logo`` and ``seal`` the images' sha256 (empty: none; rendered as pictures)."""
    company = _company(locale)
    return {
        **company,
        "full_name": company["name"],
        "contact": _t(locale, "李晓明", "Li Xiaoming"),
        "hotline": "400-820-1234",
        "response_hours": "4",
        "logo": "",
        "seal": "",
    }


def _customer(locale: str) -> Data:
    return {
        "full_name": _t(locale, "苏州恒泰精密机械有限公司", "Suzhou Hengtai Precision Machinery Co., Ltd."),
        "short_name": _t(locale, "恒泰精密", "Hengtai"),
        "address": _t(locale, "江苏省苏州市工业园区星湖街 218 号", "218 Xinghu Street, SIP, Suzhou, Jiangsu"),
        "contact": _t(locale, "张建国", "Zhang Jianguo"),
        "phone": "0512-6288 3456",
        "tax_id": "91320594MA1NB7X92W",
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


def _lines(locale: str, count: int = 30) -> tuple[list[Data], Decimal, Decimal]:
    """``count`` lines at 12% under list; returns them, the list price total and the net total."""
    lines: list[Data] = []
    list_total = net_total = Decimal(0)
    for i in range(count):
        zh, en, price, unit_zh, unit_en = _PRODUCTS[i % len(_PRODUCTS)]
        edition = _EDITIONS[(i // len(_PRODUCTS)) % len(_EDITIONS)]
        seats = 1 + (i * 7) % 12
        list_price = Decimal(price) * (1 + Decimal(i // len(_PRODUCTS)) / 4)
        unit_price = (list_price * Decimal("0.88")).quantize(Decimal("0.01"))
        amount = unit_price * seats
        list_total += list_price * seats
        net_total += amount
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
    return lines, list_total, net_total


def _totals(locale: str, list_total: Decimal, net: Decimal) -> Data:
    """List price total, discount = list − quoted, 13% tax on the quoted price, the total due."""
    tax = (net * Decimal("0.13")).quantize(Decimal("0.01"))
    return {
        "subtotal": money(list_total),
        "discount": money(list_total - net),
        "tax": money(tax),
        "total": money(net + tax),
        "total_in_words": amount_in_words(net + tax, "CNY", locale),
        "currency": "CNY",
        "tax_note": _t(locale, "以上单价不含税，另计 13% 增值税", "Prices exclude 13% VAT, added above"),
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
        "party_b": _party_b(locale),
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
    lines, list_total, net = _lines(locale)
    totals = _totals(locale, list_total, net)
    tax = (net * Decimal("0.13")).quantize(Decimal("0.01"))
    return {
        "company": _company(locale),
        "party_b": _party_b(locale),
        "contract": {
            "number": "QM-C-2026-0318",
            "date": "2026-11-23",
            "place": _t(locale, "上海市浦东新区", "Pudong, Shanghai"),
            "currency": "CNY",
        },
        "party_a": _customer(locale),
        "lines": lines,
        "totals": totals,
        "milestones": _milestones(locale, net + tax),
        "maintenance": {
            "free_upgrade_years": "1",
            "onsite_fee": money(Decimal(800)) + _t(locale, " / 人·天", " per engineer-day"),
            "hotline": "400-820-1234",
            "response_hours": "4",
        },
    }


def quote(locale: str) -> Data:
    lines, list_total, net = _lines(locale)
    return {
        "company": _company(locale),
        "party_b": _party_b(locale),
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
        "totals": _totals(locale, list_total, net),
        "terms": _t(
            locale,
            "含 1 年免费同版本升级；上门服务收费标准：¥800.00 / 人·天。",
            "Includes 1 year(s) of free same-version upgrades; on-site service: ¥800.00 per engineer-day.",
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
    lines, list_total, net = _lines(locale, 10)
    data["lines"] = lines
    data["totals"] = _totals(locale, list_total, net)
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
        "party_b": _party_b(locale),
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


def acceptance(locale: str) -> Data:
    """The installation acceptance note (验收单) the customer signs after stable running."""
    lines, list_total, net = _lines(locale, 6)
    return {
        "company": _company(locale),
        "party_b": _party_b(locale),
        "party_a": _customer(locale),
        "contract": {"number": "QM-C-2026-0318", "date": "2026-11-23"},
        "acceptance": {
            "number": "QM-A-2026-0318",
            "date": "2026-12-20",
            "title": _t(locale, "恒泰精密 ERP 项目", "Hengtai ERP project"),
        },
        "lines": lines,
        "totals": _totals(locale, list_total, net),
        "maintenance": {"free_upgrade_years": "1"},
    }
