"""The handover sheet (移交表): the data of a ``handover`` document about one plan — each customer
with grade, last follow-up, open deals and next steps, and who receives it. One query for all rows.

``sheet_rows`` is the same list as rows to page through (the handover's page shows it beside the
document): each customer, from → to, and the deals that moved with it.

``handover_subject`` is the ``handover`` subject provider (registered by ``app.wiring``).
``handover_sheet`` (ARQ job, queued by the execution in its transaction) requests the document through
the documents pipeline, records its id on the plan and queues its signing (``handover_sheet_sign``);
idempotent (the document's idempotency key is per plan, each job's key too)."""

from __future__ import annotations

from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from app import db
from app.documents import kinds
from app.documents.providers import SubjectRequest, fill_common
from app.documents.schemas import DocumentCreate
from app.documents.service import create_document
from app.errors import NotFound, ValidationFailed
from app.handover import sheet_signing
from app.handover.plan import OPEN_DEAL, load_plan
from app.handover.schemas import SheetRow, SheetRows
from app.rows import to_structs
from tenants.scope import TenantScope

_ROWS = f"""
SELECT c.full_name, c.grade, c.last_followup_at, c.next_followup_at, u.name AS to_name,
    fu.name AS from_name, t.name AS territory,
    (SELECT count(*) FROM deals d WHERE d.tenant = c.tenant AND d.customer_id = c.id AND d.{OPEN_DEAL})
        AS open_deals,
    (SELECT coalesce(f.outcome, f.summary) FROM customer_followups f WHERE f.tenant = c.tenant
        AND f.customer_id = c.id ORDER BY f.happened_at DESC, f.id DESC LIMIT 1) AS last_note
FROM handover_items i
JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id
LEFT JOIN memberships m ON m.tenant = i.tenant AND m.id = i.to_membership_id
LEFT JOIN users u ON u.id = m.user_id
LEFT JOIN memberships fm ON fm.tenant = i.tenant AND fm.id = i.from_membership_id
LEFT JOIN users fu ON fu.id = fm.user_id
WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NULL
ORDER BY u.name NULLS LAST, c.grade, c.full_name, c.id
"""


SHEET_PAGE_MAX = 200
_SHEET_ROWS = """
SELECT c.id AS customer_id, c.full_name, c.grade, t.name AS territory, fu.name AS from_name,
    u.name AS to_name, i.to_membership_id IS NULL AS to_pool,
    moved.deals, moved.deals_amount
FROM handover_items i
JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id
LEFT JOIN memberships m ON m.tenant = i.tenant AND m.id = i.to_membership_id
LEFT JOIN users u ON u.id = m.user_id
LEFT JOIN memberships fm ON fm.tenant = i.tenant AND fm.id = i.from_membership_id
LEFT JOIN users fu ON fu.id = fm.user_id
CROSS JOIN LATERAL (
    SELECT count(*)::int AS deals, coalesce(sum(d.amount), 0) AS deals_amount
    FROM handover_deals hd JOIN deals d ON d.tenant = hd.tenant AND d.id = hd.deal_id
    WHERE hd.tenant = i.tenant AND hd.plan_id = i.plan_id AND d.customer_id = i.customer_id
) moved
WHERE i.tenant = $1 AND i.plan_id = $2 AND i.blocked IS NULL
ORDER BY u.name NULLS LAST, c.grade, c.full_name, c.id
LIMIT $3 OFFSET $4
"""


async def sheet_rows(scope: TenantScope, plan_id: UUID, *, limit: int = 50, offset: int = 0) -> SheetRows:
    """The handover sheet's rows, in its order (by receiver, grade, name), ``limit`` from ``offset``:
    what a plan moved (a draft's would-be moves before it runs). Who may: as ``get_plan`` (a rep
    403, another tenant's or an invisible plan 404); 422 for a limit outside 1..200 or a negative
    offset."""
    if not 1 <= limit <= SHEET_PAGE_MAX:
        raise ValidationFailed.field("limit", "Use a limit from 1 to {max}", max=SHEET_PAGE_MAX)
    if offset < 0:
        raise ValidationFailed.field("offset", "Must not be negative")
    async with scope.tx() as tx:
        await load_plan(tx, scope, plan_id)
        total: int = await tx.fetchval(
            "SELECT count(*) FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NULL",
            scope.tenant_id,
            plan_id,
        )
        rows = await tx.fetch(_SHEET_ROWS, scope.tenant_id, plan_id, limit, offset)
    return SheetRows(items=to_structs(SheetRow, rows), total=total, offset=offset, limit=limit)


def _t(locale: str, zh: str, en: str) -> str:
    return zh if locale == "zh-CN" else en


async def handover_subject(request: SubjectRequest) -> kinds.Data:
    """A handover plan: its handover sheet. Raises ``NotFound`` for an unknown plan or one the scope
    may not see."""
    try:
        plan_id = UUID(request.subject_id)
    except ValueError:
        raise NotFound("No handover with this id") from None
    tx, scope, locale = request.tx, request.scope, request.locale
    plan = await load_plan(tx, scope, plan_id)  # a job's system scope sees every plan
    rows = await tx.fetch(_ROWS, scope.tenant_id, plan_id)
    manager = await tx.fetchval(
        "SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant = $1 AND m.id = $2",
        scope.tenant_id,
        plan["created_by"],
    )
    zone = ZoneInfo(request.time_zone)

    def day(moment: object) -> str:
        return moment.astimezone(zone).date().isoformat() if moment is not None else ""  # type: ignore[attr-defined]

    data: kinds.Data = kinds.blank(kinds.sample(request.kind, locale))
    pool = _t(locale, "公海", "Pool")
    customers = []
    for n, r in enumerate(rows, start=1):
        steps = []
        if r["next_followup_at"] is not None:
            steps.append(_t(locale, "下次跟进 ", "Next follow-up ") + day(r["next_followup_at"]))
        if r["last_note"]:
            steps.append(str(r["last_note"])[:120])
        customers.append(
            {
                "no": str(n),
                "full_name": r["full_name"],
                "grade": r["grade"],
                "last_followup": day(r["last_followup_at"]),
                "open_deals": str(r["open_deals"]),
                "next_steps": "; ".join(steps),
                "to": r["to_name"] or pool,
            }
        )
    froms = sorted({r["from_name"] or pool for r in rows})
    territories = sorted({r["territory"] for r in rows})
    fill_common(data, request)
    data["handover"].update(
        number=f"H-{plan_id.hex[:8].upper()}",
        date=request.today(),
        from_rep="、".join(froms[:5]) + ("…" if len(froms) > 5 else ""),
        manager=manager or "",
        reason=plan["reason"],
        territory="、".join(territories[:5]) + ("…" if len(territories) > 5 else ""),
    )
    data["customers"] = customers
    data["summary"].update(
        customers=str(len(customers)), open_deals=str(sum(int(c["open_deals"]) for c in customers))
    )
    return data


async def handover_sheet(ctx: dict[str, Any], tenant_id: str, plan_id: str) -> str:
    """ARQ job: the warm-handoff tasks of an executed plan, then request its sheet, record the
    document on it and queue its signing."""
    tenant, plan = UUID(tenant_id), UUID(plan_id)
    async with db.transaction(tenant) as tx:
        status = await tx.fetchval(
            "SELECT status FROM handover_plans WHERE tenant = $1 AND id = $2 FOR UPDATE", tenant, plan
        )
        if status != "executed":
            return f"skipped-{status}"
        scope = await TenantScope.for_job(tenant)
        executed_by = await tx.fetchval(
            "SELECT executed_by FROM handover_plans WHERE tenant = $1 AND id = $2", tenant, plan
        )
        await sheet_signing.warm_handoff_tasks(tx, scope, plan, executed_by)
        accepted = await create_document(
            scope,
            DocumentCreate(
                kind="handover",
                subject_type="handover",
                subject_id=str(plan),
                idempotency_key=f"handover-sheet:{plan}",
            ),
        )
        await tx.execute(
            "UPDATE handover_plans SET document_id = $3 WHERE tenant = $1 AND id = $2",
            tenant,
            plan,
            accepted.id,
        )
        await sheet_signing.queue(tx, plan, defer_seconds=2)
    return str(accepted.id)
