"""Subject data providers: ``subject_type`` → an async function returning a document's variables.

A document is always *about* something: a customer (proposals), a deal or quote (contracts, quote
sheets), a handover (handover sheets). Each subject type has one provider in ``PROVIDERS``, put
there by ``register_provider`` from ``app.wiring`` (nothing registers itself at import); the document
service and the render job look it up and never know the subject's tables. A subject type without a
provider is refused (422) like an unknown one. A provider:

- raises ``NotFound`` when the subject does not exist *or the scope may not see it* (the same 404 as
  another tenant's id), so calling it at request time is also the access check;
- returns the full variable tree of the kind (start from ``kinds.blank(...)``, then ``fill_common``
  for what every kind shares — the company profile as ``party_b`` and ``company``, the author — and fill
  in the rest), since templates render with ``StrictUndefined``;
- runs inside the caller's transaction, and is read-only but for one thing: when ``document_id`` is
  set (the render job taking the document's data snapshot) it may record what the document is rendered
  from, in the snapshot's transaction (the deal provider records a contract's money,
  ``app.deals.contracts``), so that the record and the rendered data cannot disagree.

Defined here: ``sample`` (the kind's sample data, for previews) and ``customer``; the deals domain
defines ``deal`` and ``quote`` (``app.deals.documents``), the handover domain ``handover``
(``app.handover.sheet``): each provider lives with the domain whose data it reads, on the side that
already imports the other, so the imports run one way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from app.customers.masking import masked_fields, masks_for
from app.customers.service import load_visible
from app.db import Tx
from app.documents import kinds
from app.errors import Forbidden, NotFound
from app.localtime import local_today
from app.sql import Params
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class SubjectRequest:
    scope: TenantScope
    tx: Tx
    subject_id: str
    kind: str
    locale: str
    tenant_name: str = ""
    time_zone: str = "UTC"
    author: dict[str, str] = field(default_factory=dict)  # name, email of the member generating it
    document_id: UUID | None = None  # set when the render job takes the document's data snapshot
    # the company profile version the document is made with (``tenants.profile``; empty: none saved)
    profile: dict[str, Any] = field(default_factory=dict)

    def today(self) -> str:
        return local_today(self.time_zone).isoformat()


Provider = Callable[[SubjectRequest], Awaitable[kinds.Data]]
PROVIDERS: dict[str, Provider] = {}


def register_provider(subject_type: str, provide: Provider) -> None:
    """Make ``provide`` the data provider of ``subject_type``. Registering the same function again
    changes nothing; another function for a type that has one raises ``RuntimeError``."""
    if PROVIDERS.setdefault(subject_type, provide) is not provide:
        raise RuntimeError(f"a provider for {subject_type!r} is already registered")


def get_provider(subject_type: str) -> Provider | None:
    return PROVIDERS.get(subject_type)


async def sample_subject(request: SubjectRequest) -> kinds.Data:
    """The kind's catalogue sample (previews, tests); ``subject_id`` is free text."""
    return kinds.sample(request.kind, request.locale)


def _t(locale: str, zh: str, en: str) -> str:
    return zh if locale == "zh-CN" else en


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def party_b(request: SubjectRequest) -> dict[str, str]:
    """The dealer as Party B, from the request's company profile version: empty strings where the
    profile is empty (never the tenant's display name in place of its legal name). ``contact`` is
    the member generating the document; ``logo`` and ``seal`` the images' sha256 (the render job puts
    the pictures there)."""
    p = request.profile
    full_name = _text(p.get("legal_name"))
    return {
        "name": full_name,
        "full_name": full_name,
        "tax_id": _text(p.get("credit_code")),
        "address": _text(p.get("address")),
        "phone": _text(p.get("phone")),
        "email": _text(p.get("email")),
        "website": _text(p.get("website")),
        "bank": _text(p.get("bank")),
        "account": _text(p.get("bank_account")),
        "contact": request.author.get("name", ""),
        "hotline": _text(p.get("service_hotline")),
        "response_hours": _text(p.get("response_hours")),
        "logo": _text(p.get("logo_sha256")),
        "seal": _text(p.get("seal_sha256")),
    }


def onsite_fee(request: SubjectRequest, chargeable: bool, rate: Any) -> str:
    """``¥800.00 / 人·天``; "免费" / "free of charge" when not chargeable; empty when chargeable at
    no known rate (the document is then refused, naming the fee)."""
    if not chargeable:
        return _t(request.locale, "免费", "free of charge")
    if rate is None:
        return ""
    return kinds.money(rate, request.scope.currency) + _t(request.locale, " / 人·天", " per engineer-day")


def quote_terms(request: SubjectRequest, free_upgrade_years: Any, fee: str) -> str:
    """A quote sheet's terms line: the free-upgrade period and the on-site fee (both required)."""
    if _text(free_upgrade_years) == "" or not fee:
        return ""
    return _t(
        request.locale,
        f"含 {free_upgrade_years} 年免费同版本升级；上门服务收费标准：{fee}。",
        f"Includes {free_upgrade_years} year(s) of free same-version upgrades; on-site service: {fee}.",
    )


def fill_common(data: kinds.Data, request: SubjectRequest) -> None:
    """Fill what every kind shares, where the kind has it: ``party_b`` and ``company`` (the profile;
    ``company.name`` falls back to the tenant's name, as headers of internal sheets need no legal
    name), ``author`` and ``contact`` (the member; no personal phone is recorded, so the company's),
    the contract's ``maintenance``, the quote's ``terms`` and a product proposal's ``services`` from
    the profile's defaults, dates, and a proposal's shell (type, version, revision) with its number
    from the subject's id. A requirements proposal's background and scope are the subject's to give
    (no data holds them yet: such a document is refused, naming them)."""
    locale, today = request.locale, request.today()
    b = party_b(request)
    author = {
        "name": request.author.get("name", ""),
        "title": "",
        "phone": b["phone"],
        "email": request.author.get("email", ""),
    }
    company = {k: b[k] for k in ("address", "phone", "email", "website", "tax_id", "bank", "account")}
    company["name"] = b["full_name"] or request.tenant_name
    for key, values in (
        ("party_b", b),
        ("company", company),
        ("author", author),
        ("contact", {**author, "address": b["address"]}),
    ):
        if isinstance(data.get(key), dict):
            data[key].update({k: v for k, v in values.items() if k in data[key]})
    p = request.profile
    years = _text(p.get("free_upgrade_years")) or "1"  # the handbook's default: one year
    fee = onsite_fee(request, True, p.get("onsite_day_rate"))
    if isinstance(data.get("maintenance"), dict):
        data["maintenance"].update(
            free_upgrade_years=years, onsite_fee=fee, hotline=b["hotline"], response_hours=b["response_hours"]
        )
    if "terms" in data:
        data["terms"] = quote_terms(request, years, fee)
    if "services" in data:  # a product proposal's services: the company's standard offer
        data["services"] = _t(
            locale,
            f"实施、培训、数据迁移与 {years} 年免费同版本升级。",
            f"Implementation, training, data migration and {years} year(s) of free same-version upgrades.",
        )
    for block in ("contract", "quote", "handover"):
        if isinstance(data.get(block), dict) and "date" in data[block]:
            data[block]["date"] = today
    if isinstance(data.get("proposal"), dict):
        kind_title = kinds.KINDS[request.kind].title[locale]
        data["proposal"].update(
            type=kind_title,
            version="V1.0",
            date=today,
            number=f"P-{request.subject_id.replace('-', '')[:8].upper()}",
        )
        data["revisions"] = [
            {
                "version": "V1.0",
                "date": today,
                "author": author["name"],
                "note": _t(locale, "初稿", "First draft"),
            }
        ]


async def customer_subject(request: SubjectRequest) -> kinds.Data:
    """A customer: proposals about it, or a contract/quote shell with Party A filled in. Visibility
    follows the customers module (a rep sees their own customers and their territories' pools)."""
    try:
        customer_id = UUID(request.subject_id)
    except ValueError:
        raise NotFound("No customer with this id") from None
    row, _ = await load_visible(request.tx, request.scope, customer_id)
    if await masked_fields(request.tx, request.scope, customer_id):  # the job renders unmasked
        raise Forbidden("Claim this customer before making documents about it: its pool hides its details")
    p = Params(request.scope.tenant_id, customer_id)
    shown = (await masks_for(request.tx, request.scope)).contact_columns(p, "c", "k")  # as in its reads
    contact = await request.tx.fetchrow(
        f"SELECT {shown['name']}, {shown['phone']}, {shown['email']} FROM customer_contacts k"
        " JOIN customers c ON c.tenant = k.tenant AND c.id = k.customer_id"
        " WHERE k.tenant = $1 AND k.customer_id = $2"
        " ORDER BY (k.decision_role = 'decision_maker') DESC, k.created_at, k.id LIMIT 1",
        *p.values,
    )
    data: kinds.Data = kinds.blank(kinds.sample(request.kind, request.locale))
    fill_common(data, request)
    customer = {
        "full_name": row["full_name"] or "",
        "short_name": row["short_name"] or "",
        "address": row["address"] or "",
        "phone": row["phone"] or (contact["phone"] if contact else "") or "",
        "tax_id": row["tax_id"] or "",
        "industry": row["industry"] or "",
        "contact": contact["name"] if contact else "",
        "bank": "",
        "account": "",
    }
    for key in ("customer", "party_a"):
        if key in data:
            data[key].update({k: v for k, v in customer.items() if k in data[key]})
    if "proposal" in data:
        kind_title = kinds.KINDS[request.kind].title[request.locale]
        data["proposal"]["title"] = f"{customer['short_name'] or customer['full_name']} {kind_title}"
    return data


def to_jsonable(value: Any) -> Any:
    """Data snapshots are JSON: Decimals, dates and UUIDs become strings."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
