"""The columns of a customer spreadsheet: header names (Chinese or English), value labels, and the
check of one row — pure functions, no I/O (the import job loads territories and members first).

Headers match after folding (NFKC, lowercase, no spaces, ``_ - * :``), so ``客户全称*``,
``Full name`` and ``full_name`` all find ``full_name``. A column whose header matches nothing is
ignored (and listed); the first of two columns for one field wins. Values: grades ``A``–``D``
(``A类``/``a级`` too), sources, IT status and status by code, English label or Chinese label
(``转介绍`` → ``referral``); the territory by name (when unique) or by path (``上海市/浦东新区``,
any unique tail of the path); the owner by email, by a unique member name, or ``公海``/``pool``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app import credit_code
from app.customers import identity
from app.customers.tabular import unneutralize
from app.i18n import N_
from app.territories import divisions as division_codes
from tenants.access import CustomerAccess

# field: (English header, Chinese header, other header names separated by "|")
_COLUMNS: dict[str, tuple[str, str, str]] = {
    "full_name": (
        "Full name",
        "客户全称",
        "全称|公司名称|客户名称|企业名称|公司全称|单位名称|名称|company|"
        "company name|customer|customer name|name",
    ),
    "short_name": ("Short name", "简称", "客户简称|公司简称"),
    "tax_id": ("Tax id", "统一社会信用代码", "税号|信用代码|纳税人识别号|统一信用代码|uscc|credit code"),
    "phone": ("Phone", "电话", "联系电话|公司电话|座机|手机|电话号码|telephone|tel"),
    "address": ("Address", "地址", "公司地址|详细地址"),
    "industry": ("Industry", "行业", "所属行业"),
    "size_revenue_band": ("Revenue band", "营收规模", "规模|年营业额|营业额|revenue|size"),
    "headcount": ("Headcount", "员工人数", "人数|员工数|人员规模|employees"),
    "it_status": ("IT status", "信息化状态", "信息化|信息化程度"),
    "current_software": ("Current software", "现用软件", "在用软件|当前软件|software"),
    "source": ("Source", "名单来源", "来源|客户来源|lead source"),
    "referrer": ("Referrer", "介绍人", "转介绍人|推荐人|referred by"),
    "grade": ("Grade", "客户等级", "等级|级别|客户分级|分级"),
    "status": ("Status", "客户状态", "状态"),
    "territory": ("Territory", "责任区域", "区域|责任区|所属区域|region|area"),
    "owner": ("Owner", "负责人", "业务员|销售代表|负责人邮箱|业务员邮箱|归属人|owner email|rep|sales rep"),
}
FIELDS = tuple(_COLUMNS)
HEADERS: dict[str, tuple[str, ...]] = {
    "en": tuple(c[0] for c in _COLUMNS.values()),
    "zh-CN": tuple(c[1] for c in _COLUMNS.values()),
}
# code: (English label, Chinese label, other names separated by "|")
_SOURCES: dict[str, tuple[str, str, str]] = {
    "event": ("Event", "活动", "会议|研讨会|市场活动"),
    "telemarketing": ("Telemarketing", "电话营销", "电销|电话"),
    "inbound": ("Inbound call", "来电", "来访|客户来电|上门|inbound|walk-in"),
    "cold_visit": ("Cold visit", "扫街", "陌生拜访|陌拜"),
    "list": ("Bought or shared list", "名单", "购买名单|共享名单|list"),
    "trade_show": ("Trade show", "展会", "展览会"),
    "web": ("Web inquiry", "网络咨询", "网络|网站|网站咨询|线上|web|website"),
    "referral": ("Referral", "转介绍", "介绍|推荐|客户介绍|朋友介绍"),
    "upsell": ("Upsell", "老客户增购", "老客户|增购|追加销售"),
}
_IT_STATUSES: dict[str, tuple[str, str, str]] = {
    "none": ("Not computerised", "未信息化", "无|没有|手工|no"),
    "uses_software": ("Uses software", "已用软件", "已使用软件|使用软件|有|yes"),
}
_STATUSES: dict[str, tuple[str, str, str]] = {
    "prospect": ("Prospect", "潜在客户", "潜在|跟进中"),
    "won": ("Won", "已成交", "成交"),
    "lost": ("Lost", "已丢单", "丢单|输单"),
    "closed": ("Closed", "已歇业", "歇业|关闭"),
}
_POOL_WORDS = frozenset({"公海", "pool", "none", "无"})
_GRADE = re.compile(r"^([abcd])(类|级|类客户|级客户|客户)?$")
_LIMITS = dict(full_name=200, short_name=100, address=500, phone=40, industry=100, size_revenue_band=50,
               current_software=200, referrer=200)  # fmt: skip
_FOLD_OUT = re.compile(r"[\s_\-*:：()（）]+")


def fold(text: str) -> str:
    """The form headers and labels are compared in."""
    return _FOLD_OUT.sub("", unicodedata.normalize("NFKC", text).casefold())


def _index(table: Mapping[str, tuple[str, str, str]]) -> dict[str, str]:
    """Folded names (the code, both labels, the other names) -> the code."""
    index: dict[str, str] = {}
    for code, (english, chinese, more) in table.items():
        for word in (code, english, chinese, *more.split("|")):
            index[fold(word)] = code
    return index


_HEADER_INDEX = _index(_COLUMNS)
_SOURCE_INDEX, _IT_INDEX, _STATUS_INDEX = (_index(t) for t in (_SOURCES, _IT_STATUSES, _STATUSES))


def label(kind: str, code: str | None, locale: str) -> str | None:
    """The export label of a source / it_status / status code in ``locale``."""
    if code is None:
        return None
    table = {"source": _SOURCES, "it_status": _IT_STATUSES, "status": _STATUSES}[kind]
    english, chinese, _ = table.get(code, (code, code, ""))
    return chinese if locale == "zh-CN" else english


def headers(locale: str) -> list[str]:
    return list(HEADERS["zh-CN" if locale == "zh-CN" else "en"])


@dataclass(frozen=True)
class HeaderMap:
    columns: dict[int, str]  # cell position -> field
    names: dict[str, str]  # field -> the header as written in the file
    ignored: list[str]


def guess_field(header: str) -> str | None:
    """The field a header names, by its usual names (``None``: no field)."""
    return _HEADER_INDEX.get(fold(header))


def map_headers(cells: Sequence[str | None], chosen: Mapping[str, str] | None = None) -> HeaderMap:
    """Which column holds which field: ``chosen`` (header as written → field, ``""`` to ignore the
    column) where it names the header, else the header's usual names."""
    columns: dict[int, str] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        if cell is None or not cell.strip():
            continue
        name = cell.strip()
        if chosen is not None and name in chosen:
            found = chosen[name] if chosen[name] in _COLUMNS else None
        else:
            found = _HEADER_INDEX.get(fold(name))
        if found is None or found in names:
            ignored.append(name)
            continue
        columns[position] = found
        names[found] = name
    return HeaderMap(columns, names, ignored)


# --- territories and members, for resolving references ----------------------------------------------


def _name_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass
class TerritoryIndex:
    paths: dict[UUID, str] = field(default_factory=dict)  # id -> "上海市/浦东新区"
    by_tail: dict[tuple[str, ...], list[UUID]] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: Iterable[tuple[UUID, UUID | None, str]]) -> TerritoryIndex:
        """From ``(id, parent_id, name)`` of every territory of the tenant."""
        nodes = {tid: (parent, name) for tid, parent, name in rows}
        index = cls()
        for tid in nodes:
            names: list[str] = []
            current: UUID | None = tid
            while current is not None and current in nodes and len(names) < 64:
                parent, name = nodes[current]
                names.append(name)
                current = parent
            names.reverse()
            index.paths[tid] = "/".join(names)
            keys = [_name_key(n) for n in names]
            for start in range(len(keys)):
                index.by_tail.setdefault(tuple(keys[start:]), []).append(tid)
        return index

    def find(self, ref: str) -> list[UUID]:
        parts = tuple(_name_key(p) for p in re.split(r"\s*[/／>＞]\s*", ref.strip()) if p.strip())
        return self.by_tail.get(parts, [])


@dataclass
class MemberIndex:
    by_email: dict[str, UUID] = field(default_factory=dict)  # active members only
    by_name: dict[str, list[UUID]] = field(default_factory=dict)
    emails: dict[UUID, str] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: Iterable[tuple[UUID, str, str | None, bool]]) -> MemberIndex:
        """From ``(membership_id, email, name, active)`` of the tenant's members."""
        index = cls()
        for membership_id, email, name, active in rows:
            index.emails[membership_id] = email
            if active:
                index.by_email[email.strip().casefold()] = membership_id
                if name:
                    index.by_name.setdefault(_name_key(name), []).append(membership_id)
        return index


# --- one row ------------------------------------------------------------------------------------------

RowError = tuple[str, str, dict[str, Any]]  # field, message id, params


@dataclass(frozen=True)
class RowRules:
    """What a row is checked against: the importer's rights and the options of the import."""

    access: CustomerAccess
    importer: UUID | None
    may_assign: bool  # the importer is a manager or above (may give customers to others)
    territories: TerritoryIndex
    members: MemberIndex
    default_territory: UUID | None
    default_owner_is_me: bool
    strip_apostrophes: bool  # CSV: undo our own formula-injection prefix
    # division code -> territory (``app.territories.division_map``): a row without a territory goes
    # where its credit code is mapped, before the default territory
    divisions: Mapping[str, UUID] = field(default_factory=dict)


def _text(cells: Mapping[str, str | None], name: str, rules: RowRules) -> str | None:
    value = cells.get(name)
    if value is None:
        return None
    value = value.strip()
    if rules.strip_apostrophes:
        value = unneutralize(value)
    return value or None


def _shown(value: str) -> str:
    """A cell's value as quoted back in a row error: at most 50 characters."""
    return value if len(value) <= 50 else value[:49] + "…"


def _coded(index: dict[str, str], value: str | None) -> str | None:
    return None if value is None else index.get(fold(value))


def clean_row(cells: Mapping[str, str | None], rules: RowRules) -> tuple[dict[str, Any], list[RowError]]:
    """The customer columns of one row and its errors (empty when the row can be imported).
    Duplicates are not checked here (that is set-based, over the whole file and the database)."""
    errors: list[RowError] = []
    values: dict[str, Any] = {f: _text(cells, f, rules) for f in FIELDS}
    name = values["full_name"]
    values["full_name"] = " ".join(name.split()) if name else None
    if not values["full_name"] or not identity.company_name_key(values["full_name"]):
        errors.append(("full_name", N_("Required"), {}))  # nothing but punctuation is no name either
    for column, limit in _LIMITS.items():
        if values[column] is not None and len(values[column]) > limit:
            errors.append((column, N_("Use at most {n} characters"), {"n": limit}))
            values[column] = None
    if values["tax_id"] is not None:
        tax_id = credit_code.normalize(values["tax_id"])
        if not credit_code.is_well_formed(tax_id):
            errors.append(
                ("tax_id", N_("A unified social credit code has 18 digits and capital letters"), {})
            )
        values["tax_id"] = tax_id
    _coded_columns(values, errors)
    territory_id = _territory(values.pop("territory"), values["tax_id"], rules, errors)
    owner = _owner(values.pop("owner"), rules, errors)
    if territory_id is not None and not rules.access.may_add_in(territory_id):
        errors.append(("territory", N_("You can enter customers only in your own territories"), {}))
    elif territory_id is not None and owner is not None and owner != rules.importer:
        if not rules.may_assign:
            errors.append(("owner", N_("A rep can enter customers only for themselves or into the pool"), {}))
        elif not rules.access.manages(territory_id):
            errors.append(
                ("owner", N_("Only a manager of this territory can give its customers to others"), {})
            )
    values.update(territory_id=territory_id, owner_membership_id=owner)
    if values["full_name"]:
        values.update(
            identity_key=identity.identity_key(values["tax_id"], values["full_name"]),
            name_key=identity.company_name_key(values["full_name"]),
            search_text=identity.search_text(values["full_name"], values["short_name"]),
            phone_digits=identity.phone_digits(values["phone"]),
        )
    return values, errors


def _coded_columns(values: dict[str, Any], errors: list[RowError]) -> None:
    raw_grade = values["grade"]
    if raw_grade is None:
        values["grade"] = "D"
    elif match := _GRADE.match(fold(raw_grade)):
        values["grade"] = match.group(1).upper()
    else:
        errors.append(("grade", N_("Unknown grade {value}: use A, B, C or D"), {"value": _shown(raw_grade)}))
        values["grade"] = None
    for column, index, default, message in (
        ("source", _SOURCE_INDEX, None, N_("Unknown source {value}")),
        ("it_status", _IT_INDEX, "none", N_("Unknown IT status {value}")),
        ("status", _STATUS_INDEX, "prospect", N_("Unknown status {value}")),
    ):
        raw = values[column]
        values[column] = default if raw is None else _coded(index, raw)
        if raw is not None and values[column] is None:
            errors.append((column, message, {"value": _shown(raw)}))
    raw_headcount = values["headcount"]
    values["headcount"] = None
    if raw_headcount is not None:
        digits = re.sub(r"[\s,，]|人$", "", unicodedata.normalize("NFKC", raw_headcount))
        if digits.isascii() and digits.isdigit() and int(digits) <= 10_000_000:
            values["headcount"] = int(digits)
        else:
            errors.append(("headcount", N_("Not a whole number: {value}"), {"value": _shown(raw_headcount)}))


def _territory(ref: str | None, tax_id: str | None, rules: RowRules, errors: list[RowError]) -> UUID | None:
    if ref is None:
        placed = division_codes.place(rules.divisions, tax_id)
        if placed is not None:
            return placed
        if rules.default_territory is None:
            errors.append(("territory", N_("Give a territory, or choose a default territory"), {}))
        return rules.default_territory
    found = rules.territories.find(ref)
    if len(found) == 1:
        return found[0]
    if not found:
        errors.append(("territory", N_("No territory {value}"), {"value": _shown(ref)}))
    else:
        errors.append(
            (
                "territory",
                N_("Several territories are called {value}: give its path, e.g. {path}"),
                {"value": _shown(ref), "path": rules.territories.paths[found[0]]},
            )
        )
    return None


def _owner(ref: str | None, rules: RowRules, errors: list[RowError]) -> UUID | None:
    if ref is None:
        return rules.importer if rules.default_owner_is_me else None
    if fold(ref) in _POOL_WORDS:
        return None
    if "@" in ref:
        found = rules.members.by_email.get(ref.strip().casefold())
        candidates = [found] if found else []
    else:
        candidates = rules.members.by_name.get(_name_key(ref), [])
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        errors.append(
            ("owner", N_("Several members are called {value}: use the email"), {"value": _shown(ref)})
        )
    else:
        errors.append(("owner", N_("No active member {value}"), {"value": _shown(ref)}))
    return None
