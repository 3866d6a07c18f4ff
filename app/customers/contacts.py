"""A customer's contacts (the people: approver, decision maker, influencer …). Seen by whoever sees
the customer; changed by whoever may change the customer."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from msgspec import UnsetType

from app import audit
from app.customers.masking import masks_for
from app.customers.schemas import ContactCreate, ContactRead, ContactUpdate
from app.customers.service import load_editable, load_visible
from app.db import Tx
from app.errors import NotFound, ValidationFailed
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.sql import Params
from tenants.scope import TenantScope

_COLUMNS = (
    "id, customer_id, name, title, phone, email, decision_role, influence, support, created_at, updated_at"
)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed.field("name", "Required")
    return cleaned


async def _fetch(tx: Tx, scope: TenantScope, customer_id: UUID, contact_id: UUID) -> asyncpg.Record:
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS} FROM customer_contacts WHERE tenant = $1 AND customer_id = $2 AND id = $3",
        scope.tenant_id,
        customer_id,
        contact_id,
    )
    if row is None:
        raise NotFound("No contact with this id")
    return row


async def _shown_columns(tx: Tx, scope: TenantScope, p: Params) -> str:
    """The contact ``k``'s columns as the member may see them (its customer ``c``'s pool may hide
    the contacts until claimed: ``masking``)."""
    shown = (await masks_for(tx, scope)).contact_columns(p, "c", "k")
    return ", ".join(shown.get(column, f"k.{column}") for column in _COLUMNS.split(", "))


_SHOWN_FROM = " FROM customer_contacts k JOIN customers c ON c.tenant = k.tenant AND c.id = k.customer_id"


async def list_contacts(
    scope: TenantScope, customer_id: UUID, *, limit: int = 50, cursor: str | None = None
) -> Page[ContactRead]:
    check_limit(limit)
    after_at, after_id = decode_time_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        await load_visible(tx, scope, customer_id)
        p = Params(scope.tenant_id, customer_id, after_at, after_id, limit + 1)
        rows = await tx.fetch(
            f"SELECT {await _shown_columns(tx, scope, p)}{_SHOWN_FROM}"
            " WHERE k.tenant = $1 AND k.customer_id = $2"
            " AND ($3::timestamptz IS NULL OR (k.created_at, k.id) > ($3, $4::uuid))"
            " ORDER BY k.created_at, k.id LIMIT $5",
            *p.values,
        )
    items = to_structs(ContactRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def get_contact(scope: TenantScope, customer_id: UUID, contact_id: UUID) -> ContactRead:
    async with scope.tx() as tx:
        await load_visible(tx, scope, customer_id)
        p = Params(scope.tenant_id, customer_id, contact_id)
        row = await tx.fetchrow(
            f"SELECT {await _shown_columns(tx, scope, p)}{_SHOWN_FROM}"
            " WHERE k.tenant = $1 AND k.customer_id = $2 AND k.id = $3",
            *p.values,
        )
        if row is None:
            raise NotFound("No contact with this id")
        return to_struct(ContactRead, row)


async def create_contact(scope: TenantScope, customer_id: UUID, data: ContactCreate) -> ContactRead:
    name = _clean_name(data.name)
    async with scope.tx() as tx:
        await load_editable(tx, scope, customer_id)
        row = await tx.fetchrow(
            "INSERT INTO customer_contacts (tenant, customer_id, name, title, phone, email, decision_role,"
            f" influence, support) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_COLUMNS}",
            scope.tenant_id,
            customer_id,
            name,
            data.title,
            data.phone,
            data.email,
            data.decision_role,
            data.influence,
            data.support,
        )
        assert row is not None
        await audit.record(
            tx,
            scope.user_id,
            "contact.created",
            "customer",
            customer_id,
            data={"contact_id": row["id"], "name": name},
        )
        return to_struct(ContactRead, row)


async def update_contact(
    scope: TenantScope, customer_id: UUID, contact_id: UUID, data: ContactUpdate
) -> ContactRead:
    changes: dict[str, Any] = {
        f: getattr(data, f) for f in data.__struct_fields__ if not isinstance(getattr(data, f), UnsetType)
    }
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
    async with scope.tx() as tx:
        await load_editable(tx, scope, customer_id)
        current = await _fetch(tx, scope, customer_id, contact_id)
        if not changes:
            return to_struct(ContactRead, current)
        p = Params(scope.tenant_id, customer_id, contact_id)
        assignments = ", ".join(f"{column} = {p(value)}" for column, value in changes.items())
        row = await tx.fetchrow(
            f"UPDATE customer_contacts SET {assignments}, updated_at = now()"
            f" WHERE tenant = $1 AND customer_id = $2 AND id = $3 RETURNING {_COLUMNS}",
            *p.values,
        )
        assert row is not None
        await audit.record(
            tx,
            scope.user_id,
            "contact.updated",
            "customer",
            customer_id,
            data={
                "contact_id": contact_id,
                **{k: {"from": current[k], "to": v} for k, v in changes.items()},
            },
        )
        return to_struct(ContactRead, row)


async def delete_contact(scope: TenantScope, customer_id: UUID, contact_id: UUID) -> None:
    async with scope.tx() as tx:
        await load_editable(tx, scope, customer_id)
        name = await tx.fetchval(
            "DELETE FROM customer_contacts WHERE tenant = $1 AND customer_id = $2 AND id = $3 RETURNING name",
            scope.tenant_id,
            customer_id,
            contact_id,
        )
        if name is None:
            raise NotFound("No contact with this id")
        await audit.record(
            tx,
            scope.user_id,
            "contact.deleted",
            "customer",
            customer_id,
            data={"contact_id": contact_id, "name": name},
        )
