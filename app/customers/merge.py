"""Merging two records of one company (客户合并): the absorbed customer's rows move to the survivor,
the absorbed customer is deleted, and the ownership ledger records the merge on both chains.

What moves is :data:`REFERENCES`: every column of a tenant table that names a customer — the foreign
keys to ``customers`` (``tests/integration/customers/test_merge.py`` fails when the catalog has one
this list does not handle) and the few columns that name one without a key (envelopes, documents and
notifications by subject). The history stays as it was written: the ownership ledger, handover items
and import rows keep naming the absorbed id (:data:`KEPT`), and the audit log keeps a copy of the
absorbed customer.

The survivor keeps its own values; an empty field takes the absorbed customer's (:data:`FILLED`; a tax
id that makes it collide with a third customer is a 409, nothing merged). Its owner stays, or, when it
has none, it takes the absorbed customer's; the later last follow-up and the earlier next one count.

Refused (409, nothing changed): while either has an envelope out for signature; while both were
referred (each has a referral reward); while another change holds either row (a claim, a handover, a
follow-up being logged: the rows are locked ``NOWAIT``). A claim or handover that waited for a merge
finds the absorbed customer gone and answers 409 itself. Who: a manager of both customers'
territories, or an owner/admin; invisible customers are 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg

from app import audit
from app.customers import duplicates, identity
from app.customers.duplicates import CompanyKeys
from app.customers.ledger import OwnershipChange
from app.customers.owner_changes import Moves, change_owners
from app.customers.schemas import CustomerRead, MergeBody, MergeCandidate, MergeRead
from app.customers.service import CUSTOMER_NAMES, SELECT_CUSTOMER, load_visible
from app.db import Tx
from app.errors import Conflict, Forbidden, ValidationFailed
from app.rows import to_struct, to_structs
from app.sql import Params
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class Reference:
    """A column of ``table`` naming a customer. ``sql`` moves the absorbed customer's rows (``$1``
    tenant, ``$2`` absorbed, ``$3`` survivor); by default every row naming the absorbed one. A row
    ``sql`` leaves behind is the survivor's duplicate and goes with the absorbed customer (its key
    cascades)."""

    table: str
    column: str
    sql: str | None = None
    foreign_key: bool = True

    def statement(self) -> str:
        return self.sql or (
            f"UPDATE {self.table} SET {self.column} = $3 WHERE tenant = $1 AND {self.column} = $2"
        )


REFERENCES: Final = (
    Reference("customer_contacts", "customer_id"),
    Reference("customer_followups", "customer_id"),
    Reference("customer_grade_changes", "customer_id"),
    Reference("customer_conflicts", "customer_id"),
    Reference("cross_territory_grants", "customer_id"),
    Reference(  # one pending request per member and customer: a second one is the same request
        "cross_territory_requests",
        "customer_id",
        "UPDATE cross_territory_requests r SET customer_id = $3 WHERE r.tenant = $1 AND r.customer_id = $2"
        " AND NOT (r.status = 'pending' AND EXISTS (SELECT 1 FROM cross_territory_requests s"
        " WHERE s.tenant = $1 AND s.customer_id = $3 AND s.membership_id = r.membership_id"
        " AND s.status = 'pending'))",
    ),
    Reference("deals", "customer_id"),
    Reference("vendor_registrations", "customer_id"),  # follows its deal
    Reference("leads", "customer_id"),
    Reference("visit_plan_items", "customer_id"),
    Reference("market_incidents", "customer_id"),
    Reference(  # the same scheduled visit (same start, same offset) on both: the survivor's stays
        "return_visits",
        "customer_id",
        "UPDATE return_visits r SET customer_id = $3 WHERE r.tenant = $1 AND r.customer_id = $2"
        " AND NOT EXISTS (SELECT 1 FROM return_visits s WHERE s.tenant = $1 AND s.customer_id = $3"
        " AND s.scheduled_from = r.scheduled_from AND s.offset_days = r.offset_days)",
    ),
    Reference(  # one open cadence task per kind: the absorbed one's is skipped when the survivor has one
        "sales_tasks",
        "customer_id",
        "UPDATE sales_tasks a SET customer_id = $3, status = CASE WHEN a.status = 'open'"
        " AND a.source = 'cadence' AND EXISTS (SELECT 1 FROM sales_tasks s WHERE s.tenant = $1"
        " AND s.customer_id = $3 AND s.kind = a.kind AND s.status = 'open' AND s.source = 'cadence')"
        " THEN 'skipped' ELSE a.status END WHERE a.tenant = $1 AND a.customer_id = $2",
    ),
    Reference("referral_rewards", "referred_customer_id"),  # both referred: refused before
    Reference("referral_rewards", "referrer_customer_id"),
    Reference(  # customers the absorbed one referred; the survivor never refers itself
        "customers",
        "referrer_customer_id",
        "UPDATE customers SET referrer_customer_id = CASE WHEN id = $3 THEN NULL ELSE $3 END"
        " WHERE tenant = $1 AND referrer_customer_id = $2",
    ),
    Reference(  # its customer, and its subject when that is the customer (one row changed once)
        "envelopes",
        "customer_id",
        "UPDATE envelopes SET customer_id = CASE WHEN customer_id = $2 THEN $3 ELSE customer_id END,"
        " subject_id = CASE WHEN subject_type = 'customer' AND subject_id = $2::uuid::text"
        " THEN $3::uuid::text ELSE subject_id END WHERE tenant = $1"
        " AND (customer_id = $2 OR (subject_type = 'customer' AND subject_id = $2::uuid::text))",
        foreign_key=False,
    ),
    Reference(
        "documents",
        "subject_id",
        "UPDATE documents SET subject_id = $3::uuid::text WHERE tenant = $1 AND subject_type = 'customer'"
        " AND subject_id = $2::uuid::text",
        foreign_key=False,
    ),
    Reference(
        "notifications",
        "subject_id",
        "UPDATE notifications SET subject_id = $3 WHERE tenant = $1 AND subject_type = 'customer'"
        " AND subject_id = $2",
        foreign_key=False,
    ),
)
# Every move in one statement (one round trip): each reference's UPDATE a CTE, their counts in order.
# The conditions of one CTE read the rows as they were before the statement; no two CTEs change the
# same row (a table with two such columns is one reference, or its two columns never name one
# customer in the same row).
_MOVE_ALL = (
    "WITH "
    + ", ".join(f"m{i} AS ({ref.statement()} RETURNING 1)" for i, ref in enumerate(REFERENCES))
    + " SELECT "
    + ", ".join(f"(SELECT count(*) FROM m{i})" for i in range(len(REFERENCES)))
)
# Columns naming a customer that keep the absorbed id: what was written then (history).
KEPT: Final = (
    ("customer_ownership_history", "customer_id"),
    ("handover_items", "customer_id"),
    ("customer_import_rows", "customer_id"),
)
# The survivor's empty fields that take the absorbed customer's value.
FILLED: Final = (
    "short_name",
    "tax_id",
    "phone",
    "address",
    "industry",
    "size_revenue_band",
    "headcount",
    "current_software",
    "source",
    "referrer",
    "referrer_contact",
    "referrer_customer_id",
)
_LOCK = "SELECT id FROM customers WHERE tenant = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE NOWAIT"


async def _lock(tx: Tx, ids: list[UUID]) -> None:
    try:
        await tx.fetch(_LOCK, tx.tenant_id, ids)
    except asyncpg.LockNotAvailableError:
        raise Conflict(
            "One of these customers is being changed right now (a claim, a handover or a follow-up);"
            " try again",
            extra={"rule": "busy"},
        ) from None


async def _refusal(tx: Tx, ids: list[UUID]) -> Conflict | None:
    out = await tx.fetchval(
        "SELECT count(*) FROM envelopes WHERE tenant = $1 AND customer_id = ANY($2::uuid[])"
        " AND status = 'sent'",
        tx.tenant_id,
        ids,
    )
    if out:
        return Conflict(
            "A contract is out for signature for one of these customers; merge them once it is signed,"
            " declined or voided",
            extra={"rule": "envelope_out", "envelopes": out},
        )
    referred = await tx.fetchval(
        "SELECT count(DISTINCT referred_customer_id) FROM referral_rewards WHERE tenant = $1"
        " AND referred_customer_id = ANY($2::uuid[])",
        tx.tenant_id,
        ids,
    )
    if referred == 2:
        return Conflict(
            "Both customers have a referral reward; remove one of them first", extra={"rule": "two_referrals"}
        )
    return None


def _filled(survivor: asyncpg.Record, absorbed: asyncpg.Record) -> dict[str, Any]:
    values = {
        f: absorbed[f]
        for f in FILLED
        if survivor[f] in (None, "") and absorbed[f] not in (None, "") and absorbed[f] != survivor["id"]
    }
    if survivor["owner_membership_id"] is None and absorbed["owner_membership_id"] is not None:
        values["owner_membership_id"] = absorbed["owner_membership_id"]
    return values


async def _update_survivor(
    tx: Tx, scope: TenantScope, survivor: asyncpg.Record, absorbed: asyncpg.Record, values: dict[str, Any]
) -> None:
    columns = dict(values)
    if "tax_id" in values:  # a new identity: it must not be a third customer's
        keys = CompanyKeys(
            identity.identity_key(values["tax_id"], survivor["full_name"]),
            identity.company_name_key(survivor["full_name"]),
            values["tax_id"],
        )
        await duplicates.lock_keys(tx, scope, keys)
        existing = await duplicates.find_existing(tx, scope, keys, exclude=survivor["id"])
        if existing is not None:
            raise duplicates.duplicate_error(existing)
        columns["identity_key"] = keys.identity_key
    if "short_name" in values:
        columns["search_text"] = identity.search_text(survivor["full_name"], values["short_name"])
    if "phone" in values:
        columns["phone_digits"] = identity.phone_digits(values["phone"])
    p = Params(scope.tenant_id, survivor["id"])
    sets = [f"{column} = {p(value)}" for column, value in columns.items()]
    sets.append(
        f"last_followup_at = GREATEST(last_followup_at, {p(absorbed['last_followup_at'])}::timestamptz)"
    )
    sets.append(f"next_followup_at = LEAST(next_followup_at, {p(absorbed['next_followup_at'])}::timestamptz)")
    await tx.execute(
        f"UPDATE customers SET {', '.join(sets)}, updated_at = now() WHERE tenant = $1 AND id = $2", *p.values
    )


async def merge_customers(scope: TenantScope, survivor_id: UUID, data: MergeBody) -> MergeRead:
    """Merge ``data.absorb_id`` into ``survivor_id`` (see the module): 404 for a customer the member
    cannot see (another tenant's), 403 unless they manage both territories, 422 for the same id twice
    or a blank reason, 409 as the module says."""
    scope.require("manager")
    reason = data.reason.strip()
    if not reason:
        raise ValidationFailed.field("reason", "Required")
    if data.absorb_id == survivor_id:
        raise ValidationFailed.field("absorb_id", "Choose another customer than the one kept")
    async with scope.tx() as tx:
        first, access = await load_visible(tx, scope, survivor_id)
        other, _ = await load_visible(tx, scope, data.absorb_id)
        if not (access.manages(first["territory_id"]) and access.manages(other["territory_id"])):
            raise Forbidden("Merging customers needs a manager of both customers' territories")
        ids = [survivor_id, data.absorb_id]
        await _lock(tx, ids)
        select = SELECT_CUSTOMER + " WHERE c.tenant = $1 AND c.id = $2"
        survivor = await tx.fetchrow(select, scope.tenant_id, survivor_id)
        absorbed = await tx.fetchrow(select, scope.tenant_id, data.absorb_id)
        assert survivor is not None and absorbed is not None  # locked, so still there
        refusal = await _refusal(tx, ids)
        if refusal is not None:
            raise refusal
        if data.conflict_id is not None:
            await duplicates.resolve_conflict(scope, data.conflict_id, f"merged: {reason}")
        counts = await tx.fetchrow(_MOVE_ALL, scope.tenant_id, data.absorb_id, survivor_id)
        assert counts is not None
        moved: dict[str, int] = {}
        for i, ref in enumerate(REFERENCES):
            if counts[i]:
                moved[ref.table] = moved.get(ref.table, 0) + counts[i]
        await tx.execute(
            "DELETE FROM customers WHERE tenant = $1 AND id = $2", scope.tenant_id, data.absorb_id
        )
        values = _filled(survivor, absorbed)
        await _update_survivor(tx, scope, survivor, absorbed, values)
        snapshot = {
            k: absorbed[k]
            for k in ("full_name", "tax_id", "territory_id", "owner_membership_id", "grade", "status")
        }
        await audit.record(
            tx,
            scope.user_id,
            "customer.merged",
            "customer",
            survivor_id,
            reason=reason,
            data={
                "absorbed_id": data.absorb_id,
                "absorbed": snapshot,
                "moved": moved,
                "filled": sorted(values),
            },
        )
        await audit.record(
            tx,
            scope.user_id,
            "customer.merged_into",
            "customer",
            data.absorb_id,
            reason=reason,
            data={"survivor_id": survivor_id, "absorbed": snapshot},
        )
        row = await tx.fetchrow(select, scope.tenant_id, survivor_id)
        assert row is not None
        owner = values.get("owner_membership_id", survivor["owner_membership_id"])
        entries = Moves.listed(
            [
                OwnershipChange(data.absorb_id, absorbed["owner_membership_id"], owner),
                OwnershipChange(survivor_id, survivor["owner_membership_id"], owner),
            ]
        )
        # last: the ledger lock until commit. The absorbed one's entry names where it went.
        await change_owners(
            tx,
            scope,
            entries,
            cause="merge",
            reason=f"{reason} ({data.absorb_id} → {survivor_id})",
            created=True,
            record_unchanged=True,
        )
    return MergeRead(
        customer=to_struct(CustomerRead, row), absorbed_id=data.absorb_id, moved=moved, filled=sorted(values)
    )


async def likely_duplicates(scope: TenantScope, customer_id: UUID, limit: int = 5) -> list[MergeCandidate]:
    """Other customers the member sees that may be the same company as ``customer_id`` (same name
    key, credit code or phone digits), for a manager to merge; 404 if ``customer_id`` is invisible."""
    async with scope.tx() as tx:
        row, access = await load_visible(tx, scope, customer_id)
        p = Params(scope.tenant_id, customer_id, row["name_key"], row["tax_id"], row["phone_digits"])
        rows = await tx.fetch(
            "SELECT c.id, c.full_name, c.tax_id, c.phone, t.name AS territory_name, u.name AS owner_name"
            " FROM customers c" + CUSTOMER_NAMES + " WHERE c.tenant = $1 AND c.id <> $2"
            " AND (c.name_key = $3 OR c.tax_id = $4 OR c.phone_digits = $5)"
            f" AND {access.visible_sql(p)} ORDER BY c.created_at, c.id LIMIT {p(limit)}",
            *p.values,
        )
    return to_structs(MergeCandidate, rows)
