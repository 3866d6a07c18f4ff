"""Auto-reclaim (自动回收) and its warnings: set-based SQL, one tenant batch per transaction.

The sweep is **one statement** per batch: pick the due customers (``FOR UPDATE SKIP LOCKED``), move
them to the pool with an ``UPDATE … RETURNING`` that re-checks the due condition on the locked row,
and append the ledger entries (one ``acre_ownership_append`` over the returned rows). So:

- a customer whose follow-up is being logged right now is skipped (its row is locked by the follow-up),
  or, if the follow-up committed first, no longer due when re-checked: it is never reclaimed from
  under a fresh follow-up;
- two sweeps at once split the due rows (SKIP LOCKED) and never move a customer twice, so there are
  no duplicate ledger entries; a second run later finds nothing due — the sweep is idempotent.

The warnings insert one notification per customer and due date (``ON CONFLICT DO NOTHING`` on a
dedupe key), and queue one email per notification actually inserted, with the same key as the
email's idempotency key: running twice (or twice at once) warns once.
"""

from __future__ import annotations

from uuid import UUID

import structlog

from app import mail
from app.customers import ledger
from app.customers.pool.rules import (
    GRADES,
    LAST_DEAL_AT_SQL,
    RULES_CTE,
    PoolRules,
    due_at_sql,
    load_rules,
    reclaim_exempt_customer_ids_sql,
)
from app.db import Tx
from app.settings import get_settings
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)
BATCH = 10_000
REASON = "auto-reclaim: pool rules"


def due_condition_sql(rules: PoolRules, shift: str | None = None, alias: str = "c") -> str:
    """A sargable condition "due at or before now() (+ ``shift`` days)" on ``alias`` joined to the
    grade rules row ``r``; only the rules in force appear (a deal rule nobody set costs nothing)."""
    now = f"now() + make_interval(days => {shift})" if shift else "now()"
    parts = [
        f"GREATEST({alias}.last_followup_at, {alias}.owner_changed_at)"
        f" <= {now} - make_interval(days => r.followup_days)"
    ]
    if any(rules.grade(g).no_deal_days is not None for g in GRADES):
        parts.append(
            f"GREATEST({alias}.owner_changed_at, {LAST_DEAL_AT_SQL})"
            f" <= {now} - make_interval(days => r.deal_days)"
        )
    return "(" + " OR ".join(parts) + ")"


_APPEND_MOVED = ledger.append_expr(
    "m.ids", "m.froms", "m.tos", "'reclaim'", "NULL::uuid", "$6::text", "NULL::uuid"
)


def _sweep_sql(rules: PoolRules) -> str:
    due = due_condition_sql(rules)
    return f"""
WITH {RULES_CTE.format(g="$2", f="$3", d="$4")},
exempt AS ({reclaim_exempt_customer_ids_sql("$1")}),
due AS (
    SELECT c.id, c.owner_membership_id AS from_owner FROM customers c JOIN rules r ON r.grade = c.grade
    WHERE c.tenant = $1 AND c.owner_membership_id IS NOT NULL AND c.status = 'prospect' AND {due}
      AND NOT EXISTS (SELECT 1 FROM exempt e WHERE e.customer_id = c.id)
    LIMIT $5
    FOR UPDATE OF c SKIP LOCKED
),
moved AS (
    UPDATE customers c SET owner_membership_id = NULL, updated_at = now()
    FROM due, rules r
    WHERE c.tenant = $1 AND c.id = due.id AND r.grade = c.grade
      AND c.owner_membership_id = due.from_owner AND c.status = 'prospect' AND {due}
    RETURNING c.id, due.from_owner
)
SELECT (SELECT count(*) FROM due) AS picked,
    {_APPEND_MOVED} AS moved
FROM (SELECT array_agg(id ORDER BY id) AS ids, array_agg(from_owner ORDER BY id) AS froms,
             array_agg(NULL::uuid) AS tos FROM moved) m
"""


async def reclaim_batch(tx: Tx, rules: PoolRules, batch: int = BATCH) -> tuple[int, int]:
    """Reclaim up to ``batch`` due customers of the transaction's tenant: (picked, moved)."""
    row = await tx.fetchrow(_sweep_sql(rules), tx.tenant_id, *rules.sql_arrays(), batch, REASON)
    assert row is not None
    return int(row["picked"]), int(row["moved"] or 0)


async def reclaim_tenant(tenant_id: UUID, batch: int = BATCH) -> int:
    """Reclaim every due customer of one tenant, ``batch`` per transaction; returns how many."""
    scope = TenantScope.system(tenant_id)
    total = 0
    while True:
        async with scope.tx() as tx:
            rules = await load_rules(tx)
            picked, moved = await reclaim_batch(tx, rules, batch)
        total += moved
        if picked < batch:
            return total


def _warnings_sql(rules: PoolRules) -> str:
    soon = due_condition_sql(rules, shift="$5")
    return f"""
WITH {RULES_CTE.format(g="$2", f="$3", d="$4")},
exempt AS ({reclaim_exempt_customer_ids_sql("$1")}),
soon AS (
    SELECT c.id, c.full_name, c.owner_membership_id, {due_at_sql()} AS due_at
    FROM customers c JOIN rules r ON r.grade = c.grade
    WHERE c.tenant = $1 AND c.owner_membership_id IS NOT NULL AND c.status = 'prospect' AND {soon}
      AND NOT EXISTS (SELECT 1 FROM exempt e WHERE e.customer_id = c.id)
),
ins AS (
    INSERT INTO notifications (tenant, membership_id, kind, subject_type, subject_id, params, dedupe_key)
    SELECT $1, s.owner_membership_id, 'reclaim_warning', 'customer', s.id,
        jsonb_build_object('customer', s.full_name, 'date', to_char(s.due_at AT TIME ZONE $6, 'YYYY-MM-DD'),
                           'due_at', s.due_at),
        'reclaim_warning:' || s.id || ':' || to_char(s.due_at AT TIME ZONE $6, 'YYYY-MM-DD')
    FROM soon s WHERE s.due_at > now()
    ON CONFLICT (tenant, dedupe_key) DO NOTHING
    RETURNING membership_id, subject_id, params, dedupe_key
)
SELECT ins.subject_id, ins.params->>'customer' AS customer, ins.params->>'date' AS date, ins.dedupe_key,
    u.email, coalesce(u.locale, $7) AS locale
FROM ins JOIN memberships m ON m.tenant = $1 AND m.id = ins.membership_id JOIN users u ON u.id = m.user_id
WHERE m.active
"""


async def warn_tenant(tenant_id: UUID, time_zone: str, locale: str) -> int:
    """Warn owners of customers due within ``warning_days``: a notification and an email each, once
    per customer and due date. Returns the number of new warnings."""
    scope = TenantScope.system(tenant_id)
    async with scope.tx() as tx:
        rules = await load_rules(tx)
        if rules.warning_days <= 0:
            return 0
        rows = await tx.fetch(
            _warnings_sql(rules), tenant_id, *rules.sql_arrays(), rules.warning_days, time_zone, locale
        )
        base = get_settings().public_url
        for row in rows:  # only the warnings inserted just now; each email keyed like its notification
            await mail.queue_email(
                tx,
                to=row["email"],
                template="reclaim_warning",
                locale=row["locale"],
                key=row["dedupe_key"],
                customer=row["customer"],
                date=row["date"],
                link=f"{base}/customers/{row['subject_id']}",
            )
    return len(rows)
