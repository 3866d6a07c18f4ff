"""The receivers sign the handover sheet (交接单), as the handbooks require, through the signing flow.

When an execution's sheet is ready, ``handover_sheet_sign`` (ARQ job, queued by ``handover_sheet``)
puts it out for signature as the executing manager: one envelope (parallel signing, the flow's
defaults for expiry and reminders) to every active receiver and — option ``previous_owner_signs`` —
every active previous owner, each by their account's email and language; more than ten signers
(the flow's limit) take several envelopes. Each signer gets the flow's email link; the completed
envelope is the sealed PDF. The envelopes are the ones about the plan (``subject_type`` ``handover``),
so the job makes them once whatever the number of runs. While the sheet renders the job looks again
later (:data:`RECHECK`); a failed sheet or an undone plan is not sent.

``sheet_signers`` is what the handover shows: each signer with their side and status.

A warm handoff (``warm_handoff_tasks``): after the execution commits, in the ``handover_sheet`` job
(derived work, like the sheet: the execution's transaction stays lean), the previous owner (while
active) gets a call task per handed customer with an open deal, to introduce the receiver; the job
makes them only while the plan is still executed (it locks the plan, as an undo does) and once
(``sales_tasks_handover`` is unique); an undo skips those still open.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final
from uuid import UUID

import msgspec

from app import db, outbox
from app.db import Tx
from app.handover.envelopes import CHANGES, OPEN_DEAL
from app.handover.schemas import HandoverOptions, SheetSigner
from app.i18n import N_, choose, translate
from app.localtime import local_today
from app.signing.schemas import EnvelopeCreate, SignerCreate
from app.signing.service import create_envelope, send_envelope
from tenants.scope import MEMBER_SQL, TenantScope

RECHECK: Final = 40  # looks while the sheet renders (about 20 minutes in all)
MAX_SIGNERS: Final = 10  # per envelope (the signing flow's limit)
M_TITLE = N_("Handover sheet {number}")
M_HANDOFF = N_("Warm handoff: call the customer and introduce the new owner, {name}")

_SIGNERS = f"""
SELECT DISTINCT ON (lower(u.email)) s.side, u.name, u.email, u.locale
FROM (SELECT i.to_membership_id AS m, 'receiver' AS side, 0 AS rank FROM handover_items i
      WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} AND i.to_membership_id IS NOT NULL
      UNION SELECT i.from_membership_id, 'previous_owner', 1 FROM handover_items i
      WHERE $3 AND i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} AND i.from_membership_id IS NOT NULL) s
JOIN memberships m ON m.tenant = $1 AND m.id = s.m AND m.active
JOIN users u ON u.id = m.user_id
ORDER BY lower(u.email), s.rank
"""
_SHEET_ENVELOPES = "subject_type = 'handover' AND subject_id = ($2::uuid)::text"


async def queue(tx: Tx, plan_id: UUID, attempt: int = 1, *, defer_seconds: int = 0) -> None:
    """Queue ``handover_sheet_sign`` in ``tx`` (each attempt once)."""
    await outbox.add_job(
        tx,
        "handover_sheet_sign",
        tx.tenant_id,
        plan_id,
        attempt,
        key=f"{plan_id}:{attempt}",
        defer_seconds=defer_seconds,
    )


async def handover_sheet_sign(ctx: dict[str, Any], tenant_id: str, plan_id: str, attempt: int = 1) -> str:
    """ARQ job: put the executed plan's ready sheet out for signature (once). Returns what happened:
    ``sent-<n>`` (envelopes), ``already``, ``skipped-<status>``, ``no-signers``, ``sheet-failed``,
    ``gave-up``, ``waiting`` (it looks again later, a new job, while the sheet renders)."""
    tenant, plan = UUID(tenant_id), UUID(plan_id)
    async with db.transaction(tenant) as tx:
        row = await tx.fetchrow(
            "SELECT p.*, d.status AS doc_status, d.pdf_key FROM handover_plans p"
            " LEFT JOIN documents d ON d.tenant = p.tenant AND d.id = p.document_id"
            " WHERE p.tenant = $1 AND p.id = $2 FOR UPDATE OF p",
            tenant,
            plan,
        )
        if row is None or row["status"] != "executed":
            return f"skipped-{row['status'] if row else 'missing'}"
        if await tx.fetchval(
            f"SELECT 1 FROM envelopes WHERE tenant = $1 AND {_SHEET_ENVELOPES}", tenant, plan
        ):
            return "already"
        if row["doc_status"] in ("failed", "voided"):
            return "sheet-failed"
        if row["doc_status"] != "ready" or not row["pdf_key"]:
            if attempt >= RECHECK:
                return "gave-up"
            await queue(tx, plan, attempt + 1, defer_seconds=min(2 * attempt, 60))
            return "waiting"
        options = msgspec.convert(_json(row["options"]), HandoverOptions)
        signers = await tx.fetch(_SIGNERS, tenant, plan, options.previous_owner_signs)
        if not signers:
            return "no-signers"
        scope = await _sender(tx, tenant, row["executed_by"])
        number = f"H-{plan.hex[:8].upper()}"
        title = translate(scope.tenant_locale, M_TITLE, number=number)
        sent = 0
        for start in range(0, len(signers), MAX_SIGNERS):
            env = await create_envelope(
                scope,
                EnvelopeCreate(
                    document_id=row["document_id"],
                    signers=[
                        SignerCreate(
                            name=s["name"] or s["email"],
                            email=s["email"],
                            locale="zh-CN" if choose(s["locale"], scope.tenant_locale) == "zh-CN" else "en",
                        )
                        for s in signers[start : start + MAX_SIGNERS]
                    ],
                    signing_order="parallel",
                    title=title,
                    message=row["reason"],
                ),
            )
            await send_envelope(scope, env.id)
            sent += 1
    return f"sent-{sent}"


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def _sender(tx: Tx, tenant: UUID, executed_by: UUID | None) -> TenantScope:
    """The tenant's system scope (it sees the sheet whoever made the plan), sending as the executing
    manager (their name, email and language in the mails; the envelope is theirs)."""
    scope = await TenantScope.for_job(tenant)
    member = await tx.fetchrow(MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2", tenant, executed_by)
    if member is None:
        return scope
    return dataclasses.replace(
        scope,
        membership_id=member["membership_id"],
        user_id=member["user_id"],
        email=member["user_email"],
        name=member["user_name"],
        locale=choose(member["user_locale"], member["tenant_locale"]),
    )


async def sheet_signers(tx: Tx, plan_id: UUID) -> list[SheetSigner]:
    """Who was asked to sign the plan's sheet and where they stand, receivers first."""
    rows = await tx.fetch(
        "SELECT s.envelope_id, s.name, s.email, s.status, s.signed_at,"
        " CASE WHEN EXISTS (SELECT 1 FROM handover_items i JOIN memberships m ON m.tenant = i.tenant"
        "  AND m.id = i.to_membership_id JOIN users u ON u.id = m.user_id WHERE i.tenant = $1"
        "  AND i.plan_id = $2 AND lower(u.email) = lower(s.email)) THEN 'receiver' ELSE 'previous_owner'"
        " END AS side"
        " FROM envelopes e JOIN envelope_signers s ON s.tenant = e.tenant AND s.envelope_id = e.id"
        f" WHERE e.tenant = $1 AND {_SHEET_ENVELOPES.replace('subject', 'e.subject')}"
        " ORDER BY side DESC, s.name, s.email",
        tx.tenant_id,
        plan_id,
    )
    return [
        SheetSigner(
            envelope_id=r["envelope_id"],
            name=r["name"],
            email=r["email"],
            side=r["side"],
            status=r["status"],
            signed=r["status"] == "signed",
            signed_at=r["signed_at"],
        )
        for r in rows
    ]


_HANDOFF = f"""
INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source, due_on, note,
                         created_by, handover_plan_id)
SELECT $1, i.customer_id, i.from_membership_id, 'call', 'handover', $3::date,
       replace($4::text, '{{name}}', coalesce(u.name, u.email)), $5::uuid, $2
FROM handover_items i
JOIN memberships fm ON fm.tenant = i.tenant AND fm.id = i.from_membership_id AND fm.active
JOIN memberships tm ON tm.tenant = i.tenant AND tm.id = i.to_membership_id
JOIN users u ON u.id = tm.user_id
WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES}
  AND EXISTS (SELECT 1 FROM deals d WHERE d.tenant = i.tenant AND d.customer_id = i.customer_id
              AND d.{OPEN_DEAL})
ON CONFLICT DO NOTHING
"""


async def warm_handoff_tasks(tx: Tx, scope: TenantScope, plan_id: UUID, executed_by: UUID | None) -> None:
    """A call task for each active previous owner per handed customer with an open deal, due today
    (in the tenant's time zone), made by the executing manager; a second call adds none."""
    note = translate(scope.tenant_locale, M_HANDOFF)
    today = local_today(scope.time_zone)
    await tx.execute(_HANDOFF, tx.tenant_id, plan_id, today, note, executed_by)


async def skip_warm_handoffs(tx: Tx, plan_id: UUID) -> None:
    await tx.execute(
        "UPDATE sales_tasks SET status = 'skipped', closed_at = now(), close_reason = 'handover_undone',"
        " updated_at = now() WHERE tenant = $1 AND handover_plan_id = $2 AND status = 'open'",
        tx.tenant_id,
        plan_id,
    )
