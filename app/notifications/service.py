"""In-app notifications: what producers (cron jobs, services) tell one member. The text is rendered
when read, in the reader's language, from ``kind`` and ``params``; a member sees only their own
(anyone else's id is 404). Every producer writes them through :func:`notify`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from app.db import Tx
from app.errors import NotFound
from app.i18n import N_, translate
from app.notifications.schemas import NotificationRead
from app.outbound.chat_fanout import fan_out
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct
from app.sql import Params
from tenants.scope import TenantScope

# kind -> message id; params fill the placeholders.
KINDS: dict[str, str] = {
    "reclaim_warning": N_("{customer} returns to the pool on {date} unless it gets a follow-up"),
    # deals: approval decisions, sent to the requester (app.deals.approvals)
    "quote_approved": N_("Your quote (round {round}) for {deal} was approved"),
    "quote_rejected": N_("Your quote (round {round}) for {deal} was rejected: {comment}"),
    "approval_requested": N_("{member} asks for your approval on {deal}"),
    "stage_approved": N_("Your move of {deal} to {stage} was approved"),
    "stage_rejected": N_("Your move of {deal} to {stage} was rejected: {comment}"),
    "registration_approved": N_("Your claim of {customer}, registered with {vendor}, was approved"),
    "registration_rejected": N_(
        "Your claim of {customer}, registered with {vendor}, was rejected: {comment}"
    ),
    # deals: a vendor registration's protection ends soon (app.deals.registrations.reminders), to the owner
    "registration_expiring": N_("The registration of {customer} with {vendor} ends on {until}"),
    # sales: a renewal deal made before a service period ends (app.sales.growth.renewals), to the owner
    "renewal_created": N_(
        "The maintenance of {deal} ends on {until}: a renewal deal and a return visit are ready"
    ),
    # handover (app.handover): receivers of a handover
    "handover_received": N_("{count} customers were handed over to you: {reason}"),
    # sales field work (app.sales.field.visit_plans, app.sales.field.incidents)
    "visit_plan_submitted": N_("{member} submitted a visit plan for {date}"),
    "visit_plan_approved": N_("Your visit plan for {date} was approved"),
    "visit_plan_returned": N_("Your visit plan for {date} was returned: {comment}"),
    "market_incident": N_("{member} reported a serious market incident: {title}"),
    # customers: a company entered again (撞单), to the managers of its territory (app.customers.duplicates)
    "customer_conflict": N_(
        "{member} tried to enter {customer}, already a customer of {owner} in {territory}"
    ),
    "customer_conflict_pool": N_("{member} tried to enter {customer}, already in the pool of {territory}"),
    "customer_conflicts_imported": N_(
        "{member}'s import found {count} companies that are already customers of other members"
    ),
    # customers: cross-territory requests (app.customers.access_requests): to the target territory's
    # managers, then the decision to the requester
    "cross_territory_requested": N_("{member} asks to work {target}, outside their territory"),
    "cross_territory_approved": N_("Your request to work {target} was approved, until {until}"),
    "cross_territory_rejected": N_("Your request to work {target} was rejected: {comment}"),
    # inbound leads (app.leads.intake): new ones to the territory's managers, a known company to its
    # owner (or, in the pool, to the managers)
    "lead_received": N_("A new lead arrived in the pool: {customer}"),
    "leads_received": N_("{count} new leads arrived in the pool, the first {customer}"),
    "lead_known": N_("{customer} inquired again ({contact}): follow it up"),
    "lead_known_pool": N_("{customer}, in the pool, inquired again ({contact})"),
    # signing: a contract (envelope) signed by everyone, to the member who sent it (app.signing.jobs)
    "contract_signed": N_("{title} was signed by everyone"),
    # outbound: a webhook endpoint failing for a day and more was disabled, to owners and admins
    "webhook_disabled": N_(
        "The webhook endpoint {url} was disabled after {failures} failed deliveries in a row since {since}"
    ),
    # deals: the daily collection reminder (app.deals.reminders), to each deal owner
    "collections_due": N_(
        "{count} collection items need your attention: {overdue} overdue, {due_soon} due within 3 days"
    ),
}
_COLUMNS = "id, kind, subject_type, subject_id, params, created_at, read_at"


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification for one member. ``dedupe_key`` is unique per tenant: a notice whose key was
    used before is not written again (producers that may run twice — crons, retried jobs — stay
    idempotent by choosing the key)."""

    membership_id: UUID
    kind: str
    dedupe_key: str
    subject_type: str | None = None
    subject_id: UUID | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


_INSERT = """
INSERT INTO notifications (tenant, membership_id, kind, subject_type, subject_id, params, dedupe_key)
SELECT $1, n.m, n.k, n.st, n.si, n.p::jsonb, n.d
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[]) AS n (m, k, st, si, p, d)
ON CONFLICT (tenant, dedupe_key) DO NOTHING
RETURNING dedupe_key, id, membership_id, kind, subject_id
"""


async def notify(tx: Tx, notices: Iterable[Notice]) -> set[str]:
    """Write ``notices`` in ``tx``'s tenant (one statement whatever their number); returns the keys
        of those written now — a key already used (before, or earlier in ``notices``) is skipped, so a
        caller sends its email only for the keys returned. ``params`` are stored as JSON (values that
        are not JSON types as their ``str``). ``ValueError`` for a ``kind`` not in :data:`KINDS`. Those
    written go on to the team-chat robots of their recipients' territories (``app.outbound.chat_fanout``),
    in the same transaction."""
    batch = list(notices)
    if not batch:
        return set()
    unknown = {n.kind for n in batch} - KINDS.keys()
    if unknown:
        raise ValueError(f"unknown notification kinds: {sorted(unknown)}")
    rows = await tx.fetch(
        _INSERT,
        tx.tenant_id,
        [n.membership_id for n in batch],
        [n.kind for n in batch],
        [n.subject_type for n in batch],
        [n.subject_id for n in batch],
        [json.dumps(dict(n.params), default=str) for n in batch],
        [n.dedupe_key for n in batch],
    )
    await fan_out(tx, rows)  # on to the team-chat robots of the recipients' territories
    return {r["dedupe_key"] for r in rows}


def _read(row: asyncpg.Record, locale: str) -> NotificationRead:
    params: dict[str, Any] = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    template = KINDS.get(row["kind"], row["kind"])
    return to_struct(
        NotificationRead,
        row,
        message=translate(locale, template, **{k: str(v) for k, v in params.items()}),
        params=params,
        read=row["read_at"] is not None,
    )


async def list_notifications(
    scope: TenantScope, *, unread: bool | None = None, limit: int = 50, cursor: str | None = None
) -> Page[NotificationRead]:
    """The caller's notifications, newest first; ``unread=True`` only the unread ones."""
    check_limit(limit)
    at, after_id = decode_time_id_cursor(cursor) or (None, None)
    if scope.membership_id is None:
        return Page(items=[])
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM notifications WHERE tenant = $1 AND membership_id = $2"
            " AND ($3::boolean IS NOT TRUE OR read_at IS NULL)"
            " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $6",
            scope.tenant_id,
            scope.membership_id,
            unread,
            at,
            after_id,
            limit + 1,
        )
    items = [_read(r, scope.locale) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


def unread_sql(p: Params, membership_id: UUID) -> str:
    """The member's unread count as one scalar subquery (the tenant is ``$1``), so a page can read it
    in the same round trip as its other small reads (the app shell's)."""
    return (
        "(SELECT count(*) FROM notifications WHERE tenant = $1"
        f" AND membership_id = {p(membership_id)} AND read_at IS NULL)"
    )


async def unread_count(scope: TenantScope) -> int:
    """How many of the caller's notifications are unread (0 for a job's scope)."""
    if scope.membership_id is None:
        return 0
    p = Params(scope.tenant_id)
    sql = "SELECT " + unread_sql(p, scope.membership_id)
    async with scope.tx() as tx:
        return int(await tx.fetchval(sql, *p.values))


async def mark_read(scope: TenantScope, notification_id: UUID) -> NotificationRead:
    """Mark one of the caller's notifications read (again: keeps the first read time)."""
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "UPDATE notifications SET read_at = coalesce(read_at, now())"
            f" WHERE tenant = $1 AND id = $2 AND membership_id = $3 RETURNING {_COLUMNS}",
            scope.tenant_id,
            notification_id,
            scope.membership_id,
        )
    if row is None:
        raise NotFound("No notification with this id")
    return _read(row, scope.locale)


async def mark_all_read(scope: TenantScope) -> int:
    """Mark every unread notification of the caller read; answers how many were unread."""
    if scope.membership_id is None:
        return 0
    async with scope.tx() as tx:
        status = await tx.execute(
            "UPDATE notifications SET read_at = now()"
            " WHERE tenant = $1 AND membership_id = $2 AND read_at IS NULL",
            scope.tenant_id,
            scope.membership_id,
        )
    return int(status.split()[-1])
