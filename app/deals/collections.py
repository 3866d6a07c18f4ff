"""Contract terms per deal and the collection items (回款) they become once the deal is signed.

Terms default from the customer (Party A) and the handbook: one year of free same-version upgrades,
on-site service chargeable, payment milestones by ``money.milestones``. The contract's total is the
chosen quote's total, else the deal amount. ``start_collections`` (called when the contract is
signed) turns the milestones into collection items with due dates; it is idempotent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from app import audit
from app.customers.access import Params
from app.db import Tx
from app.deals.access import check_money, deal_access, load_deal
from app.deals.money import milestones
from app.deals.schemas import (
    CollectionPaid,
    CollectionRead,
    ContractTermsRead,
    ContractTermsWrite,
    MilestoneRead,
)
from app.errors import Conflict, NotFound, ValidationFailed
from tenants.scope import TenantScope

PARTY_A = ("party_a_full_name", "party_a_address", "party_a_contact", "party_a_phone")
_TERMS = (
    *PARTY_A,
    "quote_id",
    "free_upgrade_years",
    "onsite_service_chargeable",
    "onsite_fee_per_day",
    "delivery_percent",
    "stable_weeks",
    "installation_days",
)
_COLLECTION = "id, deal_id, seq, code, percent, amount, currency, due_date, paid_at, paid_amount"


async def _defaults(tx: Tx, tenant: UUID, deal: asyncpg.Record) -> dict[str, Any]:
    customer = await tx.fetchrow(
        "SELECT full_name, address, phone FROM customers WHERE tenant = $1 AND id = $2",
        tenant,
        deal["customer_id"],
    )
    contact = await tx.fetchrow(
        "SELECT name, phone FROM customer_contacts WHERE tenant = $1 AND customer_id = $2"
        " ORDER BY (decision_role = 'decision_maker') DESC, created_at, id LIMIT 1",
        tenant,
        deal["customer_id"],
    )
    assert customer is not None
    defaults = ContractTermsWrite()
    return {
        **{f: getattr(defaults, f) for f in _TERMS},
        "party_a_full_name": customer["full_name"],
        "party_a_address": customer["address"],
        "party_a_contact": contact["name"] if contact else None,
        "party_a_phone": customer["phone"] or (contact["phone"] if contact else None),
    }


async def effective_terms(tx: Tx, tenant: UUID, deal: asyncpg.Record) -> tuple[dict[str, Any], bool]:
    """The deal's saved terms, or the defaults; and whether they were saved."""
    row = await tx.fetchrow(
        f"SELECT {', '.join(_TERMS)} FROM contract_terms WHERE tenant = $1 AND deal_id = $2",
        tenant,
        deal["id"],
    )
    return (dict(row), True) if row else (await _defaults(tx, tenant, deal), False)


async def contract_total(tx: Tx, tenant: UUID, deal: asyncpg.Record, quote_id: UUID | None) -> Decimal:
    if quote_id is not None:
        total = await tx.fetchval("SELECT total FROM quotes WHERE tenant = $1 AND id = $2", tenant, quote_id)
        if total is not None:
            return Decimal(total)
    return Decimal(deal["amount"])


def _read(deal: asyncpg.Record, terms: dict[str, Any], total: Decimal, saved: bool) -> ContractTermsRead:
    missing = [f for f in PARTY_A if not (terms.get(f) or "").strip()]
    plan = milestones(
        total,
        delivery_percent=terms["delivery_percent"],
        stable_weeks=terms["stable_weeks"],
        installation_days=terms["installation_days"],
    )
    return ContractTermsRead(
        deal_id=deal["id"],
        **{f: terms[f] for f in _TERMS},
        total=total,
        currency=deal["currency"],
        milestones=[MilestoneRead(m.code, m.percent, m.amount, m.due_days) for m in plan],
        complete=not missing,
        missing=missing,
        saved=saved,
    )


async def get_terms(scope: TenantScope, deal_id: UUID) -> ContractTermsRead:
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id)
        terms, saved = await effective_terms(tx, scope.tenant_id, deal)
        return _read(deal, terms, await contract_total(tx, scope.tenant_id, deal, terms["quote_id"]), saved)


async def put_terms(scope: TenantScope, deal_id: UUID, data: ContractTermsWrite) -> ContractTermsRead:
    if data.onsite_fee_per_day is not None:
        check_money("onsite_fee_per_day", data.onsite_fee_per_day)
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id, lock=True)
        if data.quote_id is not None and not await tx.fetchval(
            "SELECT 1 FROM quotes WHERE tenant = $1 AND id = $2 AND deal_id = $3",
            scope.tenant_id,
            data.quote_id,
            deal_id,
        ):
            raise ValidationFailed.field("quote_id", "No quote of this deal with this id")
        values = {f: getattr(data, f) for f in _TERMS}
        cols = ", ".join(_TERMS)
        marks = ", ".join(f"${i}" for i in range(3, 3 + len(_TERMS)))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _TERMS)
        await tx.execute(
            f"INSERT INTO contract_terms (tenant, deal_id, {cols}, updated_by)"
            f" VALUES ($1, $2, {marks}, ${3 + len(_TERMS)})"
            f" ON CONFLICT (tenant, deal_id) DO UPDATE SET {updates},"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            scope.tenant_id,
            deal_id,
            *values.values(),
            scope.membership_id,
        )
        await audit.record(tx, scope.user_id, "deal.contract_terms", "deal", deal_id)
        return _read(deal, values, await contract_total(tx, scope.tenant_id, deal, data.quote_id), True)


async def start_collections(tx: Tx, deal_id: UUID, signed_at: datetime) -> list[CollectionRead]:
    """Create the deal's collection items from its contract terms, due ``due_days`` after the signing
    date (UTC). Idempotent: a second call creates nothing and returns the existing items. Raises
    ``NotFound`` when the deal is not in the transaction's tenant."""
    tenant = tx.tenant_id
    deal = await tx.fetchrow("SELECT * FROM deals WHERE tenant = $1 AND id = $2", tenant, deal_id)
    if deal is None:
        raise NotFound("No deal with this id")
    terms, _ = await effective_terms(tx, deal["tenant"], deal)
    total = await contract_total(tx, deal["tenant"], deal, terms["quote_id"])
    plan = milestones(
        total,
        delivery_percent=terms["delivery_percent"],
        stable_weeks=terms["stable_weeks"],
        installation_days=terms["installation_days"],
    )
    signed_on = signed_at.astimezone(UTC).date()
    for seq, m in enumerate(plan, start=1):
        await tx.execute(
            "INSERT INTO collections (tenant, deal_id, seq, code, percent, amount, currency, due_date)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant, deal_id, seq) DO NOTHING",
            deal["tenant"],
            deal_id,
            seq,
            m.code,
            m.percent,
            m.amount,
            deal["currency"],
            signed_on + timedelta(days=m.due_days),
        )
    rows = await tx.fetch(
        f"SELECT {_COLLECTION} FROM collections WHERE tenant = $1 AND deal_id = $2 ORDER BY seq",
        deal["tenant"],
        deal_id,
    )
    return [CollectionRead(**dict(r)) for r in rows]


async def list_collections(scope: TenantScope, deal_id: UUID) -> list[CollectionRead]:
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        rows = await tx.fetch(
            f"SELECT {_COLLECTION} FROM collections WHERE tenant = $1 AND deal_id = $2 ORDER BY seq",
            scope.tenant_id,
            deal_id,
        )
    return [CollectionRead(**dict(r)) for r in rows]


async def mark_paid(scope: TenantScope, collection_id: UUID, data: CollectionPaid) -> CollectionRead:
    """Record the payment of one item (whoever works the deal); 409 if it was paid already."""
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(scope.tenant_id, collection_id)
        row = await tx.fetchrow(
            f"SELECT k.{_COLLECTION.replace(', ', ', k.')} FROM collections k"
            " JOIN deals d ON d.tenant = k.tenant AND d.id = k.deal_id"
            " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
            f" WHERE k.tenant = $1 AND k.id = $2 AND {access.visible_sql(p)} FOR UPDATE OF k",
            *p.values,
        )
        if row is None:
            raise NotFound("No collection item with this id")
        if row["paid_at"] is not None:
            raise Conflict("This collection item was paid already")
        amount = check_money("amount", data.amount) if data.amount is not None else row["amount"]
        updated = await tx.fetchrow(
            "UPDATE collections SET paid_at = $3, paid_amount = $4, paid_by = $5"
            " WHERE tenant = $1 AND id = $2"
            f" RETURNING {_COLLECTION}",
            scope.tenant_id,
            collection_id,
            data.paid_at or datetime.now(UTC),
            amount,
            scope.membership_id,
        )
        assert updated is not None
        await audit.record(
            tx, scope.user_id, "collection.paid", "collection", collection_id, data={"amount": amount}
        )
        return CollectionRead(**dict(updated))
