"""The sales funnel (漏斗): calls → conversations → appointments → presentations → sales, per rep,
for a period (local dates of the tenant, both ends included), a territory subtree, or one member.

The steps count follow-ups by their ``result`` (a step counts the results that got at least that
far, whatever the follow-up's kind):

- calls: follow-ups of kind ``call``;
- conversations: result conversation, appointment, presentation or order;
- appointments: result appointment, presentation or order;
- presentations: result presentation or order, or a follow-up of kind ``demo``;
- sales: distinct customers with an ``order`` result or a deal reaching signed or won in the period
  (a customer counts once per rep even when both happen). Sales count for the deal's owner.

Rates are each step over the step before (and calls → sales), as floats rounded to 4 decimals: they
are ratios, not money, so a float is exact enough and plain JSON; null when the step before is 0
(a step may exceed the one before, e.g. conversations from visits, so a rate may be above 1).

One set-based query (two aggregates joined per rep). A rep sees their own funnel; a manager the
follow-ups and deals on customers in their territories; owner/admin everything. The tenant-wide
query reads only the index ``customer_followups_period``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from uuid import UUID

import asyncpg

from app.errors import Forbidden, ValidationFailed
from app.localtime import local_today, zone
from app.rows import to_struct
from app.sales.growth.schemas import FunnelRates, FunnelRead, FunnelRow
from app.sql import Params
from tenants.access import managed_territory_ids, manages, territory_in_subtree_sql, territory_path
from tenants.scope import TenantScope

MAX_DAYS: Final = 1100
STEPS: Final = ("calls", "conversations", "appointments", "presentations", "sales")
_NOBODY: Final = "'00000000-0000-0000-0000-000000000000'::uuid"


def _bounds(date_from: date, date_to: date, time_zone: str) -> tuple[datetime, datetime]:
    tz = zone(time_zone)
    start = datetime.combine(date_from, time(), tz).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _row(membership_id: UUID | None, name: str | None, counts: dict[str, int]) -> FunnelRow:
    c = counts
    return to_struct(
        FunnelRow,
        c,
        membership_id=membership_id,
        name=name,
        rates=FunnelRates(
            call_to_conversation=_ratio(c["conversations"], c["calls"]),
            conversation_to_appointment=_ratio(c["appointments"], c["conversations"]),
            appointment_to_presentation=_ratio(c["presentations"], c["appointments"]),
            presentation_to_sale=_ratio(c["sales"], c["presentations"]),
            call_to_sale=_ratio(c["sales"], c["calls"]),
        ),
    )


def funnel_sql(p: Params, *, member: str | None, territory: str | None) -> str:
    """The query; ``$1`` tenant, ``$2``/``$3`` the period; ``member`` a parameter narrowing to one
    member; ``territory`` a condition on the customer row ``c`` (joined only when given)."""
    f_join = " JOIN customers c ON c.tenant = f.tenant AND c.id = f.customer_id" if territory else ""
    d_join = " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id" if territory else ""
    f_where = "f.tenant = $1 AND f.happened_at >= $2 AND f.happened_at < $3"
    d_where = "sc.tenant = $1 AND sc.to_stage IN ('signed', 'won') AND sc.at >= $2 AND sc.at < $3"
    if member:
        f_where += f" AND f.author_membership_id = {member}"
        d_where += f" AND d.owner_membership_id = {member}"
    if territory:
        f_where += f" AND {territory}"
        d_where += f" AND {territory}"
    return f"""
WITH steps AS (
    SELECT f.author_membership_id AS rep,
        count(*) FILTER (WHERE f.kind = 'call') AS calls,
        count(*) FILTER (WHERE f.result IN ('conversation', 'appointment', 'presentation', 'order'))
            AS conversations,
        count(*) FILTER (WHERE f.result IN ('appointment', 'presentation', 'order')) AS appointments,
        count(*) FILTER (WHERE f.result IN ('presentation', 'order') OR f.kind = 'demo') AS presentations
    FROM customer_followups f{f_join}
    WHERE {f_where}
    GROUP BY f.author_membership_id
),
sales AS (
    SELECT x.rep, count(DISTINCT x.customer_id) AS sales FROM (
        SELECT f.author_membership_id AS rep, f.customer_id FROM customer_followups f{f_join}
        WHERE {f_where} AND f.result = 'order'
        UNION ALL
        SELECT d.owner_membership_id, d.customer_id FROM deal_stage_changes sc
        JOIN deals d ON d.tenant = sc.tenant AND d.id = sc.deal_id{d_join}
        WHERE {d_where}
    ) x GROUP BY x.rep
)
SELECT NULLIF(COALESCE(s.rep, f.rep), {_NOBODY}) AS rep, u.name,
    COALESCE(f.calls, 0) AS calls, COALESCE(f.conversations, 0) AS conversations,
    COALESCE(f.appointments, 0) AS appointments, COALESCE(f.presentations, 0) AS presentations,
    COALESCE(s.sales, 0) AS sales
FROM (SELECT COALESCE(rep, {_NOBODY}) AS rep, calls, conversations, appointments, presentations FROM steps) f
FULL JOIN (SELECT COALESCE(rep, {_NOBODY}) AS rep, sales FROM sales) s ON s.rep = f.rep
LEFT JOIN memberships m ON m.tenant = $1 AND m.id = COALESCE(s.rep, f.rep)
LEFT JOIN users u ON u.id = m.user_id
ORDER BY COALESCE(s.sales, 0) DESC, COALESCE(f.calls, 0) DESC, u.name NULLS LAST
"""


def _rows(rows: list[asyncpg.Record]) -> tuple[FunnelRow, list[FunnelRow]]:
    reps = [_row(r["rep"], r["name"], {s: int(r[s]) for s in STEPS}) for r in rows]
    total = {s: sum(int(r[s]) for r in rows) for s in STEPS}
    return _row(None, None, total), reps


async def get_funnel(
    scope: TenantScope,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    territory_id: UUID | None = None,
    membership_id: UUID | None = None,
) -> FunnelRead:
    """The funnel for the period (default: this month to today)."""
    today = local_today(scope.time_zone)
    date_to = date_to or today
    date_from = date_from or date_to.replace(day=1)
    if date_from > date_to:
        raise ValidationFailed.field("date_to", "The end date is before the start date")
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed.field("date_to", "Use a period of at most {days} days", days=MAX_DAYS)
    is_manager = scope.at_least("manager")
    if not is_manager:
        if membership_id is not None and membership_id != scope.membership_id:
            raise Forbidden("A rep sees only their own funnel")
        membership_id = scope.membership_id
    start, end = _bounds(date_from, date_to, scope.time_zone)
    async with scope.tx() as tx:
        p = Params(scope.tenant_id, start, end)
        conditions: list[str] = []
        if territory_id is not None:
            path = await territory_path(tx, scope.tenant_id, territory_id)
            if is_manager and not await manages(tx, scope, territory_id):
                raise Forbidden("This territory is outside the ones you manage")
            conditions.append(territory_in_subtree_sql(p(path)))
        if is_manager and not scope.at_least("admin") and territory_id is None:
            conditions.append(f"c.territory_id = ANY({p(await managed_territory_ids(tx, scope))}::uuid[])")
        member = p(membership_id) if membership_id is not None else None
        sql = funnel_sql(p, member=member, territory=" AND ".join(conditions) or None)
        rows = await tx.fetch(sql, *p.values)
    total, reps = _rows(rows)
    return FunnelRead(
        date_from=date_from,
        date_to=date_to,
        territory_id=territory_id,
        membership_id=membership_id,
        total=total,
        reps=reps,
    )
