"""Pool rules (公海规则), per tenant with per-grade overrides, per pool over the tenant's, and the
hooks the sweep reads.

Stored as one JSON document per tenant (``pool_rules``); a tenant without a row has the defaults
below. A pool may override any of them (``pools.rules``, a ``PoolRulesOverride``: fields left out
inherit the tenant's): ``RuleSet`` holds the tenant's rules and every overriding pool's, and goes to
SQL as one ``rules`` relation (``rules_cte``: a row per pool and grade, the tenant's rows with a NULL
pool) joined with ``RULES_JOIN`` — so the sweep, the warnings, pool-status, the briefings and the
rule simulation evaluate the rules of each customer's pool in one place. Effective rules go to SQL
as arrays, so the defaults live here only.

Caps are overridable per territory and per member (``pool_cap_overrides``): ``effective_caps`` —
the member's, else the customer's territory's, else the pool's rules.

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
from typing import Any, Final
from uuid import UUID

import msgspec

from app.db import Tx
from app.errors import ValidationFailed
from app.i18n import N_
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
    """``lock_cap``: how many of their customers a member may lock against auto-reclaim (0: none);
    ``count_won``: won customers count toward the owned cap; ``new_in_pool_hours``: a customer just
    released or reclaimed cannot be claimed for this long (0: off); ``reclaim_to_pool_id``: the pool
    auto-reclaim sends customers to (null: their territory's)."""

    owned_cap: int = 100
    daily_claim_cap: int | None = None
    warning_days: int = 3
    cooldown_days: int = 7
    grades: dict[str, GradeRule] = msgspec.field(default_factory=_default_grades)
    lock_cap: int = 5
    count_won: bool = False
    new_in_pool_hours: int = 0
    reclaim_to_pool_id: UUID | None = None

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
    lock_cap: int = 5
    count_won: bool = False
    new_in_pool_hours: int = 0
    reclaim_to_pool_id: UUID | None = None


class PoolRulesOverride(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A pool's overrides of the tenant's rules: a field left out inherits the tenant's (for a
    grade, field by field); null turns an optional rule off for the pool."""

    owned_cap: int | msgspec.UnsetType = msgspec.UNSET
    daily_claim_cap: int | msgspec.UnsetType | None = msgspec.UNSET
    warning_days: int | msgspec.UnsetType = msgspec.UNSET
    cooldown_days: int | msgspec.UnsetType = msgspec.UNSET
    grades: dict[str, GradeRuleWrite] = msgspec.field(default_factory=dict)
    lock_cap: int | msgspec.UnsetType = msgspec.UNSET
    count_won: bool | msgspec.UnsetType = msgspec.UNSET
    new_in_pool_hours: int | msgspec.UnsetType = msgspec.UNSET
    reclaim_to_pool_id: UUID | msgspec.UnsetType | None = msgspec.UNSET


class PoolRulesRead(msgspec.Struct):
    owned_cap: int
    daily_claim_cap: int | None
    warning_days: int
    cooldown_days: int
    grades: dict[str, GradeRule]
    lock_cap: int
    count_won: bool
    new_in_pool_hours: int
    reclaim_to_pool_id: UUID | None
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


# A customer its owner locked (锁定, ``service.set_lock``): registered by ``app.wiring`` like the others.
LOCKED = ReclaimExemption(
    "locked",
    N_("its owner locked it"),
    "SELECT id AS customer_id FROM customers WHERE tenant = {tenant} AND locked_at IS NOT NULL",
)

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


def rules_cte(first: int, name: str = "rules") -> str:
    """The ``rules`` relation (pool_id, grade, followup_days, deal_days, warning_days, to_pool) from
    the six arrays of ``RuleSet.sql_arrays()`` at ``$first`` …; join it with ``RULES_JOIN`` (another
    ``name``: with ``rules_join(name)``, two rule sets in one statement)."""
    a, g, f, d, w, t = (f"${first + i}" for i in range(6))
    return (
        f"{name} (pool_id, grade, followup_days, deal_days, warning_days, to_pool) AS (SELECT * FROM"
        f" unnest({a}::uuid[], {g}::text[], {f}::int[], {d}::int[], {w}::int[], {t}::uuid[]))"
    )


def rules_join(name: str = "rules") -> str:
    """The rules row ``r`` of customer ``c``: its pool's if the pool overrides the tenant's, else the
    tenant's (``name``: the rules relation)."""
    return (
        "r.grade = c.grade AND (r.pool_id = c.pool_id"
        f" OR (r.pool_id IS NULL AND NOT EXISTS (SELECT FROM {name} o WHERE o.pool_id = c.pool_id)))"
    )


RULES_JOIN = rules_join()


def due_at_sql(alias: str = "c", rules: str = "r", *, deals: bool = True) -> str:
    """When customer ``alias`` is due for auto-reclaim under the grade rules row ``rules`` (NULL: never).
    LEAST ignores NULLs, so a rule that is off does not count. ``deals=False``: no rule has a deal
    rule, so its (per-row) deal lookup is left out."""
    clock = f"GREATEST({alias}.last_followup_at, {alias}.owner_changed_at)"
    followup = f"{clock} + make_interval(days => {rules}.followup_days)"
    if not deals:
        return f"LEAST({followup})"
    return (
        f"LEAST({followup},"
        f" GREATEST({alias}.owner_changed_at, {LAST_DEAL_AT_SQL}) + make_interval(days => {rules}.deal_days))"
    )


# --- reading and writing -------------------------------------------------------------------------


RULES_SQL = (
    "(SELECT rules::text FROM pool_rules WHERE tenant = $1)"  # a scalar subquery: ``rules_of`` reads it
)


def rules_of(raw: str | None) -> PoolRules:
    """The tenant's rules from their stored JSON (``RULES_SQL``; ``None``: the defaults)."""
    return _merge(msgspec.json.decode(raw, type=PoolRulesWrite)) if raw else PoolRules()


async def load_rules(tx: Tx) -> PoolRules:
    """The tenant's rules (what a pool without overrides has)."""
    return rules_of(await tx.fetchval("SELECT " + RULES_SQL, tx.tenant_id))


def override_of(raw: str | None) -> PoolRulesOverride:
    return msgspec.json.decode(raw, type=PoolRulesOverride) if raw else PoolRulesOverride()


def rules_for_pool(tenant: PoolRules, override: PoolRulesOverride | str | None) -> PoolRules:
    """A pool's effective rules: the tenant's, with the pool's overrides (stored JSON or decoded)."""
    if not isinstance(override, PoolRulesOverride):
        override = override_of(override)
    given = {
        f: getattr(override, f)
        for f in PoolRulesOverride.__struct_fields__
        if f != "grades" and not isinstance(getattr(override, f), msgspec.UnsetType)
    }
    grades = dict(tenant.grades)
    for grade, rule in override.grades.items():
        base = tenant.grade(grade)
        set_ = {f: getattr(rule, f) for f in GradeRule.__struct_fields__}
        grades[grade] = msgspec.structs.replace(
            base, **{f: v for f, v in set_.items() if not isinstance(v, msgspec.UnsetType)}
        )
    return msgspec.structs.replace(tenant, grades=grades, **given)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The tenant's rules and the effective rules of every pool that overrides them."""

    tenant: PoolRules
    pools: dict[UUID, PoolRules]

    def for_pool(self, pool_id: UUID | None) -> PoolRules:
        return self.pools.get(pool_id, self.tenant) if pool_id is not None else self.tenant

    def all(self) -> list[PoolRules]:
        return [self.tenant, *self.pools.values()]

    def sql_arrays(self) -> tuple[list[Any], ...]:
        """(pool ids, grades, no-follow-up days, no-deal days, warning days, reclaim-to pools), a row
        per pool and grade (the tenant's with a NULL pool), for ``rules_cte``."""
        rows = [(None, self.tenant), *self.pools.items()]
        out: tuple[list[Any], ...] = ([], [], [], [], [], [])
        for pool_id, rules in rows:
            for g in GRADES:
                for column, value in zip(
                    out,
                    (
                        pool_id,
                        g,
                        rules.grade(g).no_followup_days,
                        rules.grade(g).no_deal_days,
                        rules.warning_days,
                        rules.reclaim_to_pool_id,
                    ),
                    strict=True,
                ):
                    column.append(value)
        return out

    @property
    def any_deal_rule(self) -> bool:
        return any(r.grade(g).no_deal_days is not None for r in self.all() for g in GRADES)

    @property
    def max_warning_days(self) -> int:
        return max(r.warning_days for r in self.all())


async def load_rule_set(tx: Tx) -> RuleSet:
    """The tenant's rules and every overriding pool's (one round trip)."""
    row = await tx.fetchrow(
        f"SELECT {RULES_SQL} AS tenant, ARRAY(SELECT id FROM pools WHERE tenant = $1 AND rules IS NOT NULL"
        " ORDER BY id) AS ids, ARRAY(SELECT rules::text FROM pools WHERE tenant = $1 AND rules IS NOT NULL"
        " ORDER BY id) AS rules",
        tx.tenant_id,
    )
    assert row is not None
    tenant = rules_of(row["tenant"])
    return RuleSet(
        tenant, {i: rules_for_pool(tenant, r) for i, r in zip(row["ids"], row["rules"], strict=True)}
    )


async def load_pool_rules(tx: Tx, pool_id: UUID) -> PoolRules:
    """One pool's effective rules (the tenant's for an unknown pool)."""
    row = await tx.fetchrow(
        f"SELECT {RULES_SQL} AS tenant,"
        " (SELECT rules::text FROM pools WHERE tenant = $1 AND id = $2) AS pool",
        tx.tenant_id,
        pool_id,
    )
    assert row is not None
    return rules_for_pool(rules_of(row["tenant"]), row["pool"])


@dataclass(frozen=True, slots=True)
class Caps:
    owned_cap: int
    daily_claim_cap: int | None
    lock_cap: int


async def effective_caps(tx: Tx, rules: PoolRules, membership_id: UUID, territory_id: UUID | None) -> Caps:
    """The caps for ``membership_id`` claiming (locking) a customer of ``territory_id`` under the pool
    rules ``rules``: each number the member's override, else the territory's, else the rules'."""
    rows = await tx.fetch(
        "SELECT membership_id IS NOT NULL AS mine, owned_cap, daily_claim_cap, lock_cap"
        " FROM pool_cap_overrides WHERE tenant = $1 AND (membership_id = $2 OR territory_id = $3)",
        tx.tenant_id,
        membership_id,
        territory_id,
    )
    ordered = sorted(rows, key=lambda r: not r["mine"])  # the member's first

    def pick(name: str, default: Any) -> Any:
        return next((r[name] for r in ordered if r[name] is not None), default)

    return Caps(
        pick("owned_cap", rules.owned_cap),
        pick("daily_claim_cap", rules.daily_claim_cap),
        pick("lock_cap", rules.lock_cap),
    )


async def read_rules(tx: Tx) -> PoolRulesRead:
    customized = bool(await tx.fetchval("SELECT 1 FROM pool_rules WHERE tenant = $1", tx.tenant_id))
    rules = await load_rules(tx)
    return PoolRulesRead(**{f: getattr(rules, f) for f in PoolRules.__struct_fields__}, customized=customized)


async def _check_pool(tx: Tx, pool_id: UUID | None) -> None:
    if pool_id is not None and not await tx.fetchval(
        "SELECT 1 FROM pools WHERE tenant = $1 AND id = $2", tx.tenant_id, pool_id
    ):
        raise ValidationFailed.field("reclaim_to_pool_id", "No pool with this id")


def validate_override(tenant: PoolRules, override: PoolRulesOverride) -> PoolRules:
    """A pool's effective rules under ``override``, or 422 naming the first wrong field."""
    for grade in override.grades:
        if grade not in GRADES:
            raise ValidationFailed.field("grades", "Use A, B, C or D")
    rules = rules_for_pool(tenant, override)
    validate(
        PoolRulesWrite(
            owned_cap=rules.owned_cap,
            daily_claim_cap=rules.daily_claim_cap,
            warning_days=rules.warning_days,
            cooldown_days=rules.cooldown_days,
            grades={
                g: GradeRuleWrite(r.no_followup_days, r.no_deal_days, r.owned_cap)
                for g, r in rules.grades.items()
            },
            lock_cap=rules.lock_cap,
            count_won=rules.count_won,
            new_in_pool_hours=rules.new_in_pool_hours,
            reclaim_to_pool_id=rules.reclaim_to_pool_id,
        )
    )
    return rules


async def check_override(tx: Tx, override: PoolRulesOverride) -> PoolRules:
    rules = validate_override(await load_rules(tx), override)
    await _check_pool(tx, rules.reclaim_to_pool_id)
    return rules


async def save_rules(tx: Tx, data: PoolRulesWrite, by: UUID | None) -> PoolRules:
    rules = validate(data)
    await _check_pool(tx, data.reclaim_to_pool_id)
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
    return PoolRules(
        data.owned_cap,
        data.daily_claim_cap,
        data.warning_days,
        data.cooldown_days,
        grades,
        data.lock_cap,
        data.count_won,
        data.new_in_pool_hours,
        data.reclaim_to_pool_id,
    )


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
    _range("lock_cap", data.lock_cap, 0, 10_000)
    _range("new_in_pool_hours", data.new_in_pool_hours, 0, 24 * 365)
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
