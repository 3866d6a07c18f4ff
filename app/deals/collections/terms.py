"""Contract terms per deal and their payment milestones: the defaults, saving them, and the plan the
collection items are made from (see the package docstring)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.deals.collections.schemas import (
    ContractTermsRead,
    ContractTermsWrite,
    MilestoneRead,
    MilestonesWrite,
)
from app.deals.lookup import load_deal
from app.deals.money import HUNDRED, Milestone, cents, check_money, milestones
from app.errors import Conflict, ValidationFailed
from app.rows import to_struct
from tenants.profile import current_version
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
    profile = await current_version(tx, tenant)  # the company profile's defaults, where it has them
    return {
        **{f: getattr(defaults, f) for f in _TERMS},
        "free_upgrade_years": (
            profile["free_upgrade_years"]
            if profile and profile["free_upgrade_years"] is not None
            else defaults.free_upgrade_years
        ),
        "onsite_fee_per_day": profile["onsite_day_rate"] if profile else None,
        "milestones": None,
        "party_a_full_name": customer["full_name"],
        "party_a_address": customer["address"],
        "party_a_contact": contact["name"] if contact else None,
        "party_a_phone": customer["phone"] or (contact["phone"] if contact else None),
    }


async def effective_terms(tx: Tx, tenant: UUID, deal: asyncpg.Record) -> tuple[dict[str, Any], bool]:
    """The deal's saved terms, or the defaults (Party A from the customer, the free-upgrade period and
    the on-site day rate from the company profile's newest version); and whether they were saved."""
    row = await tx.fetchrow(
        f"SELECT {', '.join(_TERMS)}, milestones FROM contract_terms WHERE tenant = $1 AND deal_id = $2",
        tenant,
        deal["id"],
    )
    return (dict(row), True) if row else (await _defaults(tx, tenant, deal), False)


def encode_milestones(plan: list[Milestone]) -> str:
    """A plan as stored (JSON list of ``{code, percent, amount, due_days}``, amounts as strings)."""
    return json.dumps(
        [
            {"code": m.code, "percent": m.percent, "amount": str(m.amount), "due_days": m.due_days}
            for m in plan
        ]
    )


def decode_milestones(raw: Any) -> list[Milestone]:
    items = json.loads(raw) if isinstance(raw, str) else raw
    return [Milestone(i["code"], int(i["percent"]), Decimal(i["amount"]), int(i["due_days"])) for i in items]


def custom_milestones(terms: dict[str, Any]) -> list[Milestone] | None:
    """The milestones edited by hand, if any (``terms["milestones"]``, JSON)."""
    raw = terms.get("milestones")
    return decode_milestones(raw) if raw else None


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


async def contract_quote(tx: Tx, tenant: UUID, deal_id: UUID, chosen: UUID | None) -> asyncpg.Record | None:
    """The quote a contract of the deal is rendered from: ``chosen`` (the terms' quote), else the latest
    sent or approved round, else the latest round; None when the deal has no quote."""
    return await tx.fetchrow(
        "SELECT * FROM quotes WHERE tenant = $1 AND deal_id = $2"
        " ORDER BY (id = $3) DESC, (status IN ('sent', 'approved')) DESC, round DESC LIMIT 1",
        tenant,
        deal_id,
        chosen,
    )


@dataclass(frozen=True, slots=True)
class Figures:
    """A contract's money: the quote it is rendered from (None: the terms were entered by hand), its
    total and currency, and the payment plan (adds up to the total)."""

    quote_id: UUID | None
    total: Decimal
    currency: str
    milestones: list[Milestone]


async def figures(
    tx: Tx,
    tenant: UUID,
    deal: asyncpg.Record,
    terms: dict[str, Any],
    quote: asyncpg.Record | None = None,
) -> Figures:
    """The money a contract of ``deal`` is rendered with now: ``quote``'s (a contract built on one
    quote), else ``contract_quote``'s, else the deal's amount and currency; milestones by ``plan_for``."""
    if quote is None:
        quote = await contract_quote(tx, tenant, deal["id"], terms["quote_id"])
    total = Decimal(quote["total"] if quote is not None else deal["amount"])
    currency = quote["currency"] if quote is not None else deal["currency"]
    return Figures(quote["id"] if quote is not None else None, total, currency, plan_for(terms, total))


async def signed_figures(tx: Tx, tenant: UUID, deal_id: UUID) -> Figures | None:
    """The figures of the deal's signed contract (frozen at signing), or None while none is signed."""
    row = await tx.fetchrow(
        "SELECT quote_id, total, currency, milestones FROM deal_contracts"
        " WHERE tenant = $1 AND deal_id = $2 AND status = 'signed'",
        tenant,
        deal_id,
    )
    if row is None:
        return None
    return Figures(row["quote_id"], row["total"], row["currency"], decode_milestones(row["milestones"]))


async def contract_figures(tx: Tx, tenant: UUID, deal: asyncpg.Record, terms: dict[str, Any]) -> Figures:
    """The signed contract's figures once signed, else what a contract generated now would say."""
    return await signed_figures(tx, tenant, deal["id"]) or await figures(tx, tenant, deal, terms)


def _read(deal: asyncpg.Record, terms: dict[str, Any], money: Figures, saved: bool) -> ContractTermsRead:
    missing = [f for f in PARTY_A if not (terms.get(f) or "").strip()]
    custom = custom_milestones(terms)
    return to_struct(
        ContractTermsRead,
        terms,
        deal_id=deal["id"],
        total=money.total,
        currency=money.currency,
        milestones=[MilestoneRead(m.code, m.percent, m.amount, m.due_days) for m in money.milestones],
        complete=not missing,
        missing=missing,
        saved=saved,
        milestones_custom=bool(custom) and money.milestones == custom,
    )


async def get_terms(scope: TenantScope, deal_id: UUID) -> ContractTermsRead:
    """The terms (defaults until saved) with the contract's money: the signed contract's once signed,
    else what a contract generated now would show."""
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id)
        terms, saved = await effective_terms(tx, scope.tenant_id, deal)
        return _read(deal, terms, await contract_figures(tx, scope.tenant_id, deal, terms), saved)


async def _collections_started(tx: Tx, tenant_id: UUID, deal_id: UUID) -> bool:
    """Whether the deal's contract is signed or its collection items exist (its terms are frozen)."""
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM collections WHERE tenant = $1 AND deal_id = $2)"
            " OR EXISTS (SELECT 1 FROM deal_contracts WHERE tenant = $1 AND deal_id = $2"
            " AND status = 'signed')",
            tenant_id,
            deal_id,
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
        return _read(deal, values, await figures(tx, scope.tenant_id, deal, values), True)


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
    to the contract total; 409 once the deal's contract is signed or its collections have started."""
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id, lock=True)
        if await _collections_started(tx, scope.tenant_id, deal_id):
            raise Conflict("Collections have started; the milestones can no longer change")
        terms, _saved = await effective_terms(tx, scope.tenant_id, deal)
        total = (await figures(tx, scope.tenant_id, deal, terms)).total
        plan = _check_milestones(data, total)
        encoded = encode_milestones(plan) if plan else None
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
        values["milestones"] = encoded
        return _read(deal, values, await figures(tx, scope.tenant_id, deal, values), True)
