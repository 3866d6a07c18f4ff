"""Daily briefings: one digest email per member and local day, in the member's language.

- Everyone with field work: today's visit plan, follow-ups due (``customers.next_followup_at`` by
  the end of today), open tasks due (when the tasks table of the cadences exists), and customers
  close to auto-reclaim (within the pool rules' ``warning_days``, at least 3 days).
- Managers (and owners/admins, over the whole tenant): approvals waiting for them (deal approvals
  in their subtrees and submitted visit plans of their reps), the team's activity yesterday
  (follow-ups, deal stage moves), open market incidents and the open duplicate entries (撞单) of the
  territories they manage (those they resolve: ``GET /api/v1/customer-conflicts``).

A member with nothing to say gets nothing. The cron runs hourly and sends from ``BRIEFING_HOUR``
local time (for ``SEND_HOURS``); the email key ``briefing:<member>:<day>`` makes it once per member and day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog

from app import mail, pages
from app.customers.pool.rules import (
    RULES_JOIN,
    due_at_sql,
    load_rule_set,
    reclaim_exempt_customer_ids_sql,
    rules_cte,
)
from app.db import Tx
from app.i18n import N_, translate
from app.localtime import local_today
from app.sales.field.measures import BOUNDS
from tenants.access import managed_territory_ids, reach_sql, team_member_ids
from tenants.scope import MEMBER_SQL, TenantScope

log = structlog.get_logger(__name__)
BRIEFING_HOUR = 7
SEND_HOURS = 3  # the hourly cron tries from BRIEFING_HOUR for this many hours (a failed run is retried)
LIST_LIMIT = 10
PURPOSES = {
    "development": N_("development"),
    "research": N_("research"),
    "collection": N_("collection"),
    "service": N_("service"),
    "complaint": N_("complaint"),
    "order": N_("order"),
}
_PLAN_STATUSES = {
    "draft": N_("draft"),
    "submitted": N_("submitted"),
    "approved": N_("approved"),
    "returned": N_("returned"),
}


async def _rep_part(tx: Tx, member: TenantScope, day: date) -> dict[str, Any]:
    tenant_id, mid, tz, locale = member.tenant_id, member.membership_id, member.time_zone, member.locale
    plan_items = await tx.fetch(
        "SELECT p.status, i.planned_time, i.purpose, i.followup_id, c.full_name FROM visit_plans p"
        " JOIN visit_plan_items i ON i.tenant = p.tenant AND i.plan_id = p.id"
        " JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id"
        " WHERE p.tenant = $1 AND p.membership_id = $2 AND p.plan_date = $3 ORDER BY i.planned_time,"
        " i.position",
        tenant_id,
        mid,
        day,
    )
    end_of_day = BOUNDS.format(d="$3::date + 1", tz="$4")
    due = await tx.fetch(
        "SELECT c.full_name, c.next_followup_at, count(*) OVER () AS total FROM customers c"
        " WHERE c.tenant = $1 AND c.owner_membership_id = $2 AND c.status IN ('prospect', 'won')"
        f" AND c.next_followup_at < {end_of_day} ORDER BY c.next_followup_at LIMIT $5",
        tenant_id,
        mid,
        day,
        tz,
        LIST_LIMIT,
    )
    tasks = 0
    if await tx.fetchval("SELECT to_regclass('sales_tasks') IS NOT NULL"):
        tasks = await tx.fetchval(
            "SELECT count(*) FROM sales_tasks WHERE tenant = $1 AND assignee_membership_id = $2"
            " AND status = 'open' AND due_on <= $3",
            tenant_id,
            mid,
            day,
        )
    rules = await load_rule_set(tx)
    reclaim = await tx.fetch(
        f"WITH {rules_cte(3)}, exempt AS"
        f" ({reclaim_exempt_customer_ids_sql('$1')}),"
        f" soon AS (SELECT c.full_name, {due_at_sql()} AS due_at, r.warning_days FROM customers c"
        f" JOIN rules r ON {RULES_JOIN}"
        " WHERE c.tenant = $1 AND c.owner_membership_id = $2 AND c.status = 'prospect'"
        " AND NOT EXISTS (SELECT 1 FROM exempt e WHERE e.customer_id = c.id))"
        " SELECT full_name, to_char(due_at AT TIME ZONE $9, 'YYYY-MM-DD') AS due_on FROM soon"
        " WHERE due_at < now() + make_interval(days => greatest(warning_days, 3)) ORDER BY due_at LIMIT $10",
        tenant_id,
        mid,
        *rules.sql_arrays(),
        tz,
        LIST_LIMIT,
    )
    status = plan_items[0]["status"] if plan_items else None
    return {
        "plan_status": translate(locale, _PLAN_STATUSES[status]) if status else None,
        "plan": [
            {
                "time": i["planned_time"].strftime("%H:%M"),
                "customer": i["full_name"],
                "purpose": translate(locale, PURPOSES[i["purpose"]]),
                "done": i["followup_id"] is not None,
            }
            for i in plan_items
        ],
        "due_total": int(due[0]["total"]) if due else 0,
        "due": [{"customer": d["full_name"]} for d in due],
        "tasks": int(tasks or 0),
        "reclaim": [{"customer": r["full_name"], "date": r["due_on"]} for r in reclaim],
    }


async def _manager_part(tx: Tx, member: TenantScope, day: date) -> dict[str, Any]:
    tenant_id, tz = member.tenant_id, member.time_zone
    everything = member.at_least("admin")
    managed = None if everything else await managed_territory_ids(tx, member)
    team = await team_member_ids(tx, member)
    approvals = await tx.fetchval(
        "SELECT count(*) FROM approvals a LEFT JOIN deals d ON d.tenant = a.tenant AND d.id = a.deal_id"
        " LEFT JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
        " WHERE a.tenant = $1 AND a.status = 'pending' AND a.requested_by IS DISTINCT FROM $2"
        f" AND {reach_sql('coalesce(c.territory_id, a.territory_id)', '$3')}",
        tenant_id,
        member.membership_id,
        managed,
    )
    plans = await tx.fetchval(
        "SELECT count(*) FROM visit_plans WHERE tenant = $1 AND status = 'submitted' AND membership_id <> $2"
        f" AND {reach_sql('membership_id', '$3')}",
        tenant_id,
        member.membership_id,
        team,
    )
    lo, hi = BOUNDS.format(d="$2::date - 1", tz="$3"), BOUNDS.format(d="$2", tz="$3")
    activity = await tx.fetch(
        "SELECT u.name, count(*) AS n FROM customer_followups f"
        " JOIN memberships m ON m.tenant = f.tenant AND m.id = f.author_membership_id"
        " LEFT JOIN users u ON u.id = m.user_id"
        f" WHERE f.tenant = $1 AND f.happened_at >= {lo} AND f.happened_at < {hi}"
        f" AND {reach_sql('f.author_membership_id', '$4')} GROUP BY u.name ORDER BY n"
        " DESC, u.name",
        tenant_id,
        day,
        tz,
        team,
    )
    moves = await tx.fetchval(
        "SELECT count(*) FROM deal_stage_changes s JOIN deals d ON d.tenant = s.tenant AND d.id = s.deal_id"
        " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
        f" WHERE s.tenant = $1 AND s.at >= {lo} AND s.at < {hi} AND s.from_stage IS NOT NULL"
        f" AND {reach_sql('c.territory_id', '$4')}",
        tenant_id,
        day,
        tz,
        managed,
    )
    incidents = await tx.fetch(
        "SELECT title, severity, count(*) OVER () AS total FROM market_incidents WHERE tenant = $1"
        f" AND status = 'open' AND {reach_sql('membership_id', '$2')}"
        " ORDER BY severity DESC, created_at DESC LIMIT $3",
        tenant_id,
        team,
        LIST_LIMIT,
    )
    conflicts = await tx.fetch(
        "SELECT c.full_name, u.name, count(*) OVER () AS total FROM customer_conflicts x"
        " JOIN customers c ON c.tenant = x.tenant AND c.id = x.customer_id"
        " LEFT JOIN memberships m ON m.tenant = x.tenant AND m.id = x.attempted_by"
        " LEFT JOIN users u ON u.id = m.user_id"
        f" WHERE x.tenant = $1 AND x.status = 'open' AND {reach_sql('x.territory_id', '$2')}"
        " ORDER BY x.created_at DESC, x.id DESC LIMIT $3",
        tenant_id,
        managed,
        LIST_LIMIT,
    )
    return {
        "conflicts_total": int(conflicts[0]["total"]) if conflicts else 0,
        "conflicts": [{"customer": c["full_name"], "member": c["name"] or "?"} for c in conflicts],
        "approvals": int(approvals),
        "plans_waiting": int(plans),
        "activity": [{"name": a["name"] or "?", "followups": int(a["n"])} for a in activity],
        "followups_yesterday": sum(int(a["n"]) for a in activity),
        "deal_moves": int(moves),
        "incidents_total": int(incidents[0]["total"]) if incidents else 0,
        "incidents": [{"title": i["title"], "serious": i["severity"] == "serious"} for i in incidents],
    }


def _has_news(rep: dict[str, Any], manager: dict[str, Any] | None) -> bool:
    if rep["plan"] or rep["due_total"] or rep["tasks"] or rep["reclaim"]:
        return True
    return manager is not None and any(
        manager[k]
        for k in (
            "approvals",
            "plans_waiting",
            "followups_yesterday",
            "deal_moves",
            "incidents_total",
            "conflicts_total",
        )
    )


async def brief_tenant(scope: TenantScope, day: date | None = None) -> int:
    """Queue the briefings of one tenant (its system scope) for ``day``, today in its time zone when
    left out (idempotent); returns how many were new."""
    sent = 0
    day = day or local_today(scope.time_zone)
    async with scope.tx() as tx:
        rows = await tx.fetch(MEMBER_SQL + " WHERE m.tenant = $1 AND m.active ORDER BY m.id", scope.tenant_id)
        for member in map(TenantScope.for_member, rows):
            key = f"briefing:{member.membership_id}:{day.isoformat()}"
            if await tx.fetchval(
                "SELECT EXISTS (SELECT 1 FROM emails WHERE tenant = $1 AND idempotency_key = $2)",
                scope.tenant_id,
                key,
            ):
                continue
            rep = await _rep_part(tx, member, day)
            manager = await _manager_part(tx, member, day) if member.at_least("manager") else None
            if not _has_news(rep, manager):
                continue
            if await mail.queue_email(
                tx,
                to=member.email or "",
                template="briefing",
                locale=member.locale,
                key=key,
                name=member.name or "",
                day=day.isoformat(),
                rep=rep,
                manager=manager,
                link=pages.url(pages.HOME),
            ):
                sent += 1
    return sent
