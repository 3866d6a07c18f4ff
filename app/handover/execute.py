"""Executing and undoing a handover plan: one transaction each, set-based.

Execute: the plan row is locked (``FOR UPDATE``) and must still be a draft, so of two concurrent
executions exactly one runs (the other then sees ``executed`` → 409). One ``UPDATE customers … FROM
handover_items`` (``change_owners``) moves every customer whose owner *and* ``updated_at`` are still
what the preview saw, and the same statement appends their ownership history (cause ``handover`` —
``assign`` for a dispatch of pool leads — with the plan id). If fewer rows moved than
planned, something changed in between (a claim, a release, an edit): the transaction rolls back,
the plan is planned again from fresh data, and the answer is 409 with the changed customers and the
fresh preview. Open deals of the previous owner on those customers go along (their quotes belong to
the deal), their envelopes out for signature (:mod:`app.handover.envelopes`), and their open
tasks, scheduled return visits and future visit-plan items (:mod:`app.handover.carry`). Receivers get one
digest email each and an in-app notification; previous owners one email; the handover sheet document
(kind ``handover``, subject ``handover``) is requested by the ``handover_sheet`` job after commit
(:mod:`app.handover.sheet`), so the execution neither reads every row again nor holds them in memory;
the job also gives the previous owners a warm-handoff task per customer with an open deal, and once
the sheet is ready the receivers sign it (:mod:`app.handover.sheet_signing`).

Undo (within :data:`UNDO_WINDOW`): only when none of the moved customers changed since (owner still
the receiver, ``updated_at`` still the execution's); else 409 listing the changed ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from app import audit, mail, outbox, pages
from app.customers.owner_changes import Moves, change_owners
from app.db import Tx
from app.errors import Conflict
from app.handover import carry, envelopes, sheet_signing
from app.handover.assign import check_receivers
from app.handover.plan import CHANGES, OPEN_DEAL, UNDO_WINDOW, create_data, load_plan, read_plan, replan
from app.handover.realign import execute as realign
from app.handover.schemas import HandoverRead
from app.i18n import choose
from app.localtime import local_today
from app.notifications.service import Notice, notify
from tenants.scope import TenantScope

_Stale = realign.Stale


def _items(*, back: bool = False) -> str:
    """The plan's (``$2``) movable items as owner changes ``x``; ``back``: the other way round."""
    f, t = "from_membership_id", "to_membership_id"
    if back:
        f, t = t, f
    return (
        f"(SELECT customer_id, {f} AS from_owner, {t} AS to_owner, seen_updated_at FROM handover_items"
        " WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL) x"
    )


def _move(plan_id: UUID) -> Moves:
    """Every customer whose owner *and* ``updated_at`` are still what the preview saw."""
    return Moves(_items(), (plan_id,), where="c.updated_at = x.seen_updated_at")


_MOVE_DEALS = f"""
WITH moved AS (
    UPDATE deals d SET owner_membership_id = i.to_membership_id, updated_at = now()
    FROM handover_items i
    WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NULL AND i.to_membership_id IS NOT NULL
      AND i.to_membership_id IS DISTINCT FROM i.from_membership_id
      AND d.tenant = i.tenant AND d.customer_id = i.customer_id
      AND d.owner_membership_id = i.from_membership_id AND d.{OPEN_DEAL}
    RETURNING d.id, i.from_membership_id AS f, i.to_membership_id AS t
)
INSERT INTO handover_deals (tenant, plan_id, deal_id, from_membership_id, to_membership_id)
SELECT $1, $2, id, f, t FROM moved
"""
_CHANGED = """
SELECT i.customer_id, c.full_name FROM handover_items i
LEFT JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NULL
  AND (c.id IS NULL OR c.owner_membership_id IS DISTINCT FROM i.{owner} OR c.updated_at <> {seen})
ORDER BY c.full_name, i.customer_id LIMIT 500
"""


def _changed_list(rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [{"customer_id": str(r["customer_id"]), "full_name": r["full_name"]} for r in rows]


async def execute_plan(scope: TenantScope, plan_id: UUID) -> HandoverRead:
    """Run a draft. 404 unknown/not yours; 409 already executed, nothing to move, or stale (with
    ``changed`` and a fresh ``handover`` preview; nothing moved)."""
    scope.require("manager")
    try:
        async with scope.tx() as tx:
            row = await load_plan(tx, scope, plan_id, lock=True)
            if row["status"] != "draft":
                raise Conflict(
                    "This handover is already {status}", status=row["status"], extra={"status": row["status"]}
                )
            data = create_data(row)
            await check_receivers(tx, scope, data.targets)  # a manager running another's plan
            receivers = await tx.fetch(
                "SELECT id, active FROM memberships WHERE tenant = $1 AND id IN (SELECT to_membership_id"
                " FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL) FOR SHARE",
                tx.tenant_id,
                plan_id,
            )
            if not all(r["active"] for r in receivers):
                raise _Stale
            expected = await tx.fetchval(
                "SELECT count(*) FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL",
                tx.tenant_id,
                plan_id,
            )
            realigning = row["kind"] == "realign"
            leaving = row["offboarding_membership_id"]
            if data.options.carry_deals:
                await tx.execute(_MOVE_DEALS, tx.tenant_id, plan_id)
            await carry.carry(tx, plan_id, local_today(scope.time_zone))
            strays = 0
            if data.options.carry_envelopes:
                actor = {"actor": scope.membership_id, "actor_user": scope.user_id, "reason": row["reason"]}
                await envelopes.carry(tx, plan_id, **actor)
                if leaving is not None:
                    strays = await envelopes.carry_strays(tx, plan_id, leaving, **actor)
            if not expected and not realigning and not strays:
                raise Conflict("This handover moves no customers")
            cause = "assign" if row["kind"] == "dispatch" else "handover"
            if realigning:  # the tree and the customers' territories change too
                expected = await realign.apply(tx, scope, row)
            else:
                move = _move(plan_id)
                moved = await change_owners(
                    tx, scope, move, cause=cause, reason=row["reason"], plan_id=plan_id, expect=expected
                )
                if moved.moved != expected:
                    raise _Stale
            days = data.options.keep_read_days
            row = await tx.fetchrow(
                "UPDATE handover_plans SET status = 'executed', executed_at = now(), executed_by = $3,"
                " read_until = CASE WHEN $4::int > 0 THEN now() + make_interval(days => $4::int) END"
                " WHERE tenant = $1 AND id = $2 RETURNING *",
                tx.tenant_id,
                plan_id,
                scope.membership_id,
                days,
            )
            assert row is not None
            if days:
                await tx.execute(
                    "INSERT INTO handover_read_grants (tenant, plan_id, membership_id, until)"
                    " SELECT DISTINCT $1::uuid, $2::uuid, from_membership_id, $3::timestamptz"
                    " FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL"
                    " AND from_membership_id IS NOT NULL",
                    tx.tenant_id,
                    plan_id,
                    row["read_until"],
                )
            await _notify(tx, scope, row)
            # the sheet (移交表) is requested by a job after commit: its data provider reads every row
            if expected:
                await outbox.add_job(tx, "handover_sheet", tx.tenant_id, plan_id, key=str(plan_id))
            await audit.record(
                tx,
                scope.user_id,
                "handover.executed",
                "handover_plan",
                plan_id,
                reason=row["reason"],
                data={"customers": expected, "cause": cause},
            )
            return await read_plan(tx, scope, row)
    except _Stale:
        pass
    async with scope.tx() as tx:
        row = await load_plan(tx, scope, plan_id, lock=True)
        changed = await tx.fetch(
            _CHANGED.format(owner="from_membership_id", seen="i.seen_updated_at"), tx.tenant_id, plan_id
        )
        if row["status"] == "draft":
            row = await replan(tx, scope, row)
        fresh = await read_plan(tx, scope, row)
    raise Conflict(
        "Customers changed since the preview; check the fresh preview and execute again",
        extra={"changed": _changed_list(changed), "handover": msgspec.to_builtins(fresh)},
    )


async def _notify(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> None:
    """One digest email and one in-app notification per receiver; one email per previous owner
    (receivers are active: the execution checked them; a previous owner who left gets nothing)."""
    plan_id = row["id"]
    people = await tx.fetch(
        "WITH r AS (SELECT i.to_membership_id AS m, 'received' AS side, count(*) AS n FROM handover_items i"
        f"  WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} AND i.to_membership_id IS NOT NULL"
        "  GROUP BY 1"
        " UNION ALL SELECT i.from_membership_id, 'sent', count(*) FROM handover_items i"
        f"  WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} AND i.from_membership_id IS NOT NULL"
        "  GROUP BY 1)"
        " SELECT r.m, r.side, r.n, u.email, u.name, u.locale,"
        " (SELECT count(*) FROM handover_deals d WHERE d.tenant = $1 AND d.plan_id = $2"
        "  AND d.to_membership_id = r.m) AS deals,"
        " (SELECT count(*) FROM handover_envelopes e WHERE e.tenant = $1 AND e.plan_id = $2"
        "  AND e.to_membership_id = r.m) AS envelopes"
        " FROM r JOIN memberships m ON m.tenant = $1 AND m.id = r.m JOIN users u ON u.id = m.user_id"
        " WHERE m.active ORDER BY r.side, u.email",
        tx.tenant_id,
        plan_id,
    )
    link = pages.url(pages.CUSTOMERS)
    for p in people:
        locale = choose(p["locale"], scope.tenant_locale)
        kind = "handover_received" if p["side"] == "received" else "handover_sent"
        await mail.queue_email(
            tx,
            to=p["email"],
            template=kind,
            locale=locale,
            key=f"handover:{plan_id}:{p['side']}:{p['m']}",
            count=p["n"],
            deals=p["deals"],
            envelopes=p["envelopes"] if p["side"] == "received" else 0,
            reason=row["reason"],
            manager=scope.name or scope.email or "",
            link=link,
        )
    await notify(
        tx,
        [
            Notice(
                p["m"],
                "handover_received",
                f"handover:{plan_id}:{p['m']}",
                "handover",
                plan_id,
                {"count": p["n"], "reason": row["reason"]},
            )
            for p in people
            if p["side"] == "received"
        ],
    )


def _undo(plan_id: UUID, executed_at: datetime) -> Moves:
    """Back, only while unchanged since the execution and to a previous owner still active."""
    return Moves(
        _items(back=True),
        (plan_id, executed_at),
        where="c.updated_at = $3 AND (x.to_owner IS NULL OR EXISTS (SELECT 1 FROM memberships m"
        " WHERE m.tenant = $1 AND m.id = x.to_owner AND m.active))",
    )


async def undo_plan(scope: TenantScope, plan_id: UUID) -> HandoverRead:
    """Move everything back. 409 unless executed within the window, or when a moved customer changed
    since (``changed`` lists them) or its previous owner was deactivated."""
    scope.require("manager")
    async with scope.tx() as tx:
        row = await load_plan(tx, scope, plan_id, lock=True)
        if row["status"] != "executed":
            raise Conflict("Only an executed handover can be undone", extra={"status": row["status"]})
        if row["kind"] == "realign":
            raise Conflict("A realignment cannot be undone; plan the reverse realignment instead")
        now = await tx.fetchval("SELECT now()")
        if now > row["executed_at"] + UNDO_WINDOW:
            raise Conflict(
                "A handover can be undone within {hours} hours of its execution",
                hours=int(UNDO_WINDOW / timedelta(hours=1)),
            )
        expected = await tx.fetchval(
            "SELECT count(*) FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL",
            tx.tenant_id,
            plan_id,
        )
        changed = await tx.fetch(
            _CHANGED.format(owner="to_membership_id", seen="$3"), tx.tenant_id, plan_id, row["executed_at"]
        )
        if changed:
            raise Conflict(
                "{count} customers changed since the handover; it cannot be undone",
                count=len(changed),
                extra={"changed": _changed_list(changed)},
            )
        await tx.execute(
            "UPDATE deals d SET owner_membership_id = h.from_membership_id, updated_at = now()"
            " FROM handover_deals h WHERE h.tenant = $1 AND h.plan_id = $2 AND d.tenant = h.tenant"
            " AND d.id = h.deal_id AND d.owner_membership_id = h.to_membership_id",
            tx.tenant_id,
            plan_id,
        )
        await envelopes.carry_back(
            tx, plan_id, actor=scope.membership_id, actor_user=scope.user_id, reason=row["reason"]
        )
        await carry.carry_back(tx, plan_id)
        await sheet_signing.skip_warm_handoffs(tx, plan_id)
        cause = "assign" if row["kind"] == "dispatch" else "handover"
        reason = f"undo: {row['reason']}"
        undo = _undo(plan_id, row["executed_at"])
        moved = await change_owners(
            tx, scope, undo, cause=cause, reason=reason, plan_id=plan_id, revive=False, expect=expected
        )
        if moved.moved != expected:  # changed meanwhile, or a previous owner was deactivated: roll back
            raise Conflict(
                "{count} customers changed since the handover; it cannot be undone",
                count=expected - moved.moved,
                extra={"changed": []},
            )
        await tx.execute(
            "DELETE FROM handover_read_grants WHERE tenant = $1 AND plan_id = $2", tx.tenant_id, plan_id
        )
        row = await tx.fetchrow(
            "UPDATE handover_plans SET status = 'undone', undone_at = now(), undone_by = $3"
            " WHERE tenant = $1 AND id = $2 RETURNING *",
            tx.tenant_id,
            plan_id,
            scope.membership_id,
        )
        assert row is not None
        await audit.record(
            tx, scope.user_id, "handover.undone", "handover_plan", plan_id, reason=row["reason"]
        )
        return await read_plan(tx, scope, row)
