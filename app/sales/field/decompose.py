"""Decomposing a sales target (目标分解): a parent is split either by scope over the same period
(tenant → territories/reps, territory → sub-territories/reps of its subtree) or over sub-periods for
the same scope (year → quarters or months, quarter → months, covering the whole period). The children
must add up to the parent exactly; they are written together or not at all, replacing earlier
children.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.errors import Conflict, ValidationFailed
from app.sales.field.schemas import TargetChild, TargetDecompose, TargetRead
from app.sales.field.targets import (
    MONTHS,
    add_months,
    check_period,
    check_scope,
    check_value,
    insert_target,
    load_target,
    period_end,
    read_target,
)
from tenants.access import in_subtree_sql
from tenants.scope import TenantScope


def _sub_periods(parent: asyncpg.Record, period: str) -> set[date]:
    start, end = parent["period_start"], period_end(parent["period"], parent["period_start"])
    found, at = set(), start
    while at < end:
        found.add(at)
        at = add_months(at, MONTHS[period])
    return found


async def _in_subtree(tx: Tx, scope: TenantScope, root: UUID, territory_id: UUID, *, strict: bool) -> bool:
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM territories a JOIN territories t ON t.tenant = a.tenant"
            f" AND {in_subtree_sql('t.path', of='a.path')} WHERE a.tenant = $1 AND a.id = $2 AND t.id = $3"
            " AND (NOT $4 OR t.id <> a.id))",
            scope.tenant_id,
            root,
            territory_id,
            strict,
        )
    )


async def _works_in_subtree(tx: Tx, scope: TenantScope, root: UUID, membership_id: UUID) -> bool:
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM territories a JOIN territories t ON t.tenant = a.tenant"
            f" AND {in_subtree_sql('t.path', of='a.path')} JOIN territory_members m ON m.tenant = t.tenant"
            " AND m.territory_id = t.id WHERE a.tenant = $1 AND a.id = $2 AND m.membership_id = $3)",
            scope.tenant_id,
            root,
            membership_id,
        )
    )


async def _check_child(tx: Tx, scope: TenantScope, parent: asyncpg.Record, child: TargetChild, i: int) -> str:
    """Validate one child; returns its mode: ``scope`` (narrower scope, same period) or ``period``."""
    field = f"children[{i}]"
    check_period(child.period, child.period_start, f"{field}.period_start")
    check_value(parent["metric"], child.value, f"{field}.value")
    await check_scope(tx, scope, child.scope_type, child.territory_id, child.membership_id, f"{field}.")
    same_scope = (child.scope_type, child.territory_id, child.membership_id) == (
        parent["scope_type"],
        parent["territory_id"],
        parent["membership_id"],
    )
    if (child.period, child.period_start) == (parent["period"], parent["period_start"]):
        narrower = False
        if parent["scope_type"] == "tenant":
            narrower = child.scope_type != "tenant"
        elif parent["scope_type"] == "territory" and child.scope_type == "territory":
            assert child.territory_id is not None
            narrower = await _in_subtree(tx, scope, parent["territory_id"], child.territory_id, strict=True)
        elif parent["scope_type"] == "territory" and child.scope_type == "rep":
            assert child.membership_id is not None
            narrower = await _works_in_subtree(tx, scope, parent["territory_id"], child.membership_id)
        if not narrower:
            raise ValidationFailed.field(field, "A child over the same period must have a narrower scope")
        return "scope"
    if (
        not same_scope
        or MONTHS[child.period] >= MONTHS[parent["period"]]
        or child.period_start not in (_sub_periods(parent, child.period))
    ):
        raise ValidationFailed.field(
            field,
            "A child must cover the same period with a narrower scope, or a part of the period with"
            " the same scope",
        )
    return "period"


async def decompose(scope: TenantScope, data: TargetDecompose) -> list[TargetRead]:
    """Split a parent target into children that add up to it; replaces its earlier children."""
    scope.require("manager")
    async with scope.tx() as tx:
        parent = await load_target(tx, scope, data.parent_id, lock=True)
        modes = {await _check_child(tx, scope, parent, c, i) for i, c in enumerate(data.children)}
        if len(modes) > 1:
            raise ValidationFailed.field("children", "Split by scope or by period, not both at once")
        keys = {
            (c.scope_type, c.territory_id, c.membership_id, c.period, c.period_start) for c in data.children
        }
        if len(keys) != len(data.children):
            raise ValidationFailed.field("children", "Two children have the same scope and period")
        if modes == {"period"}:
            kinds = {c.period for c in data.children}
            if len(kinds) > 1 or {c.period_start for c in data.children} != _sub_periods(parent, kinds.pop()):
                raise ValidationFailed.field("children", "The children must cover the whole period")
        total = sum((check_value(parent["metric"], c.value) for c in data.children), Decimal("0.00"))
        if total != parent["value"]:
            raise ValidationFailed.field(
                "children",
                "The children add up to {total}, not to the parent's {value}",
                total=str(total),
                value=str(parent["value"]),
            )
        has_grandchildren = await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM targets c JOIN targets g ON g.tenant = c.tenant AND"
            " g.parent_id = c.id"
            " WHERE c.tenant = $1 AND c.parent_id = $2)",
            scope.tenant_id,
            parent["id"],
        )
        if has_grandchildren:
            raise Conflict("The current children are decomposed further; change those first")
        await tx.execute(
            "DELETE FROM targets WHERE tenant = $1 AND parent_id = $2", scope.tenant_id, parent["id"]
        )
        ids = [
            await insert_target(
                tx,
                scope,
                parent["metric"],
                parent["currency"],
                c.scope_type,
                c.territory_id,
                c.membership_id,
                c.period,
                c.period_start,
                check_value(parent["metric"], c.value),
                parent["id"],
            )
            for c in data.children
        ]
        await audit.record(
            tx,
            scope.user_id,
            "target.decomposed",
            "target",
            parent["id"],
            data={"children": len(ids), "by": modes.pop()},
        )
        return [await read_target(tx, scope, await load_target(tx, scope, i)) for i in ids]
