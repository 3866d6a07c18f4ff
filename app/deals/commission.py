"""Commission splits (佣金分配) of won deals: a suggestion from the ownership ledger and the stage history,
the manager's confirmed split, and the export.

The rule (tenant-configurable, ``commission_rules``; default 50/50): ``ownership_weight`` percent is
shared by the time each member owned the customer between the deal's creation and its win (from the
customer's ledger entries: the owner at creation is the last entry before it), ``stages_weight`` percent
by the stage moves each member made on the deal (``deal_stage_changes`` with an actor; opening the
deal is not a move). A part with
nothing to share (no owner in the period, no member's move) gives its weight to the other. Percentages
are rounded to 0.01 and sum to exactly 100 (the largest remainders take the rounding).

A manager or above confirms the split as suggested or edited — percentages over 0 summing to 100, each
a member of the tenant, each once; it is recorded (``commission_splits``, one per deal; confirming again
replaces it) and audited (``commission.confirmed`` with the shares and the suggestion). Only a won deal
has a split (409 otherwise); a deal the caller cannot see is a 404.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID

from app import audit
from app.customers import tabular
from app.db import Tx
from app.deals.lookup import load_deal
from app.deals.schemas import (
    CommissionRead,
    CommissionRulesWrite,
    CommissionShare,
    CommissionShareRead,
    CommissionSplitRead,
    CommissionSplitWrite,
)
from app.errors import Conflict, ValidationFailed
from tenants.scope import TenantScope

DEFAULT_WEIGHTS = (50, 50)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


async def _weights(tx: Tx) -> tuple[int, int]:
    row = await tx.fetchrow(
        "SELECT ownership_weight, stages_weight FROM commission_rules WHERE tenant = $1", tx.tenant_id
    )
    return (row["ownership_weight"], row["stages_weight"]) if row else DEFAULT_WEIGHTS


async def get_rules(scope: TenantScope) -> CommissionRulesWrite:
    async with scope.tx() as tx:
        ownership, stages = await _weights(tx)
    return CommissionRulesWrite(ownership_weight=ownership, stages_weight=stages)


async def put_rules(scope: TenantScope, data: CommissionRulesWrite) -> CommissionRulesWrite:
    """Set the weights (owner/admin); they must each be 0–100 and sum to 100."""
    scope.require("admin")
    for field, value in (("ownership_weight", data.ownership_weight), ("stages_weight", data.stages_weight)):
        if not 0 <= value <= 100:
            raise ValidationFailed.field(field, "Give a percentage from 0 to 100")
    if data.ownership_weight + data.stages_weight != 100:
        raise ValidationFailed.field("stages_weight", "The two weights must sum to 100")
    async with scope.tx() as tx:
        await tx.execute(
            "INSERT INTO commission_rules (tenant, ownership_weight, stages_weight, updated_by)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant) DO UPDATE SET"
            " ownership_weight = EXCLUDED.ownership_weight, stages_weight = EXCLUDED.stages_weight,"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            scope.tenant_id,
            data.ownership_weight,
            data.stages_weight,
            scope.membership_id,
        )
        await audit.record(
            tx,
            scope.user_id,
            "commission.rules_changed",
            "tenant",
            scope.tenant_id,
            data={"ownership_weight": data.ownership_weight, "stages_weight": data.stages_weight},
        )
    return data


def round_to_hundred(raw: dict[UUID, Decimal]) -> dict[UUID, Decimal]:
    """``raw`` (summing to 100, unrounded) rounded down to 0.01, the missing cents given to the largest
    remainders (ties by member id), so the result sums to exactly 100."""
    floors = {k: v.quantize(CENT, rounding=ROUND_DOWN) for k, v in raw.items()}
    missing = int((HUNDRED - sum(floors.values(), Decimal(0))) / CENT)
    order = sorted(raw, key=lambda k: (-(raw[k] - floors[k]), str(k)))
    for k in order[:missing]:
        floors[k] += CENT
    return {k: v for k, v in floors.items() if v > 0}


def suggest(
    owned_seconds: dict[UUID, float], moves: dict[UUID, int], weights: tuple[int, int]
) -> dict[UUID, Decimal]:
    """The suggested percentages (pure): each part's weight shared in proportion; a part with nothing
    to share gives its weight to the other; nothing at all → no suggestion."""
    owned_total, moves_total = sum(owned_seconds.values()), sum(moves.values())
    w_own, w_stage = Decimal(weights[0]), Decimal(weights[1])
    if owned_total <= 0:
        w_own, w_stage = Decimal(0), HUNDRED
    if moves_total <= 0:
        w_own, w_stage = (HUNDRED, Decimal(0)) if owned_total > 0 else (Decimal(0), Decimal(0))
    if w_own + w_stage == 0:
        return {}
    raw: dict[UUID, Decimal] = defaultdict(Decimal)
    for member, seconds in owned_seconds.items():
        if seconds > 0:
            raw[member] += w_own * Decimal(str(seconds)) / Decimal(str(owned_total))
    for member, count in moves.items():
        raw[member] += w_stage * Decimal(count) / Decimal(moves_total)
    return round_to_hundred(dict(raw))


_LEDGER = """
SELECT h.to_membership_id AS owner, h.at FROM customer_ownership_history h
WHERE h.tenant = $1 AND h.customer_id = $2 AND h.at < $4
    AND (h.at >= $3 OR h.seq = (SELECT max(p.seq) FROM customer_ownership_history p
        WHERE p.tenant = $1 AND p.customer_id = $2 AND p.at < $3))
ORDER BY h.seq
"""
_MOVES = """
SELECT s.actor, count(*) AS moves FROM deal_stage_changes s
JOIN memberships m ON m.tenant = s.tenant AND m.id = s.actor
WHERE s.tenant = $1 AND s.deal_id = $2 AND s.actor IS NOT NULL AND s.from_stage IS NOT NULL
GROUP BY s.actor
"""
_NAMES = (
    "SELECT m.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.tenant = $1 AND m.id = ANY($2::uuid[])"
)


async def _facts(tx: Tx, deal: Any) -> tuple[dict[UUID, float], dict[UUID, int], datetime, datetime]:
    start = deal["created_at"]
    end = deal["closed_at"] or datetime.now(UTC)
    owned: dict[UUID, float] = defaultdict(float)
    entries = await tx.fetch(_LEDGER, tx.tenant_id, deal["customer_id"], start, end)
    for entry, after in zip(entries, [*entries[1:], None], strict=True):
        if entry["owner"] is None:
            continue
        begins = max(entry["at"], start)
        ends = after["at"] if after is not None else end
        if ends > begins:
            owned[entry["owner"]] += (ends - begins).total_seconds()
    moves = {r["actor"]: int(r["moves"]) for r in await tx.fetch(_MOVES, tx.tenant_id, deal["id"])}
    return dict(owned), moves, start, end


async def commission(scope: TenantScope, deal_id: UUID) -> CommissionRead:
    """The suggestion with its rule and figures, and the confirmed split (None until confirmed)."""
    async with scope.tx() as tx:
        deal, _access = await load_deal(tx, scope, deal_id)
        if deal["stage"] != "won":
            raise Conflict("Only a won deal has a commission split")
        weights = await _weights(tx)
        owned, moves, start, end = await _facts(tx, deal)
        suggested = suggest(owned, moves, weights)
        confirmed = await _confirmed(tx, deal_id)
        members = {*owned, *moves, *suggested, *(m for m, _p in (confirmed[2] if confirmed else []))}
        names = {r["id"]: r["name"] for r in await tx.fetch(_NAMES, tx.tenant_id, list(members))}
    order = sorted({*owned, *moves, *suggested}, key=lambda k: (-suggested.get(k, Decimal(0)), str(k)))
    shares = [
        CommissionShare(
            membership_id=m,
            name=names.get(m, ""),
            percent=suggested.get(m, Decimal(0)),
            owned_days=round(owned.get(m, 0.0) / 86400, 1),
            stage_moves=moves.get(m, 0),
        )
        for m in order
    ]
    split = None
    if confirmed:
        split = CommissionSplitRead(
            confirmed_by=confirmed[0],
            confirmed_at=confirmed[1],
            shares=[
                CommissionShareRead(membership_id=m, name=names.get(m, ""), percent=p)
                for m, p in confirmed[2]
            ],
        )
    return CommissionRead(
        deal_id=deal_id,
        ownership_weight=weights[0],
        stages_weight=weights[1],
        period_start=start,
        period_end=end,
        suggestion=shares,
        confirmed=split,
    )


async def _confirmed(tx: Tx, deal_id: UUID) -> tuple[UUID, datetime, list[tuple[UUID, Decimal]]] | None:
    split = await tx.fetchrow(
        "SELECT id, confirmed_by, confirmed_at FROM commission_splits WHERE tenant = $1 AND deal_id = $2",
        tx.tenant_id,
        deal_id,
    )
    if split is None:
        return None
    shares = await tx.fetch(
        "SELECT membership_id, percent FROM commission_split_shares WHERE tenant = $1 AND split_id = $2"
        " ORDER BY percent DESC, membership_id",
        tx.tenant_id,
        split["id"],
    )
    return split["confirmed_by"], split["confirmed_at"], [(r["membership_id"], r["percent"]) for r in shares]


async def confirm(scope: TenantScope, deal_id: UUID, data: CommissionSplitWrite) -> CommissionRead:
    """Record the split (manager+): 422 for shares that do not sum to 100, a percentage not over 0 or
    over 100, a member twice or not of this tenant; 409 for a deal not won; 404 for a deal not seen."""
    scope.require("manager")
    if not data.shares:
        raise ValidationFailed.field("shares", "Give at least one member's share")
    seen: set[UUID] = set()
    for i, share in enumerate(data.shares):
        if share.membership_id in seen:
            raise ValidationFailed.field(f"shares[{i}].membership_id", "Each member once")
        seen.add(share.membership_id)
        if not (Decimal(0) < share.percent <= HUNDRED) or share.percent != share.percent.quantize(CENT):
            raise ValidationFailed.field(
                f"shares[{i}].percent", "Give a percentage over 0 and at most 100, to 0.01"
            )
    total = sum((s.percent for s in data.shares), Decimal(0))
    if total != HUNDRED:
        raise ValidationFailed.field(
            "shares", "The shares must sum to 100 (they sum to {total})", total=str(total)
        )
    async with scope.tx() as tx:
        deal, _access = await load_deal(tx, scope, deal_id, lock=True)
        if deal["stage"] != "won":
            raise Conflict("Only a won deal has a commission split")
        known = {
            r["id"]
            for r in await tx.fetch(
                "SELECT id FROM memberships WHERE tenant = $1 AND id = ANY($2::uuid[])",
                scope.tenant_id,
                list(seen),
            )
        }
        for i, share in enumerate(data.shares):
            if share.membership_id not in known:
                raise ValidationFailed.field(f"shares[{i}].membership_id", "Not a member of this company")
        weights = await _weights(tx)
        owned, moves, _start, _end = await _facts(tx, deal)
        suggested = {str(k): str(v) for k, v in suggest(owned, moves, weights).items()}
        rule = {"ownership_weight": weights[0], "stages_weight": weights[1]}
        split_id = await tx.fetchval(
            "INSERT INTO commission_splits (tenant, deal_id, rule, suggested, confirmed_by)"
            " VALUES ($1, $2, $3::jsonb, $4::jsonb, $5) ON CONFLICT (tenant, deal_id) DO UPDATE SET"
            " rule = EXCLUDED.rule, suggested = EXCLUDED.suggested, confirmed_by = EXCLUDED.confirmed_by,"
            " confirmed_at = now() RETURNING id",
            scope.tenant_id,
            deal_id,
            json.dumps(rule),
            json.dumps(suggested),
            scope.membership_id,
        )
        await tx.execute(
            "DELETE FROM commission_split_shares WHERE tenant = $1 AND split_id = $2",
            scope.tenant_id,
            split_id,
        )
        await tx.execute(
            "INSERT INTO commission_split_shares (tenant, split_id, membership_id, percent)"
            " SELECT $1, $2, m, p FROM unnest($3::uuid[], $4::numeric[]) AS s (m, p)",
            scope.tenant_id,
            split_id,
            [s.membership_id for s in data.shares],
            [s.percent for s in data.shares],
        )
        shares = {str(s.membership_id): str(s.percent) for s in data.shares}
        await audit.record(
            tx,
            scope.user_id,
            "commission.confirmed",
            "deal",
            deal_id,
            data={"shares": shares, "suggested": suggested, "rule": rule},
        )
    return await commission(scope, deal_id)


_EXPORT = """
SELECT d.title, c.full_name AS customer, d.amount, d.currency, d.closed_at, u.name AS member, u.email,
    s.percent, cs.confirmed_at
FROM commission_splits cs
JOIN deals d ON d.tenant = cs.tenant AND d.id = cs.deal_id
JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
JOIN commission_split_shares s ON s.tenant = cs.tenant AND s.split_id = cs.id
JOIN memberships m ON m.tenant = s.tenant AND m.id = s.membership_id
JOIN users u ON u.id = m.user_id
WHERE cs.tenant = $1
ORDER BY cs.confirmed_at DESC, cs.id, s.percent DESC
"""
HEADERS = {
    "en": [
        "Deal",
        "Customer",
        "Amount",
        "Currency",
        "Won",
        "Member",
        "Email",
        "Percent",
        "Commission base",
        "Confirmed",
    ],
    "zh-CN": ["商机", "客户", "金额", "币种", "赢单时间", "成员", "邮箱", "比例 (%)", "计提金额", "确认时间"],
}


async def export_splits(scope: TenantScope, fmt: str) -> tuple[bytes, str]:
    """The confirmed splits, one row per member and deal, as CSV (UTF-8 with BOM) or XLSX (manager+);
    the commission base is the deal's amount times the member's percentage."""
    scope.require("manager")
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed.field("format", "Use csv or xlsx")
    async with scope.tx() as tx:
        records = await tx.fetch(_EXPORT, scope.tenant_id)
    rows = [
        [
            tabular.neutralize(r["title"]),
            tabular.neutralize(r["customer"]),
            r["amount"],
            r["currency"],
            r["closed_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M") if r["closed_at"] else "",
            tabular.neutralize(r["member"]),
            r["email"],
            r["percent"],
            (r["amount"] * r["percent"] / HUNDRED).quantize(CENT),
            r["confirmed_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        ]
        for r in records
    ]
    header = HEADERS["zh-CN" if scope.locale == "zh-CN" else "en"]
    if fmt == "csv":
        return tabular.csv_bytes([header, *rows], bom=True), tabular.CONTENT_TYPES["csv"]
    title = "佣金分配" if scope.locale == "zh-CN" else "Commission splits"
    return await asyncio.to_thread(tabular.xlsx_bytes, header, rows, title), tabular.CONTENT_TYPES["xlsx"]
