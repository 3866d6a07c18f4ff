"""Document data for deals and quotes (contracts, quote sheets, pricing proposals): the ``deal`` and
``quote`` subject providers (``deal_subject``, ``quote_subject``), registered by ``app.wiring``.

A deal's documents use the quote chosen in its contract terms, else its latest sent or approved
quote, else its latest quote (``collections.terms.contract_quote``); Party A comes from the contract
terms (defaults: the customer), Party B from the company profile (``providers.fill_common``). Totals
show the list price total, the discount as list − quoted (a unit price typed under list counts, not
only a discount percentage), the tax and the total due. Every value is a preformatted string, as
templates never compute.

A contract's money (quote, total, currency, milestones) is ``collections.terms.figures``, and the
render job's snapshot records it (``collections.contracts.record``) in the snapshot's transaction. A
contract for a deal whose contract is signed is refused (409).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from app.deals.collections import contracts
from app.deals.collections.terms import contract_quote, effective_terms, figures
from app.deals.lookup import load_deal
from app.deals.quotes import load_quote
from app.documents import kinds
from app.documents.kinds import amount_in_words, money
from app.documents.providers import SubjectRequest, fill_common, onsite_fee, quote_terms
from app.errors import Conflict, NotFound

_MILESTONE_NAMES = {
    "full": ("安装完成后付清全款", "Full payment after installation"),
    "deposit": ("签约定金", "Deposit at signing"),
    "delivery": ("交付安装款", "Delivery and installation"),
    "balance": ("稳定运行尾款", "Balance after stable running"),
}
_UNITS = {
    "seat": ("站点", "seat"),
    "licence": ("许可", "licence"),
    "module": ("模块", "module"),
    "service_day": ("人天", "man-day"),
    "maintenance_year": ("年", "year"),
}


def _t(locale: str, pair: tuple[str, str]) -> str:
    return pair[0] if locale == "zh-CN" else pair[1]


def _fill(data: kinds.Data, key: str, values: dict[str, Any]) -> None:
    if isinstance(data.get(key), dict):
        data[key].update({k: "" if v is None else str(v) for k, v in values.items() if k in data[key]})


async def deal_data(
    request: SubjectRequest, *, deal_id: UUID | None = None, quote_id: UUID | None = None
) -> kinds.Data:
    """The variables of ``request.kind`` for a deal (or for one quote of it); 404 when invisible."""
    tx, scope, locale = request.tx, request.scope, request.locale
    quote: asyncpg.Record | None = None
    if quote_id is not None:
        quote = await load_quote(tx, scope, quote_id)
        deal_id = quote["deal_id"]
    if deal_id is None:
        raise NotFound("No deal with this id")
    deal, _ = await load_deal(tx, scope, deal_id)
    if request.kind == "contract":
        await contracts.refuse_if_signed(tx, scope.tenant_id, deal_id)
    if request.kind == "acceptance" and deal["stage"] not in ("signed", "won"):
        raise Conflict("An acceptance note is for a deal whose contract is signed")
    terms, _saved = await effective_terms(tx, scope.tenant_id, deal)
    if quote is None:
        quote = await contract_quote(tx, scope.tenant_id, deal_id, terms["quote_id"])
    contract = await figures(tx, scope.tenant_id, deal, terms, quote)
    customer = await tx.fetchrow(
        "SELECT short_name, tax_id, industry FROM customers WHERE tenant = $1 AND id = $2",
        scope.tenant_id,
        deal["customer_id"],
    )
    assert customer is not None
    currency = contract.currency
    data: kinds.Data = kinds.blank(kinds.sample(request.kind, locale))
    fill_common(data, request)
    party_a = {
        "full_name": terms["party_a_full_name"],
        "address": terms["party_a_address"],
        "contact": terms["party_a_contact"],
        "phone": terms["party_a_phone"],
        "short_name": customer["short_name"],
        "tax_id": customer["tax_id"],
        "industry": customer["industry"],
    }
    _fill(data, "party_a", party_a)
    _fill(data, "customer", party_a)
    today = request.today()
    total = contract.total
    if quote is not None:
        lines = await tx.fetch(
            "SELECT * FROM quote_lines WHERE tenant = $1 AND quote_id = $2 ORDER BY line_no",
            scope.tenant_id,
            quote["id"],
        )
        if "lines" in data:
            data["lines"] = [
                {
                    "no": str(r["line_no"]),
                    "product": r["name"],
                    "edition": r["edition"] or "",
                    "quantity": f"{r['quantity'].normalize():f}",
                    "unit": _t(locale, _UNITS[r["unit"]]),
                    "unit_price": money(r["unit_price"] * (100 - r["discount_percent"]) / 100, currency),
                    "years": "1",
                    "amount": money(r["amount"], currency),
                }
                for r in lines
            ]
        # Discount = list − quoted: a price typed under list is a discount as much as a percentage.
        list_total = sum((r["list_price"] * r["quantity"] for r in lines), Decimal(0))
        net = quote["subtotal"] - quote["discount"]
        tax_rate = f"{quote['tax_rate'].normalize():f}%"
        _fill(
            data,
            "totals",
            {
                "subtotal": money(list_total, currency),
                "discount": money(list_total - net, currency),
                "tax": money(quote["tax"], currency),
                "total": money(total, currency),
                "currency": currency,
                "tax_note": f"以上单价不含税，另计 {tax_rate} 税额"
                if locale == "zh-CN"
                else f"Prices exclude tax; {tax_rate} tax is added above",
                "total_in_words": amount_in_words(total, currency, locale),
            },
        )
        round_name = f"第 {quote['round']} 轮" if locale == "zh-CN" else f"Round {quote['round']}"
        _fill(
            data,
            "quote",
            {
                "number": f"Q-{str(quote['id'])[:8].upper()}",
                "date": today,
                "valid_until": quote["valid_until"].isoformat(),
                "round": round_name,
                "currency": currency,
            },
        )
    else:  # terms entered by hand: the deal's amount is the contract price
        _fill(
            data,
            "totals",
            {
                "subtotal": money(total, currency),
                "discount": money(Decimal(0), currency),
                "tax": money(Decimal(0), currency),
                "total": money(total, currency),
                "currency": currency,
                "tax_note": _t(locale, ("以上金额为合同总价", "The amount above is the contract price")),
                "total_in_words": amount_in_words(total, currency, locale),
            },
        )
    _fill(
        data, "contract", {"number": f"C-{str(deal['id'])[:8].upper()}", "date": today, "currency": currency}
    )
    _fill(
        data,
        "acceptance",
        {"number": f"A-{str(deal['id'])[:8].upper()}", "date": today, "title": deal["title"]},
    )
    if "milestones" in data:
        data["milestones"] = [
            {
                "no": str(i + 1),
                "name": _t(locale, _MILESTONE_NAMES[m.code]),
                "percent": f"{m.percent}%",
                "amount": money(m.amount, currency),
                "due": f"签约后 {m.due_days} 天内"
                if locale == "zh-CN"
                else f"Within {m.due_days} days of signing",
            }
            for i, m in enumerate(contract.milestones)
        ]
    rate = terms["onsite_fee_per_day"]
    fee = onsite_fee(
        request,
        terms["onsite_service_chargeable"],
        rate if rate is not None else request.profile.get("onsite_day_rate"),
    )
    _fill(data, "maintenance", {"free_upgrade_years": terms["free_upgrade_years"], "onsite_fee": fee})
    if "terms" in data:
        data["terms"] = quote_terms(request, terms["free_upgrade_years"], fee)
    if "proposal" in data:
        kind_title = kinds.KINDS[request.kind].title[locale]
        _fill(data, "proposal", {"title": f"{deal['title']} {kind_title}"})
    if "validity" in data and quote is not None:
        until = quote["valid_until"].isoformat()
        data["validity"] = _t(locale, (f"本报价有效期至 {until}。", f"This pricing is valid until {until}."))
    if "payment_terms" in data:
        data["payment_terms"] = "; ".join(
            f"{_t(locale, _MILESTONE_NAMES[m.code])} {m.percent}%" for m in contract.milestones
        )
    if request.kind == "contract" and request.document_id is not None:
        await contracts.record(tx, scope, request.document_id, deal_id, contract)
    return data


def parse_id(value: str, message_kind: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        if message_kind == "quote":
            raise NotFound("No quote with this id") from None
        raise NotFound("No deal with this id") from None


async def deal_subject(request: SubjectRequest) -> kinds.Data:
    """A deal: its contract (Party A from the contract terms, lines from its chosen quote, payment
    milestones), quote sheet or pricing proposal. Visibility follows the deals module."""
    return await deal_data(request, deal_id=parse_id(request.subject_id, "deal"))


async def quote_subject(request: SubjectRequest) -> kinds.Data:
    """One quote of a deal: its quote sheet, pricing proposal, or the contract built on it."""
    return await deal_data(request, quote_id=parse_id(request.subject_id, "quote"))
