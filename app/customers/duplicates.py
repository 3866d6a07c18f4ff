"""The duplicate guard (撞单) and the conflict items it leaves for managers.

A conflict tells the managers of the existing customer's territory at once, in-app (its managers at
or above it, else the owners and admins: ``tenants.access.territory_managers``; never the member who
tried); an import tells each of them once, with its count. The open conflicts are in the managers'
daily briefing until resolved.

One company is in a tenant once. Its identity is the tax id when known, else the name key
(``identity.py``); the UNIQUE (tenant, identity_key) index enforces that. Because a company may be
entered once with and once without its tax id, a new customer also collides with an existing one
of the same name key when either of the two has no tax id. Both keys are locked (advisory,
transaction-scoped) before the check, so two concurrent entries cannot both pass it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from app import audit, credit_code
from app.customers import identity
from app.customers.schemas import ConflictRead, CustomerCreate, DuplicateCheckRead
from app.db import Tx
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import translate
from app.notifications.service import Notice, notify
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from tenants.access import managed_territory_ids, territory_managers
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class CompanyKeys:
    identity_key: str
    name_key: str
    tax_id: str | None


async def lock_keys(tx: Tx, scope: TenantScope, keys: CompanyKeys) -> None:
    for key in sorted({keys.identity_key, "name:" + keys.name_key}):
        await tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || ':' || $2, 0))",
            scope.tenant_id,
            key,
        )


async def find_existing(
    tx: Tx, scope: TenantScope, keys: CompanyKeys, exclude: UUID | None = None
) -> asyncpg.Record | None:
    """The customer that ``keys`` collide with (whoever can see it), or ``None``."""
    return await tx.fetchrow(
        "SELECT c.id, c.full_name, c.territory_id, t.name AS territory_name, c.owner_membership_id,"
        " u.name AS owner_name FROM customers c"
        " JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id"
        " LEFT JOIN memberships m ON m.tenant = c.tenant AND m.id = c.owner_membership_id"
        " LEFT JOIN users u ON u.id = m.user_id"
        " WHERE c.tenant = $1 AND c.id IS DISTINCT FROM $5"
        " AND (c.identity_key = $2 OR (c.name_key = $3 AND ($4::text IS NULL OR c.tax_id IS NULL)))"
        " ORDER BY (c.identity_key = $2) DESC LIMIT 1",
        scope.tenant_id,
        keys.identity_key,
        keys.name_key,
        keys.tax_id,
        exclude,
    )


async def record_conflict(
    tx: Tx, scope: TenantScope, existing: asyncpg.Record, data: CustomerCreate
) -> UUID | None:
    """Leave a conflict item for the managers of the existing customer's territory. Nothing is
    recorded when the member trying already owns the customer (they just entered it twice)."""
    if scope.membership_id is not None and existing["owner_membership_id"] == scope.membership_id:
        return None
    conflict_id: UUID = await tx.fetchval(
        "INSERT INTO customer_conflicts (tenant, customer_id, attempted_by, attempted_data, territory_id)"
        " VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id",
        scope.tenant_id,
        existing["id"],
        scope.membership_id,
        msgspec.json.encode(data).decode(),
        existing["territory_id"],
    )
    await audit.record(
        tx,
        scope.user_id,
        "customer.duplicate_attempted",
        "customer",
        existing["id"],
        data={"conflict_id": conflict_id, "full_name": data.full_name},
    )
    owned = existing["owner_membership_id"] is not None
    params = {
        "member": scope.name or scope.email or "",
        "customer": existing["full_name"],
        "owner": existing["owner_name"] or "",
        "territory": existing["territory_name"],
    }
    people = await territory_managers(
        tx, scope.tenant_id, existing["territory_id"], besides=scope.membership_id
    )
    await notify(
        tx,
        [
            Notice(
                p["membership_id"],
                "customer_conflict" if owned else "customer_conflict_pool",
                f"customer_conflict:{conflict_id}:{p['membership_id']}",
                "customer_conflict",
                conflict_id,
                params,
            )
            for p in people
        ],
    )
    return conflict_id


async def tell_import_conflicts(
    tx: Tx, scope: TenantScope, import_id: UUID, territory_ids: list[UUID]
) -> None:
    """Tell the managers of the territories of an import's new conflicts (one territory id each),
    one notice per manager and import with their count (a later batch's conflicts of the same
    import, after a lost race, tell nobody again)."""
    counts: dict[UUID, int] = {}
    for territory_id in territory_ids:
        counts[territory_id] = counts.get(territory_id, 0) + 1
    per_person: dict[UUID, int] = {}
    for territory_id, count in counts.items():
        for p in await territory_managers(tx, scope.tenant_id, territory_id, besides=scope.membership_id):
            per_person[p["membership_id"]] = per_person.get(p["membership_id"], 0) + count
    member = scope.name or scope.email or ""
    await notify(
        tx,
        [
            Notice(
                membership_id,
                "customer_conflicts_imported",
                f"customer_conflicts:{import_id}:{membership_id}",
                "customer_import",
                import_id,
                {"member": member, "count": count},
            )
            for membership_id, count in per_person.items()
        ],
    )


def duplicate_error(existing: asyncpg.Record, conflict_id: UUID | None = None) -> Conflict:
    """409 naming who owns the existing company and in which territory (not its id: the member
    may not be allowed to see it)."""
    extra: dict[str, Any] = {
        "existing": {
            "full_name": existing["full_name"],
            "owner_name": existing["owner_name"],
            "owner_membership_id": str(existing["owner_membership_id"])
            if existing["owner_membership_id"]
            else None,
            "territory_id": str(existing["territory_id"]),
            "territory_name": existing["territory_name"],
        },
        "conflict_id": str(conflict_id) if conflict_id else None,
    }
    if existing["owner_membership_id"] is None:
        return Conflict(
            "This company is already a customer, in the pool of {territory}",
            territory=existing["territory_name"],
            extra=extra,
        )
    return Conflict(
        "This company is already a customer of {owner} in {territory}",
        owner=existing["owner_name"],
        territory=existing["territory_name"],
        extra=extra,
    )


async def check_duplicate(
    scope: TenantScope, full_name: str | None, tax_id: str | None
) -> DuplicateCheckRead:
    """Would entering this company collide (撞单)? The check ``create_customer`` runs, without
    entering anything or leaving a conflict item: the match's name, owner and territory (as its 409
    says them), or ``match`` false. A tax id that is not well formed is ignored (the name decides)."""
    name = " ".join((full_name or "").split())
    code = credit_code.normalize(tax_id) if tax_id and tax_id.strip() else None
    if code is not None and not credit_code.is_well_formed(code):
        code = None
    name_key = identity.company_name_key(name) if name else ""
    if not name_key and code is None:
        return DuplicateCheckRead(match=False)
    ident = identity.identity_key(code, name)
    # no name yet: only the tax id decides (a name key never holds a colon, so this matches none)
    keys = CompanyKeys(ident, name_key or ident, code)
    async with scope.tx() as tx:
        existing = await find_existing(tx, scope, keys)
    if existing is None:
        return DuplicateCheckRead(match=False)
    said = duplicate_error(existing)
    owner = existing["owner_membership_id"]
    return DuplicateCheckRead(
        match=True,
        full_name=existing["full_name"],
        owner_name=existing["owner_name"],
        territory_name=existing["territory_name"],
        in_pool=owner is None,
        yours=owner is not None and owner == scope.membership_id,
        message=translate(scope.locale, said.detail or said.title, **said.params),
    )


# --- the managers' list ----------------------------------------------------------------------

_CONFLICT_SQL = (
    "SELECT x.id, x.customer_id, c.full_name AS customer_name, x.territory_id, t.name AS territory_name,"
    " x.attempted_by, u.name AS attempted_by_name, x.attempted_data, x.status, x.created_at, x.resolved_at,"
    " x.resolution FROM customer_conflicts x"
    " JOIN customers c ON c.tenant = x.tenant AND c.id = x.customer_id"
    " JOIN territories t ON t.tenant = x.tenant AND t.id = x.territory_id"
    " LEFT JOIN memberships m ON m.tenant = x.tenant AND m.id = x.attempted_by"
    " LEFT JOIN users u ON u.id = m.user_id WHERE x.tenant = $1"
)


def _conflict(row: asyncpg.Record) -> ConflictRead:
    values = dict(row)
    if isinstance(values["attempted_data"], str):
        values["attempted_data"] = json.loads(values["attempted_data"])
    return ConflictRead(**values)


async def list_conflicts(
    scope: TenantScope, *, status: str = "open", limit: int = 50, cursor: str | None = None
) -> Page[ConflictRead]:
    """Conflicts in the territories the member manages (owner/admin: all), newest first."""
    scope.require("manager")
    if status not in ("open", "resolved"):
        raise ValidationFailed.field("status", "Use open or resolved")
    check_limit(limit)
    after_at, after_id = decode_time_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        everything = scope.at_least("admin")
        managed = [] if everything else await managed_territory_ids(tx, scope)
        rows = await tx.fetch(
            _CONFLICT_SQL + " AND x.status = $2 AND ($3 OR x.territory_id = ANY($4::uuid[]))"
            " AND ($5::timestamptz IS NULL OR (x.created_at, x.id) < ($5, $6::uuid))"
            " ORDER BY x.created_at DESC, x.id DESC LIMIT $7",
            scope.tenant_id,
            status,
            everything,
            managed,
            after_at,
            after_id,
            limit + 1,
        )
    items = [_conflict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def resolve_conflict(scope: TenantScope, conflict_id: UUID, resolution: str | None) -> ConflictRead:
    """Mark a conflict resolved (idempotent). Only its territory's managers or an owner/admin; for
    anyone else it does not exist (404)."""
    scope.require("manager")
    async with scope.tx() as tx:
        everything = scope.at_least("admin")
        managed = [] if everything else await managed_territory_ids(tx, scope)
        row = await tx.fetchrow(
            "UPDATE customer_conflicts SET status = 'resolved', resolved_at = coalesce(resolved_at, now()),"
            " resolved_by = coalesce(resolved_by, $3), resolution = coalesce($4, resolution)"
            " WHERE tenant = $1 AND id = $2 AND ($5 OR territory_id = ANY($6::uuid[])) RETURNING id",
            scope.tenant_id,
            conflict_id,
            scope.membership_id,
            resolution,
            everything,
            managed,
        )
        if row is None:
            raise NotFound("No conflict with this id")
        await audit.record(
            tx,
            scope.user_id,
            "customer_conflict.resolved",
            "customer_conflict",
            conflict_id,
            reason=resolution,
        )
        found = await tx.fetchrow(_CONFLICT_SQL + " AND x.id = $2", scope.tenant_id, conflict_id)
        assert found is not None
        return _conflict(found)
