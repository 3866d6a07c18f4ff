"""Lead intake: the one code path for leads from the API (``POST /api/v1/leads``) and from the public
inquiry forms. ``take_leads`` is a plain service function: other features may call it or hook after it.

One transaction per call, set-based whatever the number of leads (at most ``MAX_BATCH``):

1. every lead is checked first (tax id, territory, the same company twice in one batch); any bad lead
   is a 422 naming it (``leads[3].tax_id``) and nothing is saved — a batch is all or nothing;
2. with an idempotency key, the request is recorded under it: the same key with the same leads answers
   what the first request answered (nothing is taken twice), with other leads 422;
3. the duplicate guard (撞单) runs over the batch under the same advisory locks as entering a customer
   by hand (``app.customers.duplicates``): a company already a customer is not entered again — its
   owner is asked to follow it up (its next follow-up becomes due now, and they are told), or, when it
   is in the pool, its territory's managers are told;
4. the new companies are inserted unowned, in the pool of their territory (the company's first
   top-level territory unless the lead names one, its credit code's division is mapped to one, or the
   form names one), with the contact when one is given,
   their first grade entry and the lead's log row; the territory's managers are told (one notice per
   manager and batch).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import msgspec

from app import audit, credit_code
from app.customers import identity
from app.db import Tx
from app.errors import ValidationFailed
from app.i18n import N_
from app.leads.schemas import MAX_BATCH, IntakeRead, LeadIn, LeadResult
from app.notifications.service import Notice, notify
from app.outbound.events import emit
from tenants.access import territory_managers
from tenants.scope import TenantScope

M_TAX_ID = N_("A unified social credit code has 18 digits and capital letters")
M_NO_TERRITORY = N_("No territory with this id")
M_NO_TERRITORIES = N_("The company has no territory yet to take leads into")
M_SAME_AS = N_("The same company as lead {index}")
M_REUSED_KEY = N_("This Idempotency-Key was used with other leads")
M_TOO_MANY = N_("At most {count} leads at once")


@dataclass(frozen=True, slots=True)
class Source:
    """Where the leads come from: ``api`` (with the key) or ``form`` (with the form)."""

    channel: str
    api_key_id: UUID | None = None
    form_id: UUID | None = None
    territory_id: UUID | None = None  # the form's territory: the default for its leads

    @property
    def client(self) -> str:
        return f"key:{self.api_key_id}" if self.channel == "api" else f"form:{self.form_id}"


@dataclass(slots=True)
class _Row:
    index: int
    lead: LeadIn
    full_name: str
    tax_id: str | None
    identity_key: str
    name_key: str
    territory_id: UUID | None = None


def _field(many: bool, index: int, name: str) -> str:
    return f"leads[{index}].{name}" if many else name


def _clean(leads: Sequence[LeadIn], many: bool) -> list[_Row]:
    errors: list[dict[str, Any]] = []
    rows: list[_Row] = []
    for i, lead in enumerate(leads):
        name = " ".join(lead.full_name.split())
        if not name:
            errors.append({"field": _field(many, i, "full_name"), "message": N_("Required"), "params": {}})
            continue
        tax_id = credit_code.normalize(lead.tax_id) if lead.tax_id and lead.tax_id.strip() else None
        if tax_id is not None and not credit_code.is_well_formed(tax_id):
            errors.append({"field": _field(many, i, "tax_id"), "message": M_TAX_ID, "params": {}})
            continue
        rows.append(
            _Row(i, lead, name, tax_id, identity.identity_key(tax_id, name), identity.company_name_key(name))
        )
    if errors:
        raise ValidationFailed(extra={"errors": errors})
    return rows


def _same_company(rows: list[_Row], many: bool) -> None:
    """Two leads of one batch for one company (the duplicate guard's rule) are refused, naming both."""
    errors: list[dict[str, Any]] = []
    by_identity: dict[str, int] = {}
    by_name: dict[str, list[tuple[int, bool]]] = {}
    for row in rows:
        first = by_identity.get(row.identity_key)
        if first is None:
            first = next(
                (i for i, taxed in by_name.get(row.name_key, []) if row.tax_id is None or not taxed), None
            )
        if first is not None:
            errors.append(
                {
                    "field": _field(many, row.index, "full_name"),
                    "message": M_SAME_AS,
                    "params": {"index": first},
                }
            )
            continue
        by_identity[row.identity_key] = row.index
        by_name.setdefault(row.name_key, []).append((row.index, row.tax_id is not None))
    if errors:
        raise ValidationFailed(extra={"errors": errors})


def body_hash(leads: Sequence[LeadIn]) -> bytes:
    """The digest an idempotency key is bound to: the leads as decoded (not the bytes as sent)."""
    return hashlib.sha256(msgspec.json.encode(list(leads))).digest()


async def take_leads(
    scope: TenantScope,
    leads: LeadIn | Sequence[LeadIn],
    source: Source,
    *,
    idempotency_key: str | None = None,
) -> IntakeRead:
    """Take one lead or a batch (see the module docstring); answers what each lead became."""
    many = not isinstance(leads, LeadIn)
    batch: list[LeadIn] = [leads] if isinstance(leads, LeadIn) else list(leads)
    if len(batch) > MAX_BATCH:
        raise ValidationFailed.field("leads", M_TOO_MANY, count=MAX_BATCH)
    rows = _clean(batch, many)
    _same_company(rows, many)
    async with scope.tx() as tx:
        request_id: UUID | None = None
        if idempotency_key is not None:
            request_id, answered = await _claim(tx, scope, source, idempotency_key, body_hash(batch))
            if answered is not None:
                return answered
        await _territories(tx, scope, rows, source, many)
        answer = await _take(tx, scope, rows, source)
        if request_id is not None:
            await tx.execute(
                "UPDATE lead_requests SET response = $3::jsonb WHERE tenant = $1 AND id = $2",
                scope.tenant_id,
                request_id,
                msgspec.json.encode(answer).decode(),
            )
        return answer


async def _claim(
    tx: Tx, scope: TenantScope, source: Source, key: str, digest: bytes
) -> tuple[UUID | None, IntakeRead | None]:
    """Record the request under its key, or answer what the earlier request with that key answered
    (waiting for it to commit when it is still running; 422 when it sent other leads)."""
    request_id: UUID | None = await tx.fetchval(
        "INSERT INTO lead_requests (tenant, client, idempotency_key, body_hash) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant, client, idempotency_key) DO NOTHING RETURNING id",
        scope.tenant_id,
        source.client,
        key,
        digest,
    )
    if request_id is not None:
        return request_id, None
    earlier = await tx.fetchrow(
        "SELECT body_hash, response FROM lead_requests"
        " WHERE tenant = $1 AND client = $2 AND idempotency_key = $3",
        scope.tenant_id,
        source.client,
        key,
    )
    assert earlier is not None and earlier["response"] is not None  # committed with its answer
    if bytes(earlier["body_hash"]) != digest:
        raise ValidationFailed.field("Idempotency-Key", M_REUSED_KEY)
    response = earlier["response"]
    return None, msgspec.json.decode(
        response if isinstance(response, str) else json.dumps(response), type=IntakeRead
    )


async def _territories(tx: Tx, scope: TenantScope, rows: list[_Row], source: Source, many: bool) -> None:
    """Each lead's territory: its own (which must exist), else the one its credit code is mapped to
    (``acre_code_territory``), else the form's, else the first top-level."""
    named = sorted(
        {r.lead.territory_id for r in rows if r.lead.territory_id is not None}
        | ({source.territory_id} if source.territory_id else set())
    )
    found = {
        r["id"]
        for r in await tx.fetch(
            "SELECT id FROM territories WHERE tenant = $1 AND id = ANY($2::uuid[])", scope.tenant_id, named
        )
    }
    errors = [
        {"field": _field(many, r.index, "territory_id"), "message": M_NO_TERRITORY, "params": {}}
        for r in rows
        if r.lead.territory_id is not None and r.lead.territory_id not in found
    ]
    if errors:
        raise ValidationFailed(extra={"errors": errors})
    coded = [r for r in rows if r.lead.territory_id is None and r.tax_id is not None]
    if coded:  # placed by the credit code's division where the company mapped it
        placed = await tx.fetch(
            "SELECT acre_code_territory($1, t) AS id"
            " FROM unnest($2::text[]) WITH ORDINALITY x(t, n) ORDER BY n",
            scope.tenant_id,
            [r.tax_id for r in coded],
        )
        for r, p in zip(coded, placed, strict=True):
            r.territory_id = p["id"]
    fallback = source.territory_id if source.territory_id in found else None
    if fallback is None and any(r.lead.territory_id is None and r.territory_id is None for r in rows):
        fallback = await tx.fetchval(
            "SELECT id FROM territories WHERE tenant = $1 AND parent_id IS NULL"
            " ORDER BY created_at, id LIMIT 1",
            scope.tenant_id,
        )
        if fallback is None:
            raise ValidationFailed.field(_field(many, 0, "territory_id"), M_NO_TERRITORIES)
    for r in rows:
        r.territory_id = r.lead.territory_id or r.territory_id or fallback


# Lock every company key of the batch (the duplicate guard's advisory locks, in one statement, sorted).
_LOCK = """
SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || ':' || k, 0))
FROM (SELECT DISTINCT k FROM unnest($2::text[]) AS k ORDER BY k) keys
"""
# The customer each lead collides with (the rule of duplicates.find_existing), one probe per lead.
_EXISTING = """
SELECT k.i, x.id, x.territory_id, x.owner_membership_id, x.full_name
FROM unnest($2::text[], $3::text[], $4::boolean[], $5::int[]) AS k(identity_key, name_key, untaxed, i)
CROSS JOIN LATERAL (
    SELECT c.id, c.territory_id, c.owner_membership_id, c.full_name FROM customers c
    WHERE c.tenant = $1 AND (c.identity_key = k.identity_key
        OR (c.name_key = k.name_key AND (k.untaxed OR c.tax_id IS NULL)))
    ORDER BY (c.identity_key = k.identity_key) DESC LIMIT 1
) x
"""
_COLUMNS = (
    "full_name", "tax_id", "address", "phone", "phone_digits", "industry", "headcount", "source", "grade",
    "territory_id", "identity_key", "name_key", "search_text",
)  # fmt: skip
_TYPES = (
    "text", "text", "text", "text", "text", "text", "int", "text", "text", "uuid", "text", "text", "text",
)  # fmt: skip
_INSERT = f"""
WITH ins AS (
    INSERT INTO customers (tenant, {", ".join(_COLUMNS)})
    SELECT $1, {", ".join("n." + c for c in _COLUMNS)}
    FROM unnest({", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(_TYPES))}) AS n ({", ".join(_COLUMNS)})
    RETURNING id, identity_key, grade
), grades AS (
    INSERT INTO customer_grade_changes (tenant, customer_id, from_grade, to_grade, changed_by, reason)
    SELECT $1, ins.id, NULL, ins.grade, NULL, 'lead' FROM ins
)
SELECT id, identity_key FROM ins
"""
_CONTACTS = """
INSERT INTO customer_contacts (tenant, customer_id, name, title, phone, email)
SELECT $1, c.customer_id, c.name, c.title, c.phone, c.email
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
    AS c(customer_id, name, title, phone, email)
"""
_LOG = """
INSERT INTO leads (tenant, channel, form_id, api_key_id, customer_id, outcome, contact_name, email, message)
SELECT $1, $2, $3, $4, l.customer_id, l.outcome, l.contact_name, l.email, l.message
FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS l(customer_id, outcome, contact_name, email, message)
"""
# A known company with an owner: its next follow-up is due now (never later than it was).
_DUE_NOW = """
UPDATE customers SET next_followup_at = LEAST(coalesce(next_followup_at, now()), now()), updated_at = now()
WHERE tenant = $1 AND id = ANY($2::uuid[]) AND owner_membership_id IS NOT NULL
"""


async def _take(tx: Tx, scope: TenantScope, rows: list[_Row], source: Source) -> IntakeRead:
    tenant = scope.tenant_id
    keys = sorted({r.identity_key for r in rows} | {"name:" + r.name_key for r in rows})
    await tx.execute(_LOCK, tenant, keys)
    hits = {
        h["i"]: h
        for h in await tx.fetch(
            _EXISTING,
            tenant,
            [r.identity_key for r in rows],
            [r.name_key for r in rows],
            [r.tax_id is None for r in rows],
            [r.index for r in rows],
        )
    }
    new = [r for r in rows if r.index not in hits]
    created: dict[int, UUID] = {}
    if new:
        leads = [r.lead for r in new]
        values: list[list[Any]] = [
            [r.full_name for r in new],
            [r.tax_id for r in new],
            [x.address for x in leads],
            [x.phone for x in leads],
            [identity.phone_digits(x.phone) for x in leads],
            [x.industry for x in leads],
            [x.headcount for x in leads],
            [x.source for x in leads],
            [x.grade for x in leads],
            [r.territory_id for r in new],
            [r.identity_key for r in new],
            [r.name_key for r in new],
            [identity.search_text(r.full_name, None) for r in new],
        ]
        written = {w["identity_key"]: w["id"] for w in await tx.fetch(_INSERT, tenant, *values)}
        created = {r.index: written[r.identity_key] for r in new}
        lead_events = [
            {"customer_id": created[r.index], "from_owner": None, "to_owner": None, "cause": "lead",
             "channel": source.channel, "territory_id": r.territory_id, "actor": scope.membership_id}
            for r in new
        ]  # fmt: skip
        await emit(tx, "customer.created", lead_events)
        with_contact = [r for r in new if r.lead.contact_name or r.lead.email]
        if with_contact:
            await tx.execute(
                _CONTACTS,
                tenant,
                [created[r.index] for r in with_contact],
                [(r.lead.contact_name or r.lead.email or "")[:100] for r in with_contact],
                [r.lead.contact_title for r in with_contact],
                [r.lead.phone for r in with_contact],
                [r.lead.email for r in with_contact],
            )
    owned_known = [h["id"] for h in hits.values() if h["owner_membership_id"] is not None]
    if owned_known:
        await tx.execute(_DUE_NOW, tenant, owned_known)
    customer_of = {**created, **{i: h["id"] for i, h in hits.items()}}
    await tx.execute(
        _LOG,
        tenant,
        source.channel,
        source.form_id,
        source.api_key_id,
        [customer_of[r.index] for r in rows],
        ["known" if r.index in hits else "created" for r in rows],
        [r.lead.contact_name for r in rows],
        [r.lead.email for r in rows],
        [r.lead.message for r in rows],
    )
    await _tell(tx, scope, rows, created, hits, source)
    await audit.record(
        tx,
        scope.user_id,
        "leads.received",
        "lead_form" if source.form_id else "api_key",
        source.form_id or source.api_key_id or "",
        data={"created": len(created), "known": len(hits), "channel": source.channel},
    )
    return IntakeRead(
        created=len(created),
        known=len(hits),
        results=[
            LeadResult(
                index=r.index,
                outcome="known" if r.index in hits else "created",
                customer_id=created.get(r.index),
                territory_id=r.territory_id if r.index in created else None,
            )
            for r in rows
        ],
    )


async def _tell(
    tx: Tx,
    scope: TenantScope,
    rows: list[_Row],
    created: dict[int, UUID],
    hits: dict[int, Any],
    source: Source,
) -> None:
    """The territory's managers of the new leads (one notice each per batch and territory), the owner
    of each known company, the managers of a known company in the pool."""
    via = source.channel
    notices: list[Notice] = []
    batch_tag = uuid4()  # this batch's notices are its own (a later batch tells again)
    lead_at = {r.index: r.lead for r in rows}
    per_territory: dict[UUID, list[_Row]] = {}
    for r in rows:
        if r.index in created and r.territory_id is not None:
            per_territory.setdefault(r.territory_id, []).append(r)
    for territory_id, new in per_territory.items():
        for p in await territory_managers(tx, scope.tenant_id, territory_id):
            one = len(new) == 1
            notices.append(
                Notice(
                    p["membership_id"],
                    "lead_received" if one else "leads_received",
                    f"leads:{batch_tag}:{territory_id}:{p['membership_id']}",
                    "customer" if one else "territory",
                    created[new[0].index] if one else territory_id,
                    {"customer": new[0].full_name, "count": len(new), "via": via},
                )
            )
    for i, hit in hits.items():
        lead = lead_at[i]
        people = (
            [hit["owner_membership_id"]]
            if hit["owner_membership_id"] is not None
            else [
                p["membership_id"] for p in await territory_managers(tx, scope.tenant_id, hit["territory_id"])
            ]
        )
        for membership_id in people:
            notices.append(
                Notice(
                    membership_id,
                    "lead_known" if hit["owner_membership_id"] is not None else "lead_known_pool",
                    f"lead_known:{batch_tag}:{hit['id']}:{membership_id}",
                    "customer",
                    hit["id"],
                    {
                        "customer": hit["full_name"],
                        "contact": lead.contact_name or lead.email or "",
                        "via": via,
                    },
                )
            )
    await notify(tx, notices)
