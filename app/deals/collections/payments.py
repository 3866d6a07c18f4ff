"""Payments of collection items: partial ones add up, in the item's currency, never more than is
outstanding; the item is paid when they reach its amount."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.deals.collections.items import COLUMNS, read_collection
from app.deals.collections.schemas import CollectionPaid, CollectionRead, PaymentRead
from app.deals.money import check_money
from app.errors import Conflict, NotFound, ValidationFailed
from app.localtime import local_today
from app.outbound.events import emit
from app.rows import to_structs
from app.sql import Params
from tenants.access import deal_access
from tenants.scope import TenantScope


async def _load_item(
    tx: Tx, scope: TenantScope, collection_id: UUID, *, lock: bool = False
) -> asyncpg.Record:
    access = await deal_access(tx, scope)
    p = Params(scope.tenant_id, collection_id)
    row = await tx.fetchrow(
        f"SELECT k.{COLUMNS.replace(', ', ', k.')} FROM collections k"
        " JOIN deals d ON d.tenant = k.tenant AND d.id = k.deal_id"
        " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
        f" WHERE k.tenant = $1 AND k.id = $2 AND {access.visible_sql(p)}"
        + (" FOR UPDATE OF k" if lock else ""),
        *p.values,
    )
    if row is None:
        raise NotFound("No collection item with this id")
    return row


async def list_payments(scope: TenantScope, collection_id: UUID) -> list[PaymentRead]:
    async with scope.tx() as tx:
        await _load_item(tx, scope, collection_id)
        rows = await tx.fetch(
            "SELECT id, collection_id, amount, currency, paid_on, note, actor, created_at"
            " FROM collection_payments WHERE tenant = $1 AND collection_id = $2 ORDER BY created_at, id",
            scope.tenant_id,
            collection_id,
        )
    return to_structs(PaymentRead, rows)


async def mark_paid(scope: TenantScope, collection_id: UUID, data: CollectionPaid) -> CollectionRead:
    """Record one payment of an item (whoever works the deal). Payments add up; the item is paid
    when they reach its amount. ``amount`` left out pays what is outstanding. 409 if it was paid
    already; 422 for an amount not above 0, more than is outstanding, another currency, or a date in
    the future."""
    today = local_today(scope.time_zone)
    paid_on = data.paid_on or (data.paid_at.astimezone(UTC).date() if data.paid_at else today)
    if paid_on > today:
        raise ValidationFailed.field("paid_on", "The payment date is in the future")
    async with scope.tx() as tx:
        row = await _load_item(tx, scope, collection_id, lock=True)
        if row["paid_at"] is not None:
            raise Conflict("This collection item was paid already")
        if data.currency is not None and data.currency != row["currency"]:
            raise ValidationFailed.field(
                "currency", "Pay this item in its currency ({currency})", currency=row["currency"]
            )
        paid_before = row["paid_amount"] or Decimal("0.00")
        outstanding = row["amount"] - paid_before
        amount = check_money("amount", data.amount) if data.amount is not None else outstanding
        if amount <= 0:
            raise ValidationFailed.field("amount", "Use an amount above 0")
        if amount > outstanding:
            raise ValidationFailed.field(
                "amount", "More than the outstanding amount ({outstanding})", outstanding=outstanding
            )
        await tx.execute(
            "INSERT INTO collection_payments (tenant, collection_id, amount, currency, paid_on, note, actor)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            scope.tenant_id,
            collection_id,
            amount,
            row["currency"],
            paid_on,
            data.note,
            scope.membership_id,
        )
        full = paid_before + amount == row["amount"]
        updated = await tx.fetchrow(
            "UPDATE collections SET paid_amount = $3, paid_by = $4,"
            " paid_at = CASE WHEN $5 THEN $6::timestamptz ELSE NULL END"
            " WHERE tenant = $1 AND id = $2"
            f" RETURNING {COLUMNS}",
            scope.tenant_id,
            collection_id,
            paid_before + amount,
            scope.membership_id,
            full,
            data.paid_at or datetime.now(UTC),
        )
        assert updated is not None
        await audit.record(
            tx,
            scope.user_id,
            "collection.paid" if full else "collection.partially_paid",
            "collection",
            collection_id,
            data={"amount": amount, "paid_on": paid_on},
        )
        if full:
            paid = {
                "collection_id": collection_id,
                "deal_id": updated["deal_id"],
                "code": updated["code"],
                "amount": updated["amount"],
                "currency": updated["currency"],
                "paid_on": paid_on,
                "paid_by": scope.membership_id,
            }
            await emit(tx, "collection.paid", [paid])
        return read_collection(updated, today)
