"""Approval requests (quotes under the floor price or formal, stage skips) and the manager's inbox.

A request is decided by a manager of the deal's customer's territory (its subtree) or an admin; the
requester may not decide their own unless they are an admin. At most one pending request per
subject. On a decision the quote's status follows, an approved stage skip is applied (if the deal is
still where it was), and the requester gets an in-app notification and an email.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg

from app import audit, mail, pages
from app.db import Tx
from app.deals import service
from app.deals.schemas import ApprovalRead
from app.errors import Conflict, Forbidden, NotFound
from app.i18n import N_, translate
from app.notifications.service import Notice, notify
from app.outbound.events import emit
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct
from app.sql import Params
from tenants.access import deal_access
from tenants.access.territories import territory_managers
from tenants.scope import TenantScope

_COLUMNS = (
    "a.id, a.kind, a.subject_id, a.deal_id, coalesce(c.territory_id, a.territory_id) AS territory_id,"
    " a.requested_by, a.status, a.payload, a.comment, a.decided_by, a.decided_at, a.created_at"
)
_FROM = (
    " FROM approvals a LEFT JOIN deals d ON d.tenant = a.tenant AND d.id = a.deal_id"
    " LEFT JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
)
# Notification kinds (rendered by app.notifications from kind + params).
MESSAGES = {
    ("quote", True): N_("Your quote (round {round}) for {deal} was approved"),
    ("quote", False): N_("Your quote (round {round}) for {deal} was rejected: {comment}"),
    ("stage", True): N_("Your move of {deal} to {stage} was approved"),
    ("stage", False): N_("Your move of {deal} to {stage} was rejected: {comment}"),
    ("registration", True): N_("Your claim of {customer}, registered with {vendor}, was approved"),
    ("registration", False): N_(
        "Your claim of {customer}, registered with {vendor}, was rejected: {comment}"
    ),
}


def read_approval(row: asyncpg.Record) -> ApprovalRead:
    payload = row["payload"]
    return to_struct(ApprovalRead, row, payload=json.loads(payload) if isinstance(payload, str) else payload)


async def request_approval(
    tx: Tx, scope: TenantScope, kind: str, subject_id: UUID, deal: asyncpg.Record, payload: dict[str, Any]
) -> ApprovalRead:
    """Open a pending request in ``tx``; 409 when one is already pending for this subject."""
    new_id = await tx.fetchval(
        "INSERT INTO approvals (tenant, kind, subject_id, deal_id, territory_id, requested_by, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
        " ON CONFLICT (tenant, kind, subject_id) WHERE status = 'pending' DO NOTHING RETURNING id",
        scope.tenant_id,
        kind,
        subject_id,
        deal["id"],
        deal["territory_id"],
        scope.membership_id,
        json.dumps(payload, default=str),
    )
    if new_id is None:
        raise Conflict("An approval for this is already pending")
    await audit.record(
        tx,
        scope.user_id,
        "approval.requested",
        "approval",
        new_id,
        data={"kind": kind, "subject_id": subject_id},
    )
    await _tell_approvers(tx, scope, new_id, kind, deal)
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS}{_FROM} WHERE a.tenant = $1 AND a.id = $2", scope.tenant_id, new_id
    )
    assert row is not None
    return read_approval(row)


async def _tell_approvers(
    tx: Tx, scope: TenantScope, approval_id: UUID, kind: str, deal: asyncpg.Record
) -> None:
    """An in-app notice to the managers of the deal's territory (at or above it; else the owners and
    admins), the requester aside: an approval waits for them (and so on to their team chat)."""
    if deal["territory_id"] is None:
        return
    managers = await territory_managers(
        tx, scope.tenant_id, deal["territory_id"], besides=scope.membership_id
    )
    what = {"member": scope.name or scope.email or "", "deal": deal["title"], "kind": kind}
    notices = [
        Notice(
            m["membership_id"],
            "approval_requested",
            f"approval:{approval_id}:ask:{m['membership_id']}",
            "deal",
            deal["id"],
            what,
        )
        for m in managers
    ]
    await notify(tx, notices)


async def list_approvals(
    scope: TenantScope,
    *,
    status: str | None = "pending",
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ApprovalRead]:
    """The requests the caller may decide (a manager: their subtrees; an admin: all) and their own,
    newest first; ``status`` defaults to pending."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(
            scope.tenant_id, status, kind, after[0] if after else None, after[1] if after else None, limit + 1
        )
        rows = await tx.fetch(
            f"SELECT {_COLUMNS}{_FROM} WHERE a.tenant = $1 AND ($2::text IS NULL OR a.status = $2)"
            " AND ($3::text IS NULL OR a.kind = $3)"
            " AND ($4::timestamptz IS NULL OR (a.created_at, a.id) < ($4, $5::uuid))"
            f" AND {access.inbox_sql(p)} ORDER BY a.created_at DESC, a.id DESC LIMIT $6",
            *p.values,
        )
    items = [read_approval(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def pending_for(tx: Tx, scope: TenantScope, kind: str, subject_id: UUID) -> UUID:
    approval_id: UUID | None = await tx.fetchval(
        "SELECT id FROM approvals WHERE tenant = $1 AND kind = $2 AND subject_id = $3 AND status = 'pending'",
        scope.tenant_id,
        kind,
        subject_id,
    )
    if approval_id is None:
        raise Conflict("Nothing is waiting for approval here")
    return approval_id


async def decide(scope: TenantScope, approval_id: UUID, approve: bool, comment: str | None) -> ApprovalRead:
    async with scope.tx() as tx:
        return await decide_in(tx, scope, approval_id, approve, comment)


async def decide_in(
    tx: Tx, scope: TenantScope, approval_id: UUID, approve: bool, comment: str | None
) -> ApprovalRead:
    """Approve or reject one pending request: 404 if the caller may neither decide nor see it, 403 if
    they may see but not decide it, 409 if it was decided already (or the deal moved meanwhile).
    Only a member decides (an API key is 403)."""
    scope.require_person()
    access = await deal_access(tx, scope)
    p = Params(scope.tenant_id, approval_id)
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS}{_FROM} WHERE a.tenant = $1 AND a.id = $2 AND {access.inbox_sql(p)}"
        " FOR UPDATE OF a",
        *p.values,
    )
    if row is None:
        raise NotFound("No approval with this id")
    if not access.approves(row["territory_id"]) or (
        row["requested_by"] == scope.membership_id and not scope.at_least("admin")
    ):
        raise Forbidden("Only a manager of the customer's territory can decide this")
    if row["status"] != "pending":
        raise Conflict("This approval was decided already")
    payload = read_approval(row).payload
    deal = await tx.fetchrow(
        "SELECT d.*, c.territory_id FROM deals d"
        " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
        " WHERE d.tenant = $1 AND d.id = $2 FOR UPDATE OF d",
        scope.tenant_id,
        row["deal_id"],
    )
    assert deal is not None
    params: dict[str, Any] = {"deal": deal["title"], "comment": comment or ""}
    if row["kind"] == "quote":
        await tx.execute(
            "UPDATE quotes SET status = $3, updated_at = now()"
            " WHERE tenant = $1 AND id = $2 AND status = 'pending'",
            scope.tenant_id,
            row["subject_id"],
            "approved" if approve else "rejected",
        )
        params["round"] = payload.get("round", "")
        if approve:
            quote_event = {
                "quote_id": row["subject_id"],
                "deal_id": row["deal_id"],
                "customer_id": deal["customer_id"],
                "round": payload.get("round"),
                "approval_id": approval_id,
                "approved_by": scope.membership_id,
            }
            await emit(tx, "quote.approved", [quote_event])
    elif row["kind"] == "registration":  # the member may now claim it (app.deals.registrations.gates)
        params["customer"], params["vendor"] = payload.get("customer", ""), payload.get("vendor", "")
    elif row["kind"] == "stage":
        params["stage"] = payload["to"]
        if approve:
            if deal["stage"] != payload["from"]:
                raise Conflict("The deal has changed stage since this was requested")
            await service.apply_stage(
                tx,
                scope,
                deal,
                payload["to"],
                payload.get("reason"),
                approval_id=approval_id,
                actor=row["requested_by"],
            )
    updated = await tx.fetchrow(
        "UPDATE approvals SET status = $3, comment = $4, decided_by = $5, decided_at = now()"
        " WHERE tenant = $1 AND id = $2 RETURNING id",
        scope.tenant_id,
        approval_id,
        "approved" if approve else "rejected",
        comment,
        scope.membership_id,
    )
    assert updated is not None
    await audit.record(
        tx,
        scope.user_id,
        "approval.approved" if approve else "approval.rejected",
        "approval",
        approval_id,
        reason=comment,
    )
    await _notify(tx, scope, row, approve, params)
    done = await tx.fetchrow(
        f"SELECT {_COLUMNS}{_FROM} WHERE a.tenant = $1 AND a.id = $2", scope.tenant_id, approval_id
    )
    assert done is not None
    return read_approval(done)


async def _notify(
    tx: Tx, scope: TenantScope, row: asyncpg.Record, approved: bool, params: dict[str, Any]
) -> None:
    """Tell the requester: an in-app notification and an email (keyed by the approval: sent once)."""
    if row["requested_by"] is None:
        return
    kind = f"{row['kind']}_{'approved' if approved else 'rejected'}"
    notice = Notice(row["requested_by"], kind, f"approval:{row['id']}", "deal", row["deal_id"], params)
    await notify(tx, [notice])
    who = await tx.fetchrow(
        "SELECT u.email, coalesce(u.locale, t.locale) AS locale FROM memberships m"
        " JOIN users u ON u.id = m.user_id"
        " JOIN tenants t ON t.id = m.tenant WHERE m.tenant = $1 AND m.id = $2 AND m.active",
        scope.tenant_id,
        row["requested_by"],
    )
    if who is None:
        return
    message = translate(
        who["locale"], MESSAGES[(row["kind"], approved)], **{k: str(v) for k, v in params.items()}
    )
    await mail.queue_email(
        tx,
        to=who["email"],
        template="approval_decided",
        locale=who["locale"],
        key=f"approval:{row['id']}",
        approved=approved,
        message=message,
        comment=params.get("comment") or "",
        link=pages.url(pages.DEAL, deal_id=row["deal_id"]),
    )
