"""Drafting a realignment (a handover plan of kind ``realign``) and planning it again; the service
function that answers the route (``create_realignment``) is in ``app.handover.plan``, beside
``create_plan``, as it reads the plan back like any other."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from app import audit
from app.db import Tx
from app.handover.realign.items import build_items
from app.handover.realign.operation import stored_request
from app.handover.schemas import (
    HandoverOptions,
    HandoverSelection,
    RealignCreate,
    RealignStored,
)
from tenants.scope import TenantScope

RULE_MODE = {"keep": "keep", "reassign": "capacity", "release": "pool"}


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def insert_realignment(tx: Tx, scope: TenantScope, data: RealignCreate) -> asyncpg.Record:
    """Write a draft realignment and its assignment in ``tx``; returns the plan row. 403 for a manager
    of only part of it; 422 for an unknown territory, a cycle, too deep a tree, or a missing choice.
    ``app.handover.plan.create_realignment`` checks the role and the reason first."""
    selection = HandoverSelection(
        territory_ids=[data.territory_id],
        customer_ids=data.customer_ids,
        grades=data.grades,
        statuses=[s for s in data.statuses if s != "closed"],
        owner_ids=data.owner_ids,
    )
    options = HandoverOptions(carry_deals=data.carry_deals, carry_envelopes=data.carry_envelopes)
    plan_id: UUID = await tx.fetchval(
        "INSERT INTO handover_plans (tenant, kind, mode, reason, selection, targets, options, created_by)"
        " VALUES ($1, 'realign', $2, $3, $4::jsonb, '[]'::jsonb, $5::jsonb, $6) RETURNING id",
        tx.tenant_id,
        RULE_MODE[data.owner_rule],
        data.reason.strip(),
        _json(selection),
        _json(options),
        scope.membership_id,
    )
    stored = await build_items(tx, scope, plan_id, RealignStored(request=data))
    row = await tx.fetchrow(
        "UPDATE handover_plans SET realign = $3::jsonb WHERE tenant = $1 AND id = $2 RETURNING *",
        tx.tenant_id,
        plan_id,
        _json(stored),
    )
    assert row is not None
    await audit.record(
        tx,
        scope.user_id,
        "handover.planned",
        "handover_plan",
        plan_id,
        reason=data.reason.strip(),
        data={"kind": "realign", "realign": msgspec.to_builtins(data)},
    )
    return row


async def replan(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> None:
    stored = await build_items(tx, scope, row["id"], stored_request(row))
    await tx.execute(
        "UPDATE handover_plans SET realign = $3::jsonb WHERE tenant = $1 AND id = $2",
        tx.tenant_id,
        row["id"],
        _json(stored),
    )
