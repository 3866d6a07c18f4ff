"""Collection items: made from the contract's milestones when the deal is signed, and listed across
deals with the deals' visibility (by due date, and overdue by rep and territory)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg

from app.db import Tx
from app.deals.collections.schemas import CollectionItemRead, CollectionRead, OverdueGroupRead
from app.deals.collections.terms import contract_figures, effective_terms
from app.deals.lookup import load_deal
from app.errors import NotFound, ValidationFailed
from app.localtime import local_today
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.sql import Params
from tenants.access import deal_access, territory_in_subtree_sql, territory_path
from tenants.scope import TenantScope

COLUMNS = "id, deal_id, seq, code, percent, amount, currency, due_date, paid_at, paid_amount"
STATUSES = ("open", "overdue", "paid")


def status_of(paid_at: datetime | None, due_date: date, today: date) -> str:
    """``paid`` once paid in full, ``overdue`` when unpaid after its due date, else ``open``."""
    if paid_at is not None:
        return "paid"
    return "overdue" if due_date < today else "open"


def read_collection(row: asyncpg.Record, today: date | None = None) -> CollectionRead:
    paid = row["paid_amount"] or Decimal("0.00")
    return to_struct(
        CollectionRead,
        row,
        outstanding=row["amount"] - paid,
        status=status_of(row["paid_at"], row["due_date"], today or datetime.now(UTC).date()),
    )


async def start_collections(tx: Tx, deal_id: UUID, signed_at: datetime) -> list[CollectionRead]:
    """Create the deal's collection items from its signed contract's milestones (while none is signed:
    the figures of now), in its currency, due ``due_days`` after the signing date (UTC). Idempotent: a
    second call creates nothing and returns the existing items. Raises ``NotFound`` when the deal is not
    in the transaction's tenant."""
    tenant = tx.tenant_id
    deal = await tx.fetchrow("SELECT * FROM deals WHERE tenant = $1 AND id = $2", tenant, deal_id)
    if deal is None:
        raise NotFound("No deal with this id")
    terms, _ = await effective_terms(tx, deal["tenant"], deal)
    money = await contract_figures(tx, deal["tenant"], deal, terms)
    signed_on = signed_at.astimezone(UTC).date()
    for seq, m in enumerate(money.milestones, start=1):
        await tx.execute(
            "INSERT INTO collections (tenant, deal_id, seq, code, percent, amount, currency, due_date)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant, deal_id, seq) DO NOTHING",
            deal["tenant"],
            deal_id,
            seq,
            m.code,
            m.percent,
            m.amount,
            money.currency,
            signed_on + timedelta(days=m.due_days),
        )
    rows = await tx.fetch(
        f"SELECT {COLUMNS} FROM collections WHERE tenant = $1 AND deal_id = $2 ORDER BY seq",
        deal["tenant"],
        deal_id,
    )
    return [read_collection(r) for r in rows]


async def list_deal_collections(scope: TenantScope, deal_id: UUID) -> list[CollectionRead]:
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        rows = await tx.fetch(
            f"SELECT {COLUMNS} FROM collections WHERE tenant = $1 AND deal_id = $2 ORDER BY seq",
            scope.tenant_id,
            deal_id,
        )
    today = local_today(scope.time_zone)
    return [read_collection(r, today) for r in rows]


_ITEM = (
    "SELECT k.id, k.deal_id, d.title AS deal_title, d.customer_id, c.full_name AS customer_name,"
    " d.owner_membership_id, c.territory_id, k.seq, k.code, k.percent, k.amount, k.currency, k.due_date,"
    " coalesce(k.paid_amount, 0) AS paid_amount, k.amount - coalesce(k.paid_amount, 0) AS outstanding,"
    " k.paid_at FROM collections k JOIN deals d ON d.tenant = k.tenant AND d.id = k.deal_id"
    " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
)


def _status_sql(status: str, p: Params, today: date) -> str:
    if status == "paid":
        return "k.paid_at IS NOT NULL"
    if status == "overdue":
        return f"k.paid_at IS NULL AND k.due_date < {p(today)}"
    return f"k.paid_at IS NULL AND k.due_date >= {p(today)}"


async def list_collections(
    scope: TenantScope,
    *,
    status: str | None = None,
    owner: UUID | None = None,
    territory_id: UUID | None = None,
    due_before: date | None = None,
    due_after: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CollectionItemRead]:
    """The collection items the caller sees (a rep their deals', a manager their subtrees'), by due
    date; ``status`` open (unpaid, not yet due), overdue or paid; ``due_before``/``due_after`` are
    exclusive bounds."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", "Use open, overdue or paid")
    after = decode_date_id_cursor(cursor)
    today = local_today(scope.time_zone)
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(scope.tenant_id)
        where = ["k.tenant = $1"]
        if status is not None:
            where.append(_status_sql(status, p, today))
        if owner is not None:
            where.append(f"d.owner_membership_id = {p(owner)}")
        if territory_id is not None:
            where.append(territory_in_subtree_sql(p(await territory_path(tx, scope.tenant_id, territory_id))))
        if due_before is not None:
            where.append(f"k.due_date < {p(due_before)}")
        if due_after is not None:
            where.append(f"k.due_date > {p(due_after)}")
        if after is not None:
            where.append(f"(k.due_date, k.id) > ({p(after[0])}, {p(after[1])}::uuid)")
        where.append(access.visible_sql(p))
        rows = await tx.fetch(
            f"{_ITEM} WHERE {' AND '.join(where)} ORDER BY k.due_date, k.id LIMIT {p(limit + 1)}", *p.values
        )
    items = [
        to_struct(CollectionItemRead, r, status=status_of(r["paid_at"], r["due_date"], today))
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].due_date, items[-1].id) if more else None)


async def overdue_groups(
    scope: TenantScope, *, owner: UUID | None = None, territory_id: UUID | None = None
) -> list[OverdueGroupRead]:
    """The overdue items the caller sees, grouped by rep (the deal's owner) and territory (the
    customer's), per currency: how many, the outstanding amount, the oldest due date."""
    today = local_today(scope.time_zone)
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(scope.tenant_id)
        where = ["k.tenant = $1", _status_sql("overdue", p, today)]
        if owner is not None:
            where.append(f"d.owner_membership_id = {p(owner)}")
        if territory_id is not None:
            where.append(territory_in_subtree_sql(p(await territory_path(tx, scope.tenant_id, territory_id))))
        where.append(access.visible_sql(p))
        rows = await tx.fetch(
            "SELECT d.owner_membership_id, c.territory_id, k.currency, count(*) AS count,"
            " sum(k.amount - coalesce(k.paid_amount, 0)) AS outstanding, min(k.due_date) AS oldest_due_date"
            " FROM collections k JOIN deals d ON d.tenant = k.tenant AND d.id = k.deal_id"
            " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
            f" WHERE {' AND '.join(where)}"
            " GROUP BY d.owner_membership_id, c.territory_id, k.currency"
            " ORDER BY outstanding DESC, d.owner_membership_id, c.territory_id",
            *p.values,
        )
    return to_structs(OverdueGroupRead, rows)
