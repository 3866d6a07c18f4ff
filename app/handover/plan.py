"""Handover plans (客户移交): select customers, distribute them to receivers, preview — set-based.

A plan is a draft until executed. Its assignment lives in ``handover_items``: one row per selected
customer with the owner and ``updated_at`` seen when it was planned (execute refuses if either moved),
the receiver (``to_membership_id``; NULL with ``blocked`` NULL means back to the pool) or why it
cannot move (``blocked``). The rows are written by one ``INSERT … SELECT``: customers are ordered
(grade, name, id) and matched to receiver *slots* — receiver i gets ``quota[i]`` slots spread evenly
over the sequence — so every receiver gets a mix of grades. Only the quotas (one number per receiver)
are computed in Python (:func:`quotas`).

Who: a manager inside the territories they manage (customers outside are listed as blocked; receivers
must be members of territories they manage, else 422), or an owner/admin; a rep never (403). A plan
is seen by owners/admins, its author, and a manager whose subtree holds all its customers
(``tenants.access.handovers``, also the filter of ``GET /api/v1/handovers``); anyone else, and another
tenant, gets 404.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from app import audit
from app.customers.pool.rules import GRADES, load_rules
from app.db import Tx
from app.deals.registrations.gates import registration_conflicts
from app.errors import NotFound, ValidationFailed
from app.handover import carry, envelopes, sheet_signing
from app.handover.assign import active_targets, build_items, check_create, check_receivers
from app.handover.realign.plan import insert_realignment
from app.handover.realign.plan import replan as realign_replan
from app.handover.realign.preview import preview as realign_preview
from app.handover.schemas import (
    BlockedCustomer,
    HandoverCreate,
    HandoverOptions,
    HandoverPreview,
    HandoverRead,
    HandoverSelection,
    HandoverSummary,
    HandoverTarget,
    RealignCreate,
    RealignPreview,
    ReceiverPreview,
    SkippedTarget,
)
from app.i18n import N_, translate
from app.localtime import local_today
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from tenants.access import managed_territory_ids, plan_visible_sql, sees_plan
from tenants.scope import TenantScope

UNDO_WINDOW = timedelta(hours=24)
OPEN_DEAL = envelopes.OPEN_DEAL
CHANGES = envelopes.CHANGES
BLOCKED = {
    "closed": N_("the customer is archived (closed business)"),
    "not_managed": N_("the customer is outside the territories you manage"),
    "not_found": N_("no customer with this id"),
    "already_owner": N_("the receiver already owns it"),
    "in_pool": N_("it is already in the pool"),
    "no_receiver": N_("no receiver is left for it"),
    # realignments
    "owner_not_member": N_("its owner does not work the territory it moves to"),
    "not_in_territory": N_("the customer is not in the territory being split"),
}
SKIPPED = {
    "inactive": N_("the member is deactivated"),
    "unknown": N_("no member with this id"),
}


# --- reading -------------------------------------------------------------------------------------


async def load_plan(tx: Tx, scope: TenantScope, plan_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    """The plan if the caller may act on it (owner/admin; a manager their own plans and those whose
    customers all lie inside their subtree), else 404."""
    scope.require("manager")
    row = await tx.fetchrow(
        "SELECT * FROM handover_plans WHERE tenant = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        tx.tenant_id,
        plan_id,
    )
    if row is None or not await sees_plan(tx, scope, row):
        raise NotFound("No handover with this id")
    return row


def _load(value: Any, type_: Any) -> Any:
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=type_)
    return msgspec.convert(value, type=type_)


def create_data(row: asyncpg.Record) -> HandoverCreate:
    """The plan's stored request (to plan it again from fresh data)."""
    return HandoverCreate(
        reason=row["reason"],
        selection=_load(row["selection"], HandoverSelection),
        targets=_load(row["targets"], list[HandoverTarget]),
        mode=row["mode"],
        options=_load(row["options"], HandoverOptions),
    )


_BY_RECEIVER = (
    "SELECT i.to_membership_id AS m, c.grade, count(*) AS n,"
    " count(*) FILTER (WHERE c.status = 'prospect') AS prospects"
    " FROM handover_items i JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id"
    f" WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} GROUP BY 1, 2"
)
_DEALS = (
    "SELECT i.to_membership_id AS m, count(d.id) AS n, coalesce(sum(d.amount), 0) AS amount"
    " FROM handover_items i JOIN deals d ON d.tenant = i.tenant AND d.customer_id = i.customer_id"
    f" AND d.owner_membership_id = i.from_membership_id AND d.{OPEN_DEAL}"
    f" WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} GROUP BY 1"
)
_DEALS_MOVED = (
    "SELECT h.to_membership_id AS m, count(*) AS n, coalesce(sum(d.amount), 0) AS amount"
    " FROM handover_deals h JOIN deals d ON d.tenant = h.tenant AND d.id = h.deal_id"
    " WHERE h.tenant = $1 AND h.plan_id = $2 GROUP BY 1"
)
_BLOCKED = (
    "SELECT i.customer_id, c.full_name, i.blocked, count(*) OVER () AS total FROM handover_items i"
    " LEFT JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id"
    " WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NOT NULL ORDER BY c.full_name, i.customer_id"
    " LIMIT 200"
)

_MOVING = (
    "SELECT customer_id, to_membership_id AS m FROM handover_items"
    " WHERE tenant = $1 AND plan_id = $2 AND to_membership_id IS NOT NULL AND blocked IS NULL"
)


async def preview(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> HandoverPreview:
    """Per receiver: customers (by grade), open deals and their amount, owned now and after, caps."""
    plan_id = row["id"]
    data = create_data(row)
    by_receiver = await tx.fetch(_BY_RECEIVER, tx.tenant_id, plan_id)
    # once executed, the deals are no longer the previous owner's: count those the execution moved
    deals_sql = _DEALS if row["status"] == "draft" else _DEALS_MOVED
    deals = (
        {r["m"]: r for r in await tx.fetch(deals_sql, tx.tenant_id, plan_id)}
        if data.options.carry_deals
        else {}
    )
    receivers = sorted({r["m"] for r in by_receiver if r["m"] is not None}, key=str)
    carried = await envelopes.counts(tx, plan_id, scope.membership_id) if data.options.carry_envelopes else {}
    work = await carry.counts(tx, plan_id, local_today(scope.time_zone), executed=row["status"] != "draft")
    rules = await load_rules(tx)
    owned_rows = await tx.fetch(
        "SELECT c.owner_membership_id AS m, c.grade, count(*) AS n FROM customers c WHERE c.tenant = $1"
        " AND c.owner_membership_id = ANY($2::uuid[]) AND c.status = 'prospect' GROUP BY 1, 2",
        tx.tenant_id,
        receivers,
    )
    names = dict(
        await tx.fetch(
            "SELECT m.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant = $1 AND m.id = ANY($2::uuid[])",
            tx.tenant_id,
            receivers,
        )
    )
    out: list[ReceiverPreview] = []
    for m in receivers:
        mine = [r for r in by_receiver if r["m"] == m]
        by_grade = {g: sum(r["n"] for r in mine if r["grade"] == g) for g in GRADES}
        incoming = {g: sum(r["prospects"] for r in mine if r["grade"] == g) for g in GRADES}
        now = {g: sum(r["n"] for r in owned_rows if r["m"] == m and r["grade"] == g) for g in GRADES}
        owned_now = sum(now.values())
        owned_after = owned_now + sum(incoming.values())
        over_grades = [
            g
            for g in GRADES
            if incoming[g] and (cap := rules.grade(g).owned_cap) is not None and now[g] + incoming[g] > cap
        ]
        deal = deals.get(m)
        out.append(
            ReceiverPreview(
                membership_id=m,
                name=names.get(m) or "",
                customers=sum(by_grade.values()),
                by_grade=by_grade,
                deals=deal["n"] if deal else 0,
                pipeline_amount=Decimal(deal["amount"]) if deal else Decimal(0),
                owned_now=owned_now,
                owned_after=owned_after,
                cap=rules.owned_cap,
                exceeds_cap=owned_after > rules.owned_cap or bool(over_grades),
                grades_over_cap=over_grades,
                envelopes=carried.get(m, 0),
                tasks=work.get(m, {}).get("task", 0),
                return_visits=work.get(m, {}).get("return_visit", 0),
                visit_items=work.get(m, {}).get("visit_item", 0),
            )
        )
    blocked = await tx.fetch(_BLOCKED, tx.tenant_id, plan_id)
    _, skipped = ([], []) if data.mode == "pool" else await active_targets(tx, data.targets)
    to_pool = sum(r["n"] for r in by_receiver if r["m"] is None)
    # a conflict matters before the plan runs: an executed plan's answer does not look again
    moving = await tx.fetch(_MOVING, tx.tenant_id, plan_id) if row["status"] == "draft" else []
    registered = await registration_conflicts(
        tx, [r["customer_id"] for r in moving], [r["m"] for r in moving]
    )
    return HandoverPreview(
        customers=sum(r.customers for r in out) + to_pool,
        to_pool=to_pool,
        deals=sum(r.deals for r in out),
        pipeline_amount=sum((r.pipeline_amount for r in out), Decimal(0)),
        receivers=out,
        over_cap=[r.membership_id for r in out if r.exceeds_cap],
        blocked_count=blocked[0]["total"] if blocked else 0,
        blocked=[
            BlockedCustomer(
                b["customer_id"], b["full_name"], b["blocked"], translate(scope.locale, BLOCKED[b["blocked"]])
            )
            for b in blocked
        ],
        skipped_targets=[
            SkippedTarget(s.membership_id, translate(scope.locale, SKIPPED[s.reason])) for s in skipped
        ],
        envelopes=sum(carried.values()),
        tasks=sum(r.tasks for r in out),
        return_visits=sum(r.return_visits for r in out),
        visit_items=sum(r.visit_items for r in out),
        registration_conflicts=registered,
    )


async def read_plan(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> HandoverRead:
    data = create_data(row)
    executed = row["executed_at"]
    return to_struct(
        HandoverRead,
        row,
        selection=data.selection,
        targets=data.targets,
        options=data.options,
        executed_at=executed,
        undo_until=executed + UNDO_WINDOW if executed and row["status"] == "executed" else None,
        preview=await preview(tx, scope, row),
        realignment=await _realignment(tx, row),
        sheet_signers=await sheet_signing.sheet_signers(tx, row["id"]) if executed else [],
    )


async def _realignment(tx: Tx, row: asyncpg.Record) -> RealignPreview | None:
    if row["kind"] != "realign":
        return None
    return await realign_preview(tx, row)


# --- creating ------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def insert_plan(
    tx: Tx, scope: TenantScope, data: HandoverCreate, *, offboarding: UUID | None = None
) -> asyncpg.Record:
    """Write a draft plan and its assignment in ``tx``; returns the plan row."""
    check_create(data)
    await check_receivers(tx, scope, data.targets)
    s = data.selection
    kind = "offboarding" if offboarding else ("dispatch" if s.pool and not s.owner_ids else "handover")
    plan_id: UUID = await tx.fetchval(
        "INSERT INTO handover_plans (tenant, kind, mode, reason, selection, targets, options,"
        " offboarding_membership_id, created_by)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9) RETURNING id",
        tx.tenant_id,
        kind,
        data.mode,
        data.reason.strip(),
        _json(data.selection),
        _json(data.targets),
        _json(data.options),
        offboarding,
        scope.membership_id,
    )
    await build_items(tx, scope, plan_id, data)
    row = await tx.fetchrow(
        "SELECT * FROM handover_plans WHERE tenant = $1 AND id = $2", tx.tenant_id, plan_id
    )
    assert row is not None
    await audit.record(
        tx,
        scope.user_id,
        "handover.planned",
        "handover_plan",
        plan_id,
        reason=data.reason.strip(),
        data={
            "kind": kind,
            "mode": data.mode,
            "selection": msgspec.to_builtins(data.selection),
            "targets": msgspec.to_builtins(data.targets),
        },
    )
    return row


async def replan(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> asyncpg.Record:
    """Plan a draft again from the current data (after execute found it stale)."""
    if row["kind"] == "realign":
        await realign_replan(tx, scope, row)
    else:
        await build_items(tx, scope, row["id"], create_data(row))
    fresh = await tx.fetchrow(
        "UPDATE handover_plans SET planned_at = now() WHERE tenant = $1 AND id = $2 RETURNING *",
        tx.tenant_id,
        row["id"],
    )
    assert fresh is not None
    return fresh


async def create_plan(scope: TenantScope, data: HandoverCreate) -> HandoverRead:
    """Draft a handover and preview it. 403 for a rep; 422 without a reason, selection or receiver."""
    scope.require("manager")
    check_create(data)
    async with scope.tx() as tx:
        row = await insert_plan(tx, scope, data)
        return await read_plan(tx, scope, row)


async def draft_plan(scope: TenantScope, data: HandoverCreate) -> UUID:
    """Draft a handover without previewing it: for a caller that shows the plan (its preview) next,
    as the wizard does, so the preview's aggregates run once, not twice. Refuses as ``create_plan``."""
    scope.require("manager")
    check_create(data)
    async with scope.tx() as tx:
        plan_id: UUID = (await insert_plan(tx, scope, data))["id"]
    return plan_id


async def create_realignment(scope: TenantScope, data: RealignCreate) -> HandoverRead:
    """Draft a realignment and preview it. 403 for a rep or a manager of only part of it; 422 without
    a reason, for an unknown territory, a cycle, too deep a tree, or a missing choice."""
    scope.require("manager")
    if not data.reason.strip():
        raise ValidationFailed.field("reason", "Give a reason for the handover")
    async with scope.tx() as tx:
        row = await insert_realignment(tx, scope, data)
        return await read_plan(tx, scope, row)


KINDS = ("handover", "dispatch", "offboarding", "realign")
STATUSES = ("draft", "executed", "undone")


async def list_plans(
    scope: TenantScope, *, status: str | None, kind: str | None, limit: int, cursor: str | None
) -> Page[HandoverSummary]:
    """Plans newest first, by status and kind: owner/admin all of them, a manager those they see
    (``tenants.access.handovers``), a rep 403."""
    scope.require("manager")
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", "Unknown status")
    if kind is not None and kind not in KINDS:
        raise ValidationFailed.field("kind", "Unknown kind")
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        everyone = scope.at_least("admin")
        managed = [] if everyone else await managed_territory_ids(tx, scope)
        rows = await tx.fetch(
            "SELECT p.id, p.kind, p.status, p.mode, p.reason, p.created_by, p.created_at, p.executed_at,"
            " p.undone_at, (SELECT count(*) FROM handover_items i WHERE i.tenant = p.tenant"
            "  AND i.plan_id = p.id AND i.blocked IS NULL) AS customers"
            " FROM handover_plans p WHERE p.tenant = $1"
            " AND ($2::text IS NULL OR p.status = $2) AND ($3::text IS NULL OR p.kind = $3)"
            " AND ($4::timestamptz IS NULL OR (p.created_at, p.id) < ($4, $5))"
            f" AND ($6 OR {plan_visible_sql('$7::uuid', '$8::uuid[]')})"
            " ORDER BY p.created_at DESC, p.id DESC LIMIT $9",
            tx.tenant_id,
            status,
            kind,
            after[0] if after else None,
            after[1] if after else None,
            everyone,
            scope.membership_id,
            managed,
            limit + 1,
        )
    items = to_structs(HandoverSummary, rows[:limit])
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return Page(
        items=items, next_cursor=encode_cursor(last["created_at"].isoformat(), last["id"]) if last else None
    )


async def get_plan(scope: TenantScope, plan_id: UUID) -> HandoverRead:
    async with scope.tx() as tx:
        return await read_plan(tx, scope, await load_plan(tx, scope, plan_id))
