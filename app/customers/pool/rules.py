"""Pool rules (公海规则), per tenant with per-grade overrides, and the hooks the sweep reads.

Stored as one JSON document per tenant (``pool_rules``); a tenant without a row has the defaults
below. Effective rules go to SQL as arrays (grade, days …), so the defaults live here only.

Hooks:
- ``RECLAIM_EXEMPTIONS``: customers never auto-reclaimed. Other domains define theirs (a
  :class:`ReclaimExemption`: ``app.deals.hooks`` an open late-stage deal, ``app.signing.hooks`` a
  contract out for signature) and ``app.wiring`` registers them (``register_reclaim_exemption``); the
  sweep, the warnings, the briefings and ``pool-status`` all read them. With none, nothing is exempt.
- ``LAST_DEAL_AT_SQL``: when the customer last had deal activity, for the "M days without a deal"
  rule: the latest change to one of its deals; with none, the clock is the time the owner got it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from uuid import UUID

import msgspec

from app.db import Tx
from app.errors import ValidationFailed
from tenants.scope import TenantScope

GRADES: Final = ("A", "B", "C", "D")
DEFAULT_NO_FOLLOWUP_DAYS: Final = {"A": 15, "B": 30, "C": 60, "D": 90}
MAX_DAYS: Final = 3650


class GradeRule(msgspec.Struct, forbid_unknown_fields=True):
    """``no_followup_days``: back to the pool after this many days without a follow-up (null: never);
    ``no_deal_days``: … without deal activity (null: off); ``owned_cap``: at most this many customers
    of this grade per member (null: only the overall cap)."""

    no_followup_days: int | None = None
    no_deal_days: int | None = None
    owned_cap: int | None = None


def _default_grades() -> dict[str, GradeRule]:
    return {g: GradeRule(no_followup_days=d) for g, d in DEFAULT_NO_FOLLOWUP_DAYS.items()}


class PoolRules(msgspec.Struct, forbid_unknown_fields=True):
    owned_cap: int = 100
    daily_claim_cap: int | None = None
    warning_days: int = 3
    cooldown_days: int = 7
    grades: dict[str, GradeRule] = msgspec.field(default_factory=_default_grades)

    def grade(self, grade: str) -> GradeRule:
        return self.grades.get(grade) or GradeRule(no_followup_days=DEFAULT_NO_FOLLOWUP_DAYS.get(grade))

    def sql_arrays(self) -> tuple[list[str], list[int | None], list[int | None]]:
        """(grades, no-follow-up days, no-deal days) for ``unnest($n::text[], $m::int[], $k::int[])``."""
        return (
            list(GRADES),
            [self.grade(g).no_followup_days for g in GRADES],
            [self.grade(g).no_deal_days for g in GRADES],
        )


class GradeRuleWrite(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A grade's overrides: a field left out keeps the default (null turns the rule off)."""

    no_followup_days: int | msgspec.UnsetType | None = msgspec.UNSET
    no_deal_days: int | msgspec.UnsetType | None = msgspec.UNSET
    owned_cap: int | msgspec.UnsetType | None = msgspec.UNSET


class PoolRulesWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The whole rule set (PUT): fields left out take the defaults; grades left out too."""

    owned_cap: int = 100
    daily_claim_cap: int | None = None
    warning_days: int = 3
    cooldown_days: int = 7
    grades: dict[str, GradeRuleWrite] = msgspec.field(default_factory=dict)


class PoolRulesRead(msgspec.Struct):
    owned_cap: int
    daily_claim_cap: int | None
    warning_days: int
    cooldown_days: int
    grades: dict[str, GradeRule]
    customized: bool


# --- hooks ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReclaimExemption:
    """``sql`` selects ``customer_id`` of the exempt customers of tenant ``{tenant}`` (a placeholder
    for the tenant's parameter); ``message`` says why, in pool-status."""

    code: str
    message: str
    sql: str


RECLAIM_EXEMPTIONS: list[ReclaimExemption] = []


def register_reclaim_exemption(exemption: ReclaimExemption) -> None:
    """Add ``exemption`` (kept in the order registered). Registering an equal one again changes
    nothing; another one with a code already taken raises ``RuntimeError``."""
    for known in RECLAIM_EXEMPTIONS:
        if known.code == exemption.code:
            if known != exemption:
                raise RuntimeError(f"a reclaim exemption {exemption.code!r} is already registered")
            return
    RECLAIM_EXEMPTIONS.append(exemption)


LAST_DEAL_AT_SQL = (  # deals: the latest change to any of customer c's deals (NULL: none)
    "(SELECT max(d.updated_at) FROM deals d WHERE d.tenant = c.tenant AND d.customer_id = c.id)"
)


def reclaim_exempt_customer_ids_sql(tenant_param: str = "$1") -> str:
    """A query of ``(customer_id, code)`` for the tenant's customers exempt from auto-reclaim."""
    clauses = [
        f"SELECT x.customer_id, '{e.code}'::text AS code FROM ({e.sql.format(tenant=tenant_param)}) x"
        for e in RECLAIM_EXEMPTIONS
    ]
    none = (
        f"SELECT NULL::uuid AS customer_id, NULL::text AS code WHERE {tenant_param}::uuid IS NULL AND false"
    )
    return " UNION ALL ".join(clauses) or none


def exemption_messages(codes: list[str]) -> list[str]:
    by_code = {e.code: e.message for e in RECLAIM_EXEMPTIONS}
    return [by_code[c] for c in codes if c in by_code]


def due_at_sql(alias: str = "c", rules: str = "r") -> str:
    """When customer ``alias`` is due for auto-reclaim under the grade rules row ``rules`` (NULL: never).
    LEAST ignores NULLs, so a rule that is off does not count."""
    return (
        f"LEAST(GREATEST({alias}.last_followup_at, {alias}.owner_changed_at)"
        f" + make_interval(days => {rules}.followup_days),"
        f" GREATEST({alias}.owner_changed_at, {LAST_DEAL_AT_SQL}) + make_interval(days => {rules}.deal_days))"
    )


RULES_CTE = (
    "rules (grade, followup_days, deal_days) AS (SELECT * FROM unnest({g}::text[], {f}::int[], {d}::int[]))"
)


# --- reading and writing -------------------------------------------------------------------------


RULES_SQL = (
    "(SELECT rules::text FROM pool_rules WHERE tenant = $1)"  # a scalar subquery: ``rules_of`` reads it
)


def rules_of(raw: str | None) -> PoolRules:
    """The tenant's rules from their stored JSON (``RULES_SQL``; ``None``: the defaults)."""
    return _merge(msgspec.json.decode(raw, type=PoolRulesWrite)) if raw else PoolRules()


async def load_rules(tx: Tx) -> PoolRules:
    return rules_of(await tx.fetchval("SELECT " + RULES_SQL, tx.tenant_id))


async def read_rules(tx: Tx) -> PoolRulesRead:
    customized = bool(await tx.fetchval("SELECT 1 FROM pool_rules WHERE tenant = $1", tx.tenant_id))
    rules = await load_rules(tx)
    return PoolRulesRead(**{f: getattr(rules, f) for f in PoolRules.__struct_fields__}, customized=customized)


async def save_rules(tx: Tx, data: PoolRulesWrite, by: UUID | None) -> PoolRules:
    rules = validate(data)
    await tx.execute(
        "INSERT INTO pool_rules (tenant, rules, updated_by) VALUES ($1, $2::jsonb, $3)"
        " ON CONFLICT (tenant) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by,"
        " updated_at = now()",
        tx.tenant_id,
        msgspec.json.encode(data).decode(),
        by,
    )
    return rules


def _merge(data: PoolRulesWrite) -> PoolRules:
    grades = _default_grades()
    for grade, override in data.grades.items():
        given = {f: getattr(override, f) for f in GradeRule.__struct_fields__}
        base = grades.get(grade, GradeRule())
        grades[grade] = msgspec.structs.replace(
            base, **{f: v for f, v in given.items() if not isinstance(v, msgspec.UnsetType)}
        )
    return PoolRules(data.owned_cap, data.daily_claim_cap, data.warning_days, data.cooldown_days, grades)


def _range(field: str, value: int | None, low: int, high: int, *, optional: bool = False) -> None:
    if value is None:
        if not optional:
            raise ValidationFailed.field(field, "Required")
        return
    if not low <= value <= high:
        raise ValidationFailed.field(field, "Use a number from {low} to {high}", low=low, high=high)


def validate(data: PoolRulesWrite) -> PoolRules:
    """The effective rules, or 422 naming the first wrong field (``grades.B.no_followup_days`` …)."""
    _range("owned_cap", data.owned_cap, 1, 100_000)
    _range("daily_claim_cap", data.daily_claim_cap, 1, 10_000, optional=True)
    _range("warning_days", data.warning_days, 0, 365)
    _range("cooldown_days", data.cooldown_days, 0, 365)
    for grade in data.grades:
        if grade not in GRADES:
            raise ValidationFailed.field("grades", "Use A, B, C or D")
    rules = _merge(data)
    for grade, rule in ((g, rules.grade(g)) for g in data.grades):
        prefix = f"grades.{grade}."
        _range(prefix + "no_followup_days", rule.no_followup_days, 1, MAX_DAYS, optional=True)
        _range(prefix + "no_deal_days", rule.no_deal_days, 1, MAX_DAYS, optional=True)
        _range(prefix + "owned_cap", rule.owned_cap, 1, data.owned_cap, optional=True)
    for grade in GRADES:
        for name in ("no_followup_days", "no_deal_days"):
            days = getattr(rules.grade(grade), name)
            if days is not None and days <= rules.warning_days:
                raise ValidationFailed.field(
                    f"grades.{grade}.{name}",
                    "Must be more than the warning days ({days})",
                    days=rules.warning_days,
                )
    return rules


async def get_pool_rules(scope: TenantScope) -> PoolRulesRead:
    scope.require("admin")
    async with scope.tx() as tx:
        return await read_rules(tx)


async def put_pool_rules(scope: TenantScope, data: PoolRulesWrite) -> PoolRulesRead:
    """Replace the tenant's rules (owner/admin); 422 naming the first wrong field."""
    scope.require("admin")
    async with scope.tx() as tx:
        await save_rules(tx, data, scope.membership_id)
        return await read_rules(tx)
