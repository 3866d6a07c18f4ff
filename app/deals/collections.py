"""Contract terms per deal and the collection items (回款) they become once the deal is signed.

Terms default from the customer (Party A) and the handbook: one year of free same-version upgrades,
on-site service chargeable, payment milestones by ``money.milestones``. The contract's total is the
chosen quote's total, else the deal amount. The milestones may be edited (``put_milestones``: they
must add up to the total; frozen once collections started). ``start_collections`` (called when the
deal reaches signed) turns them into collection items with due dates; it is idempotent.

Items are listed across deals (``list_collections``, ``overdue_groups`` by rep and territory) with
the deals' visibility; payments (``mark_paid``) may be partial, in the item's currency, never more
than is outstanding; the item is paid when they reach its amount.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import asyncpg

from app import audit
from app.customers.access import Params
from app.db import Tx
from app.deals.access import (
    check_money,
    deal_access,
    load_deal,
    subtree_path,
    subtree_sql,
)
from app.deals.money import HUNDRED, Milestone, cents, milestones
from app.deals.schemas import (
    CollectionItemRead,
    CollectionPaid,
    CollectionRead,
    ContractTermsRead,
    ContractTermsWrite,
    MilestoneRead,
    MilestonesWrite,
    OverdueGroupRead,
    PaymentRead,
)
from app.errors import Conflict, NotFound, ValidationFailed
from app.localtime import local_today
from app.pagination import Page, check_limit, decode_cursor, encode_cursor
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
STATUSES = ("open", "overdue", "paid")


def status_of(paid_at: datetime | None, due_date: date, today: date) -> str:
    """``paid`` once paid in full, ``overdue`` when unpaid after its due date, else ``open``."""
    if paid_at is not None:
        return "paid"
    return "overdue" if due_date < today else "open"


def read_collection(row: asyncpg.Record, today: date | None = None) -> CollectionRead:
    paid = row["paid_amount"] or Decimal("0.00")
    return CollectionRead(
        **{k: row[k] for k in _COLLECTION.split(", ")},
        outstanding=row["amount"] - paid,
        status=status_of(row["paid_at"], row["due_date"], today or datetime.now(UTC).date()),
    )


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
        "milestones": None,
        "party_a_full_name": customer["full_name"],
        "party_a_address": customer["address"],
        "party_a_contact": contact["name"] if contact else None,
        "party_a_phone": customer["phone"] or (contact["phone"] if contact else None),
    }


async def effective_terms(tx: Tx, tenant: UUID, deal: asyncpg.Record) -> tuple[dict[str, Any], bool]:
    """The deal's saved terms, or the defaults; and whether they were saved."""
    row = await tx.fetchrow(
        f"SELECT {', '.join(_TERMS)}, milestones FROM contract_terms WHERE tenant = $1 AND deal_id = $2",
        tenant,
        deal["id"],
    )
    return (dict(row), True) if row else (await _defaults(tx, tenant, deal), False)


def custom_milestones(terms: dict[str, Any]) -> list[Milestone] | None:
    """The milestones edited by hand, if any (``terms["milestones"]``, JSON)."""
    raw = terms.get("milestones")
    if not raw:
        return None
    items = json.loads(raw) if isinstance(raw, str) else raw
    return [Milestone(i["code"], int(i["percent"]), Decimal(i["amount"]), int(i["due_days"])) for i in items]


def plan_for(terms: dict[str, Any], total: Decimal) -> list[Milestone]:
    """The payment plan: the edited milestones while they still add up to ``total``, else the rule's."""
    custom = custom_milestones(terms)
    if custom and sum((m.amount for m in custom), Decimal(0)) == cents(total):
        return custom
    return milestones(
        total,
        delivery_percent=terms["delivery_percent"],
        stable_weeks=terms["stable_weeks"],
        installation_days=terms["installation_days"],
    )


async def contract_total(tx: Tx, tenant: UUID, deal: asyncpg.Record, quote_id: UUID | None) -> Decimal:
    if quote_id is not None:
        total = await tx.fetchval("SELECT total FROM quotes WHERE tenant = $1 AND id = $2", tenant, quote_id)
        if total is not None:
            return Decimal(total)
    return Decimal(deal["amount"])


def _read(deal: asyncpg.Record, terms: dict[str, Any], total: Decimal, saved: bool) -> ContractTermsRead:
    missing = [f for f in PARTY_A if not (terms.get(f) or "").strip()]
    plan = plan_for(terms, total)
    custom = custom_milestones(terms)
    return ContractTermsRead(
        deal_id=deal["id"],
        **{f: terms[f] for f in _TERMS},
        total=total,
        currency=deal["currency"],
        milestones=[MilestoneRead(m.code, m.percent, m.amount, m.due_days) for m in plan],
        complete=not missing,
        missing=missing,
        saved=saved,
        milestones_custom=bool(custom) and plan == custom,
    )


async def get_terms(scope: TenantScope, deal_id: UUID) -> ContractTermsRead:
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id)
        terms, saved = await effective_terms(tx, scope.tenant_id, deal)
        return _read(deal, terms, await contract_total(tx, scope.tenant_id, deal, terms["quote_id"]), saved)


async def _collections_started(tx: Tx, tenant_id: UUID, deal_id: UUID) -> bool:
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM collections WHERE tenant = $1 AND deal_id = $2)", tenant_id, deal_id
        )
    )


async def put_terms(scope: TenantScope, deal_id: UUID, data: ContractTermsWrite) -> ContractTermsRead:
    if data.onsite_fee_per_day is not None:
        check_money("onsite_fee_per_day", data.onsite_fee_per_day)
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id, lock=True)
        if await _collections_started(tx, scope.tenant_id, deal_id):
            raise Conflict(
                "The contract is signed and collections have started; its terms can no longer change"
            )
        if data.quote_id is not None and not await tx.fetchval(
            "SELECT 1 FROM quotes WHERE tenant = $1 AND id = $2 AND deal_id = $3",
            scope.tenant_id,
            data.quote_id,
            deal_id,
        ):
            raise ValidationFailed.field("quote_id", "No quote of this deal with this id")
        values: dict[str, Any] = {f: getattr(data, f) for f in _TERMS}
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
        values["milestones"] = await tx.fetchval(
            "SELECT milestones FROM contract_terms WHERE tenant = $1 AND deal_id = $2",
            scope.tenant_id,
            deal_id,
        )
        return _read(deal, values, await contract_total(tx, scope.tenant_id, deal, data.quote_id), True)


def _check_milestones(data: MilestonesWrite, total: Decimal) -> list[Milestone] | None:
    """The edited plan, each amount in cents (a percentage of ``total`` rounded half-up), or 422 on
    the first wrong field; the amounts must add up to the total exactly."""
    if not data.milestones:
        return None
    total = cents(total)
    plan: list[Milestone] = []
    for i, m in enumerate(data.milestones):
        field = f"milestones[{i}]"
        if (m.amount is None) == (m.percent is None):
            raise ValidationFailed.field(f"{field}.amount", "Give either an amount or a percentage")
        if m.amount is not None:
            amount = check_money(f"{field}.amount", m.amount)
        else:
            assert m.percent is not None
            try:
                ok = m.percent.is_finite() and Decimal(0) < m.percent <= HUNDRED
            except InvalidOperation:
                ok = False
            if not ok:
                raise ValidationFailed.field(f"{field}.percent", "Use a percentage from 0 to 100")
            amount = cents(total * m.percent / HUNDRED)
        if amount <= 0:
            raise ValidationFailed.field(f"{field}.amount", "Use an amount above 0")
        percent = int((amount * HUNDRED / total).to_integral_value()) if total else 0
        plan.append(Milestone(m.code, percent, amount, m.due_days))
    planned = sum((m.amount for m in plan), Decimal("0.00"))
    if planned != total:
        raise ValidationFailed.field(
            "milestones",
            "The milestones add up to {planned}, not the contract total {total}",
            planned=planned,
            total=total,
        )
    return plan


async def put_milestones(scope: TenantScope, deal_id: UUID, data: MilestonesWrite) -> ContractTermsRead:
    """Replace the deal's payment milestones (empty: back to the rule's plan). 422 unless they add up
    to the contract total; 409 once the deal's collections have started."""
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id, lock=True)
        if await _collections_started(tx, scope.tenant_id, deal_id):
            raise Conflict("Collections have started; the milestones can no longer change")
        terms, _saved = await effective_terms(tx, scope.tenant_id, deal)
        total = await contract_total(tx, scope.tenant_id, deal, terms["quote_id"])
        plan = _check_milestones(data, total)
        encoded = (
            json.dumps(
                [
                    {"code": m.code, "percent": m.percent, "amount": str(m.amount), "due_days": m.due_days}
                    for m in plan
                ]
            )
            if plan
            else None
        )
        values = {f: terms[f] for f in _TERMS}
        cols = ", ".join(_TERMS)
        marks = ", ".join(f"${i}" for i in range(3, 3 + len(_TERMS)))
        await tx.execute(
            f"INSERT INTO contract_terms (tenant, deal_id, {cols}, milestones, updated_by)"
            f" VALUES ($1, $2, {marks}, ${3 + len(_TERMS)}::jsonb, ${4 + len(_TERMS)})"
            " ON CONFLICT (tenant, deal_id) DO UPDATE SET milestones = EXCLUDED.milestones,"
            " updated_by = EXCLUDED.updated_by, updated_at = now()",
            scope.tenant_id,
            deal_id,
            *values.values(),
            encoded,
            scope.membership_id,
        )
        await audit.record(
            tx, scope.user_id, "deal.milestones", "deal", deal_id, data={"custom": plan is not None}
        )
        return _read(deal, {**values, "milestones": encoded}, total, True)


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
    plan = plan_for(terms, total)
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
    return [read_collection(r) for r in rows]


async def list_deal_collections(scope: TenantScope, deal_id: UUID) -> list[CollectionRead]:
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        rows = await tx.fetch(
            f"SELECT {_COLLECTION} FROM collections WHERE tenant = $1 AND deal_id = $2 ORDER BY seq",
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


def _cursor(cursor: str | None) -> tuple[date, UUID] | None:
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return date.fromisoformat(values[0]), UUID(values[1])
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None


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
    after = _cursor(cursor)
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
            where.append(subtree_sql(p(await subtree_path(tx, scope.tenant_id, territory_id))))
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
        CollectionItemRead(**dict(r), status=status_of(r["paid_at"], r["due_date"], today))
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
            where.append(subtree_sql(p(await subtree_path(tx, scope.tenant_id, territory_id))))
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
    return [OverdueGroupRead(**dict(r)) for r in rows]


async def _load_item(
    tx: Tx, scope: TenantScope, collection_id: UUID, *, lock: bool = False
) -> asyncpg.Record:
    access = await deal_access(tx, scope)
    p = Params(scope.tenant_id, collection_id)
    row = await tx.fetchrow(
        f"SELECT k.{_COLLECTION.replace(', ', ', k.')} FROM collections k"
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
    return [PaymentRead(**dict(r)) for r in rows]


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
            f" RETURNING {_COLLECTION}",
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
        return read_collection(updated, today)
