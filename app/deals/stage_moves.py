"""Stage moves (POST /deals/{id}/stage) under the tenant's stage rules, and the rules themselves.

A move the rules allow applies at once (200 with the deal); one needing approval opens a request
and leaves the deal where it is (202 with the approval); a forbidden one is 409; a backward move or
``lost`` without a reason is 422 on ``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import msgspec

from app.db import Tx
from app.deals import approvals, service
from app.deals.lookup import load_deal
from app.deals.schemas import ApprovalRead, DealRead, StageMove, StageRulesRead
from app.deals.stages import OPEN_STAGES, TERMINAL, Decision, StageRules, bad_cell, decide, effective
from app.errors import Conflict, ValidationFailed
from tenants.scope import TenantScope


async def load_rules(tx: Tx) -> tuple[StageRules, bool]:
    raw = await tx.fetchval("SELECT rules::text FROM deal_stage_rules WHERE tenant = $1", tx.tenant_id)
    return (msgspec.json.decode(raw, type=StageRules), True) if raw else (StageRules(), False)


def _read_rules(rules: StageRules, customized: bool) -> StageRulesRead:
    return StageRulesRead(
        matrix=effective(rules), require_approved_quote=rules.require_approved_quote, customized=customized
    )


async def get_stage_rules(scope: TenantScope) -> StageRulesRead:
    scope.require("admin")
    async with scope.tx() as tx:
        return _read_rules(*await load_rules(tx))


async def put_stage_rules(scope: TenantScope, data: StageRules) -> StageRulesRead:
    """Replace the tenant's matrix (owner/admin); cells left out take the defaults."""
    scope.require("admin")
    bad = bad_cell(data)
    if bad:
        raise ValidationFailed.field(bad, "Use two different open stages")
    async with scope.tx() as tx:
        await tx.execute(
            "INSERT INTO deal_stage_rules (tenant, rules, updated_by) VALUES ($1, $2::jsonb, $3)"
            " ON CONFLICT (tenant) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by,"
            " updated_at = now()",
            scope.tenant_id,
            msgspec.json.encode(data).decode(),
            scope.membership_id,
        )
        return _read_rules(data, True)


async def has_approved_formal_quote(tx: Tx, tenant: UUID, deal_id: UUID) -> bool:
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM quotes WHERE tenant = $1 AND deal_id = $2 AND formal"
            " AND status IN ('approved', 'sent'))",
            tenant,
            deal_id,
        )
    )


@dataclass(frozen=True, slots=True)
class MoveChoice:
    """What moving the deal to ``to`` would meet: ``verdict`` is ``decide``'s answer given a reason
    (allowed, approval, forbidden, needs_quote …); ``needs_reason``: a reason must be given."""

    to: str
    verdict: Decision
    needs_reason: bool


async def move_choices(scope: TenantScope, deal_id: UUID) -> list[MoveChoice]:
    """For each other stage, what ``move_stage`` would answer now (whoever sees the deal; 404 else):
    the same rules, quote gate and ``decide`` as the move itself, read without moving anything."""
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id)
        rules, _customized = await load_rules(tx)
        quoted = await has_approved_formal_quote(tx, scope.tenant_id, deal_id)
    frm = deal["stage"]
    return [
        MoveChoice(
            to,
            decide(rules, frm, to, reason="-", has_approved_quote=quoted),
            decide(rules, frm, to, reason=None, has_approved_quote=quoted) == "needs_reason",
        )
        for to in (*OPEN_STAGES, *TERMINAL)
        if to != frm
    ]


async def move_stage(scope: TenantScope, deal_id: UUID, data: StageMove) -> DealRead | ApprovalRead:
    reason = data.reason.strip() if data.reason and data.reason.strip() else None
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id, lock=True)
        rules, _customized = await load_rules(tx)
        quoted = await has_approved_formal_quote(tx, scope.tenant_id, deal_id)
        verdict = decide(rules, deal["stage"], data.to, reason=reason, has_approved_quote=quoted)
        if verdict == "terminal":
            raise Conflict("This deal is closed; its stage cannot change")
        if verdict == "same":
            raise ValidationFailed.field("to", "The deal is already at this stage")
        if verdict == "needs_reason":
            raise ValidationFailed.field("reason", "Give a reason for this stage change")
        if verdict == "needs_quote":
            raise Conflict("Negotiation needs an approved formal quote first", extra={"rule": "needs_quote"})
        if verdict == "forbidden":
            raise Conflict("The stage rules forbid this stage change", extra={"rule": "forbidden"})
        if verdict == "approval":
            return await approvals.request_approval(
                tx, scope, "stage", deal_id, deal, {"from": deal["stage"], "to": data.to, "reason": reason}
            )
        await service.apply_stage(tx, scope, deal, data.to, reason)
        return await service.reload(tx, scope, deal_id)
