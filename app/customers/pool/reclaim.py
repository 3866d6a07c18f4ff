"""Auto-reclaim (自动回收) and its warnings: set-based SQL, one tenant batch per transaction.

The sweep is **one statement** per batch (``change_owners``): pick the due customers (``FOR UPDATE
SKIP LOCKED``), move them to the pool with an ``UPDATE … RETURNING`` that re-checks the due condition
on the locked row, and append the ledger entries over the returned rows. So:

- a customer whose follow-up is being logged right now is skipped (its row is locked by the follow-up),
  or, if the follow-up committed first, no longer due when re-checked: it is never reclaimed from
  under a fresh follow-up;
- two sweeps at once split the due rows (SKIP LOCKED) and never move a customer twice, so there are
  no duplicate ledger entries; a second run later finds nothing due — the sweep is idempotent.

The warnings write one notification per customer and due date (``notify``, deduplicated on a key),
and queue one email per notification actually written, with the same key as the email's idempotency
key: running twice (or twice at once) warns once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog

from app import mail, pages
from app.customers.owner_changes import Moves, change_owners
from app.customers.pool.rules import (
    LAST_DEAL_AT_SQL,
    RULES_JOIN,
    RuleSet,
    due_at_sql,
    load_rule_set,
    reclaim_exempt_customer_ids_sql,
    rules_cte,
    rules_join,
)
from app.customers.pool.schemas import ReclaimDueItem, ReclaimsDueRead
from app.db import Tx
from app.errors import Forbidden, ValidationFailed
from app.notifications.service import Notice, notify
from tenants.access import managed_territory_ids, manages, territory_in_subtree_sql, territory_path
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)
BATCH = 10_000
REASON = "auto-reclaim: pool rules"


def due_condition_sql(rules: RuleSet, shift: str | None = None, alias: str = "c") -> str:
    """A sargable condition "due at or before now() (+ ``shift`` days, SQL)" on ``alias`` joined to
    its rules row ``r`` (``RULES_JOIN``); only the rules in force appear (a deal rule nobody set costs
    nothing)."""
    now = f"now() + make_interval(days => {shift})" if shift else "now()"
    parts = [
        f"GREATEST({alias}.last_followup_at, {alias}.owner_changed_at)"
        f" <= {now} - make_interval(days => r.followup_days)"
    ]
    if rules.any_deal_rule:
        parts.append(
            f"GREATEST({alias}.owner_changed_at, {LAST_DEAL_AT_SQL})"
            f" <= {now} - make_interval(days => r.deal_days)"
        )
    return "(" + " OR ".join(parts) + ")"


def due_sql(
    rules: RuleSet,
    first: int,
    *,
    name: str = "rules",
    shift: str | None = None,
    where: str = "TRUE",
    tail: str = "",
) -> str:
    """The one query of the customers auto-reclaim takes, as of ``now() + shift`` days (SQL, may
    name the rules row ``r``; ``None``: now) under the rule set whose arrays are ``$first`` … (its
    relation called ``name``): owned prospects due by then under their pool's rules, not exempt, with
    ``id, full_name, owner_membership_id, territory_id, due_at, warning_days``. ``where`` adds
    conditions on ``c`` and ``r``; ``tail`` ends the query (the sweep's ``LIMIT … FOR UPDATE``). The
    sweep, the warnings, the team's list and the rule simulation are this query, each with its own
    "as of"."""
    return f"""WITH {rules_cte(first, name)}, exempt AS MATERIALIZED ({reclaim_exempt_customer_ids_sql("$1")})
    SELECT c.id, c.full_name, c.owner_membership_id, c.territory_id,
        {due_at_sql(deals=rules.any_deal_rule)} AS due_at, r.warning_days
    FROM customers c JOIN {name} r ON {rules_join(name)}
    WHERE c.tenant = $1 AND c.owner_membership_id IS NOT NULL AND c.status = 'prospect'
      AND {due_condition_sql(rules, shift)} AND {where}
      AND NOT EXISTS (SELECT 1 FROM exempt e WHERE e.customer_id = c.id)
    {tail}"""


def _sweep(rules: RuleSet, batch: int) -> Moves:
    """Up to ``batch`` due customers, locked (``SKIP LOCKED``), back to the pool — the one their
    pool's rules name, else their territory's; each re-checked on its locked row (a follow-up
    committed meanwhile makes it not due any more)."""
    due = due_condition_sql(rules)
    return Moves(
        "due x, rules r",
        (*rules.sql_arrays(), batch),
        with_=f"""{rules_cte(2)},
due AS (
    SELECT q.id AS customer_id, q.owner_membership_id AS from_owner, NULL::uuid AS to_owner
    FROM ({due_sql(rules, 2, tail="LIMIT $8 FOR UPDATE OF c SKIP LOCKED")}) q
)""",
        where=f"{RULES_JOIN} AND c.status = 'prospect' AND {due}",
        select="(SELECT count(*) FROM due) AS picked",
        to_pool="(SELECT tp.id FROM pools tp WHERE tp.tenant = c.tenant AND tp.id = r.to_pool)",
    )


async def reclaim_batch(tx: Tx, scope: TenantScope, rules: RuleSet, batch: int = BATCH) -> tuple[int, int]:
    """Reclaim up to ``batch`` due customers of the scope's tenant: (picked, moved)."""
    result = await change_owners(tx, scope, _sweep(rules, batch), cause="reclaim", reason=REASON)
    return int(result.row["picked"]), result.moved


async def reclaim_tenant(scope: TenantScope, batch: int = BATCH) -> int:
    """Reclaim every due customer of one tenant, ``batch`` per transaction; returns how many."""
    total = 0
    while True:
        async with scope.tx() as tx:
            rules = await load_rule_set(tx)
            picked, moved = await reclaim_batch(tx, scope, rules, batch)
        total += moved
        if picked < batch:
            return total


def _warnings_sql(rules: RuleSet) -> str:
    """Owned customers due within their pool's ``warning_days`` (``$1`` the tenant, ``$2``… the rule
    set's arrays, ``$8`` the tenant's zone, ``$9`` its locale)."""
    local_day = "to_char(s.due_at AT TIME ZONE $8, 'YYYY-MM-DD')"
    return f"""
WITH soon AS ({due_sql(rules, 2, shift="r.warning_days", where="r.warning_days > 0")})
SELECT s.id, s.full_name, s.owner_membership_id, s.due_at, {local_day} AS date,
    greatest(0, ceil(extract(epoch FROM s.due_at - now()) / 86400))::int AS days_left,
    jsonb_build_object('customer', s.full_name, 'date', {local_day}, 'due_at', s.due_at)::text AS params,
    'reclaim_warning:' || s.id || ':' || {local_day} AS dedupe_key,
    u.email, coalesce(u.locale, $9) AS locale
FROM soon s
LEFT JOIN memberships m ON m.tenant = $1 AND m.id = s.owner_membership_id AND m.active
LEFT JOIN users u ON u.id = m.user_id
WHERE s.due_at > now()
"""


@dataclass(frozen=True, slots=True)
class ReclaimSoon:
    customer_id: UUID
    customer_name: str
    due_at: datetime
    date: str  # the due date in the tenant's zone
    days_left: int


async def my_reclaim_warnings(scope: TenantScope, limit: int = 20) -> list[ReclaimSoon]:
    """The member's own customers the warnings are about right now (due within ``warning_days``,
    not exempt, not yet due), soonest first: the same condition as ``warn_tenant``, read live, so a
    customer followed up since its warning is no longer listed. Empty when warnings are off."""
    async with scope.tx() as tx:
        rules = await load_rule_set(tx)
        if rules.max_warning_days <= 0 or scope.membership_id is None:
            return []
        rows = await tx.fetch(
            f"SELECT w.* FROM ({_warnings_sql(rules)}) w WHERE w.owner_membership_id = $10"
            " ORDER BY w.due_at, w.id LIMIT $11",
            scope.tenant_id,
            *rules.sql_arrays(),
            scope.time_zone,
            scope.tenant_locale,
            scope.membership_id,
            limit,
        )
    return [ReclaimSoon(r["id"], r["full_name"], r["due_at"], r["date"], r["days_left"]) for r in rows]


TEAM_DAYS_MAX = 90


async def team_reclaims_due(
    scope: TenantScope, *, territory_id: UUID | None = None, days: int = 7, limit: int = 50
) -> ReclaimsDueRead:
    """The team's customers the auto-reclaim takes within ``days`` (those already due included:
    the next sweep takes them), soonest first, with how many in all: a manager's subtrees (or
    ``territory_id``'s, which they must manage: else 403; unknown: 404), owner/admin everything, a
    rep 403. Exempt customers (an open late-stage deal, an envelope out) are left out, as the sweep
    leaves them."""
    scope.require("manager")
    if not 1 <= days <= TEAM_DAYS_MAX:
        raise ValidationFailed.field("days", "Use from 1 to {n} days", n=TEAM_DAYS_MAX)
    if not 1 <= limit <= 200:
        raise ValidationFailed.field("limit", "Use from 1 to {n}", n=200)
    async with scope.tx() as tx:
        rules = await load_rule_set(tx)
        args: list[object] = [scope.tenant_id, *rules.sql_arrays(), days, scope.time_zone, limit]
        if territory_id is not None:
            args.append(await territory_path(tx, scope.tenant_id, territory_id))
            if not await manages(tx, scope, territory_id):
                raise Forbidden("This territory is outside the ones you manage")
            where = territory_in_subtree_sql("$11")
        elif scope.at_least("admin"):
            where = "TRUE"
        else:
            args.append(await managed_territory_ids(tx, scope))
            where = "c.territory_id = ANY($11::uuid[])"
        rows = await tx.fetch(
            f"""
WITH soon AS ({due_sql(rules, 2, shift="$8", where=where)})
SELECT s.id, s.full_name, s.owner_membership_id, u.name AS owner_name, s.territory_id,
    t.name AS territory_name, s.due_at, to_char(s.due_at AT TIME ZONE $9, 'YYYY-MM-DD') AS date,
    greatest(0, ceil(extract(epoch FROM s.due_at - now()) / 86400))::int AS days_left,
    count(*) OVER () AS total
FROM soon s
JOIN territories t ON t.tenant = $1 AND t.id = s.territory_id
LEFT JOIN memberships m ON m.tenant = $1 AND m.id = s.owner_membership_id
LEFT JOIN users u ON u.id = m.user_id
ORDER BY s.due_at, s.id LIMIT $10""",
            *args,
        )
    return ReclaimsDueRead(
        days=days,
        territory_id=territory_id,
        total=int(rows[0]["total"]) if rows else 0,
        items=[
            ReclaimDueItem(
                r["id"],
                r["full_name"],
                r["owner_membership_id"],
                r["owner_name"],
                r["territory_id"],
                r["territory_name"],
                r["due_at"],
                r["date"],
                r["days_left"],
            )
            for r in rows
        ],
    )


async def warn_tenant(scope: TenantScope) -> int:
    """Warn owners of customers due within ``warning_days``: a notification and an email each, once
    per customer and due date (its local date in the tenant's zone). Returns the number of new
    warnings emailed (an owner who left gets the notification only, and is not counted)."""
    async with scope.tx() as tx:
        rules = await load_rule_set(tx)
        if rules.max_warning_days <= 0:
            return 0
        rows = await tx.fetch(
            _warnings_sql(rules),
            scope.tenant_id,
            *rules.sql_arrays(),
            scope.time_zone,
            scope.tenant_locale,
        )
        new = await notify(
            tx,
            [
                Notice(
                    r["owner_membership_id"],
                    "reclaim_warning",
                    r["dedupe_key"],
                    "customer",
                    r["id"],
                    json.loads(r["params"]),
                )
                for r in rows
            ],
        )
        warned = [r for r in rows if r["dedupe_key"] in new and r["email"] is not None]
        for row in warned:  # only the warnings written just now; each email keyed like its notification
            await mail.queue_email(
                tx,
                to=row["email"],
                template="reclaim_warning",
                locale=row["locale"],
                key=row["dedupe_key"],
                customer=row["full_name"],
                date=row["date"],
                link=pages.url(pages.CUSTOMER, customer_id=row["id"]),
            )
    return len(warned)
