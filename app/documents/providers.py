"""Subject data providers: ``subject_type`` → an async function returning a document's variables.

A document is always *about* something: a customer (proposals), a deal or quote (contracts, quote
sheets), a handover (handover sheets). Each subject type has one provider in ``PROVIDERS``, put
there by ``register_provider`` from ``app.wiring`` (nothing registers itself at import); the document
service and the render job look it up and never know the subject's tables. A subject type without a
provider is refused (422) like an unknown one. A provider:

- raises ``NotFound`` when the subject does not exist *or the scope may not see it* (the same 404 as
  another tenant's id), so calling it at request time is also the access check;
- returns the full variable tree of the kind (start from ``kinds.blank(...)`` and fill in), since
  templates render with ``StrictUndefined``;
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

from app.customers.service import load_visible
from app.db import Tx
from app.documents import kinds
from app.errors import NotFound
from app.localtime import local_today
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


async def customer_subject(request: SubjectRequest) -> kinds.Data:
    """A customer: proposals about it, or a contract/quote shell with Party A filled in. Visibility
    follows the customers module (a rep sees their own customers and their territories' pools)."""
    try:
        customer_id = UUID(request.subject_id)
    except ValueError:
        raise NotFound("No customer with this id") from None
    row, _ = await load_visible(request.tx, request.scope, customer_id)
    contact = await request.tx.fetchrow(
        "SELECT name, phone, email FROM customer_contacts WHERE tenant = $1 AND customer_id = $2"
        " ORDER BY (decision_role = 'decision_maker') DESC, created_at, id LIMIT 1",
        request.scope.tenant_id,
        customer_id,
    )
    locale, today = request.locale, request.today()
    data: kinds.Data = kinds.blank(kinds.sample(request.kind, locale))
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
    author = {
        "name": request.author.get("name", ""),
        "title": "",
        "phone": "",
        "email": request.author.get("email", ""),
    }
    company_name = request.tenant_name
    for key, value in (("customer", customer), ("party_a", customer), ("author", author)):
        if key in data:
            data[key].update({k: v for k, v in value.items() if k in data[key]})
    if "company" in data:
        data["company"]["name"] = company_name
    if "party_b" in data:
        data["party_b"].update(full_name=company_name, name=company_name, contact=author["name"])
    if "proposal" in data:
        kind_title = kinds.KINDS[request.kind].title[locale]
        data["proposal"].update(
            type=kind_title,
            title=f"{customer['short_name'] or customer['full_name']} {kind_title}",
            version="V1.0",
            date=today,
            number="",
        )
        data["revisions"] = [
            {
                "version": "V1.0",
                "date": today,
                "author": author["name"],
                "note": _t(locale, "初稿", "First draft"),
            }
        ]
        data["contact"].update({k: v for k, v in author.items() if k in data["contact"]})
    for block in ("contract", "quote", "handover"):
        if block in data and "date" in data[block]:
            data[block]["date"] = today
    if "maintenance" in data:  # the handbook's defaults: one year of free same-version upgrades
        data["maintenance"]["free_upgrade_years"] = "1"
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
