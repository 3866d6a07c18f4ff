"""``pool-status``: why a claim would be refused, or when and why the customer returns to the pool —
in words (the caller's language) and in data (rule code, numbers, dates).

It runs the same rule code as a claim (``pool.claim_refusal``) and the same due-date SQL as the
sweep (``rules.due_at_sql`` pieces), so the explanation cannot drift from what happens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from app.customers.pool.rules import (
    LAST_DEAL_AT_SQL,
    RULES_JOIN,
    PoolRules,
    due_at_sql,
    exemption_messages,
    load_pool_rules,
    load_rule_set,
    reclaim_exempt_customer_ids_sql,
    rules_cte,
)
from app.customers.pool.schemas import PoolStatusRead, ReclaimRead, RuleCheck
from app.customers.pool.service import Refusal, claim_refusal, load_claimable, local_date
from app.db import Tx
from app.i18n import N_, translate
from app.sql import Params
from tenants.access import customer_access
from tenants.scope import TenantScope

_CLOCKS = (
    f"WITH {rules_cte(3)}"
    " SELECT GREATEST(c.last_followup_at, c.owner_changed_at) AS followup_from,"
    " GREATEST(c.last_followup_at, c.owner_changed_at) + make_interval(days => r.followup_days)"
    " AS followup_due,"
    f" GREATEST(c.owner_changed_at, {LAST_DEAL_AT_SQL}) AS deal_from,"
    f" GREATEST(c.owner_changed_at, {LAST_DEAL_AT_SQL}) + make_interval(days => r.deal_days) AS deal_due,"
    f" now() AS now FROM customers c JOIN rules r ON {RULES_JOIN} WHERE c.tenant = $1 AND c.id = $2"
)


def _say(scope: TenantScope, message: str, params: dict[str, Any]) -> str:
    return translate(scope.locale, message, **params)


async def _reclaim(tx: Tx, scope: TenantScope, row: asyncpg.Record, rules: PoolRules) -> ReclaimRead:
    grade = row["grade"]
    codes = [
        r["code"]
        for r in await tx.fetch(
            f"SELECT e.code FROM ({reclaim_exempt_customer_ids_sql('$1')}) e WHERE e.customer_id = $2",
            scope.tenant_id,
            row["id"],
        )
    ]
    rule_set = await load_rule_set(tx)
    clocks = await tx.fetchrow(_CLOCKS, scope.tenant_id, row["id"], *rule_set.sql_arrays())
    assert clocks is not None
    rule_days = rules.grade(grade)
    candidates = [
        (clocks["followup_due"], "no_followup", rule_days.no_followup_days, clocks["followup_from"]),
        (clocks["deal_due"], "no_deal", rule_days.no_deal_days, clocks["deal_from"]),
    ]
    due = min((c for c in candidates if c[0] is not None), key=lambda c: c[0], default=None)
    if codes:
        reasons = ", ".join(_say(scope, m, {}) for m in exemption_messages(codes))
        exempt = _say(
            scope, N_("Not returned to the pool automatically while {reasons}"), {"reasons": reasons}
        )
    if due is None:
        message = (
            exempt
            if codes
            else _say(
                scope,
                N_("Grade {grade} customers are not returned to the pool automatically"),
                {"grade": grade},
            )
        )
        return ReclaimRead(None, None, None, None, None, None, bool(codes), codes, message)
    due_at, rule, limit, counted_from = due
    days_left = max(0, math.ceil((due_at - clocks["now"]).total_seconds() / 86400))
    params = {"date": local_date(due_at, scope.time_zone), "days": days_left, "grade": grade, "limit": limit}
    if codes:
        message = exempt
    elif days_left == 0:
        message = _say(scope, _DUE_NOW[rule], params)
    else:
        message = _say(scope, _DUE_ON[rule], params)
    return ReclaimRead(
        rule=rule,
        due_at=due_at,
        days_left=days_left,
        limit_days=limit,
        counted_from=counted_from,
        warning_from=due_at - timedelta(days=rules.warning_days),
        exempt=bool(codes),
        exempt_reasons=codes,
        message=message,
    )


_DUE_NOW = {
    "no_followup": N_("Due to return to the pool now: grade {grade} allows {limit} days without a follow-up"),
    "no_deal": N_("Due to return to the pool now: grade {grade} allows {limit} days without a deal"),
}
_DUE_ON = {
    "no_followup": N_(
        "Returns to the pool on {date} ({days} days left): grade {grade} allows {limit} days"
        " without a follow-up"
    ),
    "no_deal": N_(
        "Returns to the pool on {date} ({days} days left): grade {grade} allows {limit} days without a deal"
    ),
}


async def pool_status(scope: TenantScope, customer_id: UUID) -> PoolStatusRead:
    """404 unless the member sees the customer or works its pool."""
    async with scope.tx() as tx:
        row, access = await load_claimable(tx, scope, customer_id)
        rules = await load_pool_rules(tx, row["pool_id"])
        refusal = await claim_refusal(tx, scope, row, rules)
        if refusal is None and not access.may_claim(row["id"], row["pool_id"]):
            refusal = Refusal("territory", N_("This customer is outside the pools you work"))
        owned = row["owner_membership_id"] is not None
        reclaim = await _reclaim(tx, scope, row, rules) if owned and row["status"] == "prospect" else None
    in_pool = not owned and row["status"] in ("prospect", "lost")
    claim = (
        RuleCheck("ok", _say(scope, N_("You can claim this customer"), {}), {})
        if refusal is None
        else RuleCheck(refusal.rule, _say(scope, refusal.message, refusal.params), refusal.params)
    )
    where = (
        _say(scope, N_("In the pool of {territory}"), {"territory": row["territory_name"]})
        if in_pool
        else _say(scope, N_("Owned by {owner}"), {"owner": row["owner_name"] or ""})
        if owned
        else _say(scope, N_("This customer is not in the pool (status {status})"), {"status": row["status"]})
    )
    summary = [where, claim.message] if claim.message != where else [where]
    if reclaim is not None:
        summary.append(reclaim.message)
    return PoolStatusRead(
        customer_id=row["id"],
        status=row["status"],
        in_pool=in_pool,
        owner_membership_id=row["owner_membership_id"],
        owner_name=row["owner_name"],
        can_claim=refusal is None,
        claim=claim,
        reclaim=reclaim,
        summary=summary,
    )


_DAYS_LEFT = (
    f"WITH {rules_cte(3)}"
    " SELECT c.id, greatest(0, ceil(extract(epoch FROM d.due_at - now()) / 86400))::int AS days_left,"
    " r.warning_days FROM customers c JOIN rules r ON {RULES_JOIN}"
    f" CROSS JOIN LATERAL (SELECT {due_at_sql()} AS due_at) d"
    " WHERE c.tenant = $1 AND c.id = ANY($2::uuid[]) AND c.owner_membership_id IS NOT NULL"
    " AND c.status = 'prospect' AND d.due_at IS NOT NULL AND {visible}"
    " AND NOT EXISTS (SELECT 1 FROM ({exempt}) e WHERE e.customer_id = c.id)"
)


@dataclass(frozen=True, slots=True)
class DaysLeft:
    """``days``: customer id → days until it returns to the pool; ``warning_days``: the owner is
    warned from this many days before."""

    days: dict[UUID, int]
    warning_days: int


async def reclaim_days_left(scope: TenantScope, customer_ids: list[UUID]) -> DaysLeft:
    """For a page of customers at once (one query): the days until each returns to the pool, as
    ``pool_status`` counts them (the same rules and exemptions). A customer that is not returned
    automatically (in the pool, not a prospect, exempt, a rule that is off) or not visible is absent."""
    if not customer_ids:
        return DaysLeft({}, 0)
    async with scope.tx() as tx:
        rules = await load_rule_set(tx)
        access = await customer_access(tx, scope)
        p = Params(scope.tenant_id, list(customer_ids), *rules.sql_arrays())
        sql = _DAYS_LEFT.format(
            visible=access.visible_sql(p), exempt=reclaim_exempt_customer_ids_sql("$1"), RULES_JOIN=RULES_JOIN
        )
        rows = await tx.fetch(sql, *p.values)
    return DaysLeft({r["id"]: r["days_left"] for r in rows}, rules.tenant.warning_days)
