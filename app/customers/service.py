"""Customers: create (behind the duplicate guard), read, list and search, update, delete, grades.

Visibility and edit rights are ``tenants.access.customers``: an invisible customer is 404, a visible
one the member may not change is 403. Every query filters on the tenant as well as relying on RLS.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from msgspec import UnsetType

from app import audit, credit_code
from app.customers import duplicates, identity
from app.customers.duplicates import CompanyKeys
from app.customers.ledger import OwnershipChange
from app.customers.masking import Masks, masks_for
from app.customers.owner_changes import Moves, change_owners
from app.customers.schemas import CustomerCreate, CustomerRead, CustomerUpdate, GradeChangeRead
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.outbound.events import emit
from app.rows import to_struct, to_structs
from app.sql import Params
from app.territories import division_map
from tenants.access import CustomerAccess, customer_access
from tenants.scope import TenantScope

CUSTOMER_NAMES = (  # the territory's and the owner's names of the customer row ``c``
    " JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id"
    " LEFT JOIN memberships m ON m.tenant = c.tenant AND m.id = c.owner_membership_id"
    " LEFT JOIN users u ON u.id = m.user_id"
)
SELECT_CUSTOMER = (  # unmasked: only where the reader may see every field (``select_customer``)
    "SELECT c.*, t.name AS territory_name, u.name AS owner_name FROM customers c" + CUSTOMER_NAMES
)


def select_customer(masks: Masks, p: Params) -> str:
    """``SELECT_CUSTOMER`` with the fields the reader's pools hide masked (``app.customers.masking``)."""
    return (
        f"SELECT {masks.customer_columns(p)}, t.name AS territory_name, u.name AS owner_name"
        " FROM customers c" + CUSTOMER_NAMES
    )


# --- loading with access -----------------------------------------------------------------------


async def load_visible(
    tx: Tx, scope: TenantScope, customer_id: UUID, *, lock: bool = False
) -> tuple[asyncpg.Record, CustomerAccess]:
    """The customer if the member may see it, else 404 (as for another tenant's id)."""
    access = await customer_access(tx, scope)
    masks = await masks_for(tx, scope)
    p = Params(scope.tenant_id, customer_id)
    row = await tx.fetchrow(
        select_customer(masks, p)
        + f" WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}"
        + (" FOR UPDATE OF c" if lock else ""),
        *p.values,
    )
    if row is None:
        raise NotFound("No customer with this id")
    return row, access


async def load_editable(
    tx: Tx, scope: TenantScope, customer_id: UUID
) -> tuple[asyncpg.Record, CustomerAccess]:
    """The customer, locked, if the member may change it: 404 if invisible, 403 if only visible."""
    row, access = await load_visible(tx, scope, customer_id, lock=True)
    if not access.can_edit(row["territory_id"], row["owner_membership_id"]):
        raise Forbidden("Only the customer's owner or a manager of its territory can change it")
    return row, access


# --- validation ---------------------------------------------------------------------------------


def _clean_name(full_name: str) -> str:
    name = " ".join(full_name.split())
    if not name:
        raise ValidationFailed.field("full_name", "Required")
    return name


def _clean_tax_id(tax_id: str | None) -> str | None:
    if tax_id is None or not tax_id.strip():
        return None
    normalized = credit_code.normalize(tax_id)
    if not credit_code.is_well_formed(normalized):
        raise ValidationFailed.field(
            "tax_id", "A unified social credit code has 18 digits and capital letters"
        )
    return normalized


def _keys(full_name: str, tax_id: str | None) -> CompanyKeys:
    return CompanyKeys(identity.identity_key(tax_id, full_name), identity.company_name_key(full_name), tax_id)


async def _check_territory(tx: Tx, scope: TenantScope, territory_id: UUID) -> None:
    if not await tx.fetchval(
        "SELECT 1 FROM territories WHERE tenant = $1 AND id = $2", scope.tenant_id, territory_id
    ):
        raise ValidationFailed.field("territory_id", "No territory with this id")


async def _placed(tx: Tx, scope: TenantScope, wanted: UUID | None, tax_id: str | None) -> UUID:
    """The territory asked for (which must exist), else the one the credit code is mapped to."""
    if wanted is not None:
        await _check_territory(tx, scope, wanted)
        return wanted
    if tax_id is None:
        raise ValidationFailed.field(
            "territory_id", "Choose a territory, or give a credit code to place it by"
        )
    placed = await division_map.code_territory(tx, scope, tax_id)
    if placed is None:
        raise ValidationFailed.field(
            "territory_id",
            "No territory is mapped to the division {code} of this credit code: choose one",
            code=tax_id[2:8],
        )
    return placed


async def _check_referrer(
    tx: Tx, scope: TenantScope, access: CustomerAccess, referrer_id: UUID | None
) -> None:
    if referrer_id is None:
        return
    p = Params(scope.tenant_id, referrer_id)
    if not await tx.fetchval(
        f"SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}", *p.values
    ):
        raise ValidationFailed.field("referrer_customer_id", "No customer with this id")


async def _initial_owner(tx: Tx, scope: TenantScope, wanted: UUID | UnsetType | None) -> UUID | None:
    if isinstance(wanted, UnsetType):
        return scope.membership_id
    if wanted is None or wanted == scope.membership_id:
        return wanted
    if not scope.at_least("manager"):
        raise Forbidden("A rep can enter customers only for themselves or into the pool")
    active = await tx.fetchval(
        "SELECT active FROM memberships WHERE tenant = $1 AND id = $2", scope.tenant_id, wanted
    )
    if not active:
        raise ValidationFailed.field("owner_membership_id", "No active member with this id")
    return wanted


async def _record_grade(
    tx: Tx, scope: TenantScope, customer_id: UUID, old: str | None, new: str, reason: str | None
) -> None:
    await tx.execute(
        "INSERT INTO customer_grade_changes (tenant, customer_id, from_grade, to_grade, changed_by, reason)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        scope.tenant_id,
        customer_id,
        old,
        new,
        scope.membership_id,
        reason,
    )


# --- create ---------------------------------------------------------------------------------------

_CREATE_COLUMNS = (
    "full_name",
    "short_name",
    "tax_id",
    "address",
    "phone",
    "industry",
    "size_revenue_band",
    "headcount",
    "it_status",
    "current_software",
    "source",
    "referrer",
    "referrer_customer_id",
    "grade",
    "status",
    "territory_id",
    "next_followup_at",
)


async def create_customer(scope: TenantScope, data: CustomerCreate) -> CustomerRead:
    """Enter a customer. An existing company is 409 naming its owner and territory, and leaves a
    conflict item for that territory's managers (committed even though the create is refused)."""
    full_name = _clean_name(data.full_name)
    tax_id = _clean_tax_id(data.tax_id)
    keys = _keys(full_name, tax_id)
    try:
        async with scope.tx() as tx:
            access = await customer_access(tx, scope)
            territory_id = await _placed(tx, scope, data.territory_id, tax_id)
            if not access.may_add_in(territory_id):
                raise Forbidden("You can enter customers only in your own territories")
            owner = await _initial_owner(tx, scope, data.owner_membership_id)
            await _check_referrer(tx, scope, access, data.referrer_customer_id)
            await duplicates.lock_keys(tx, scope, keys)
            existing = await duplicates.find_existing(tx, scope, keys)
            if existing is None:
                return await _insert(tx, scope, data, full_name, tax_id, territory_id, keys, owner)
            conflict_id = await duplicates.record_conflict(tx, scope, existing, data)
    except asyncpg.UniqueViolationError:  # lost a race the advisory locks did not cover
        async with scope.tx() as tx:
            existing = await duplicates.find_existing(tx, scope, keys)
            if existing is None:
                raise
            conflict_id = await duplicates.record_conflict(tx, scope, existing, data)
    raise duplicates.duplicate_error(existing, conflict_id)


async def _insert(
    tx: Tx,
    scope: TenantScope,
    data: CustomerCreate,
    full_name: str,
    tax_id: str | None,
    territory_id: UUID,
    keys: CompanyKeys,
    owner: UUID | None,
) -> CustomerRead:
    values: dict[str, Any] = {c: getattr(data, c) for c in _CREATE_COLUMNS}
    values.update(full_name=full_name, tax_id=tax_id, territory_id=territory_id)
    values.update(_derived(values))
    values.update(
        tenant=scope.tenant_id,
        owner_membership_id=owner,
        identity_key=keys.identity_key,
        name_key=keys.name_key,
        created_by=scope.membership_id,
    )
    columns = list(values)
    customer_id: UUID = await tx.fetchval(
        f"INSERT INTO customers ({', '.join(columns)})"
        f" VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})"
        " RETURNING id",
        *values.values(),
    )
    await _record_grade(tx, scope, customer_id, None, data.grade, "created")
    await audit.record(
        tx,
        scope.user_id,
        "customer.created",
        "customer",
        customer_id,
        data={
            "full_name": full_name,
            "territory_id": territory_id,
            "owner": owner,
            "placed_by_code": data.territory_id is None,
        },
    )
    if owner is not None:  # last: it takes the tenant's ledger lock until commit
        cause = "create" if owner == scope.membership_id else "assign"
        first = Moves.listed([OwnershipChange(customer_id, None, owner)])
        await change_owners(tx, scope, first, cause=cause, created=True)
    else:  # into the pool: no ownership change tells of it
        await emit(
            tx,
            "customer.created",
            [
                {
                    "customer_id": customer_id,
                    "from_owner": None,
                    "to_owner": None,
                    "cause": "create",
                    "actor": scope.membership_id,
                }
            ],
        )
    return await _reload(tx, scope, customer_id)


async def _reload(tx: Tx, scope: TenantScope, customer_id: UUID) -> CustomerRead:
    return await reload_customer(tx, scope, customer_id)


async def reload_customer(tx: Tx, scope: TenantScope, customer_id: UUID) -> CustomerRead:
    """The customer as the member now sees it (masked where its pool hides fields from them), after a
    change the caller checked they may make."""
    p = Params(scope.tenant_id, customer_id)
    row = await tx.fetchrow(
        select_customer(await masks_for(tx, scope), p) + " WHERE c.tenant = $1 AND c.id = $2", *p.values
    )
    assert row is not None
    return to_struct(CustomerRead, row)


def _derived(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "phone_digits": identity.phone_digits(values.get("phone")),
        "search_text": identity.search_text(values.get("full_name"), values.get("short_name")),
    }


# --- read ---------------------------------------------------------------------------------------


async def get_customer(scope: TenantScope, customer_id: UUID) -> CustomerRead:
    async with scope.tx() as tx:
        row, _ = await load_visible(tx, scope, customer_id)
        return to_struct(CustomerRead, row)


async def grade_history(scope: TenantScope, customer_id: UUID) -> list[GradeChangeRead]:
    async with scope.tx() as tx:
        await load_visible(tx, scope, customer_id)
        rows = await tx.fetch(
            "SELECT g.id, g.from_grade, g.to_grade, g.changed_by, u.name AS changed_by_name, g.reason,"
            " g.changed_at"
            " FROM customer_grade_changes g"
            " LEFT JOIN memberships m ON m.tenant = g.tenant AND m.id = g.changed_by"
            " LEFT JOIN users u ON u.id = m.user_id"
            " WHERE g.tenant = $1 AND g.customer_id = $2 ORDER BY g.changed_at, g.id",
            scope.tenant_id,
            customer_id,
        )
    return to_structs(GradeChangeRead, rows)


# --- update and delete -----------------------------------------------------------------------------


async def update_customer(scope: TenantScope, customer_id: UUID, data: CustomerUpdate) -> CustomerRead:
    """Change fields. A new grade is recorded in the grade history with ``grade_reason``; a new
    name or tax id passes the duplicate guard again (409, no conflict item); moving the customer to
    another territory needs a manager of both (or an owner/admin)."""
    changes: dict[str, Any] = {
        f: getattr(data, f)
        for f in data.__struct_fields__
        if f != "grade_reason" and not isinstance(getattr(data, f), UnsetType)
    }
    if "full_name" in changes:
        changes["full_name"] = _clean_name(changes["full_name"])
    if "tax_id" in changes:
        changes["tax_id"] = _clean_tax_id(changes["tax_id"])
    try:
        async with scope.tx() as tx:
            row, access = await load_editable(tx, scope, customer_id)
            changes = {k: v for k, v in changes.items() if row[k] != v}
            if not changes:
                return to_struct(CustomerRead, row)
            if "territory_id" in changes:
                await _check_territory(tx, scope, changes["territory_id"])
                if not (access.manages(row["territory_id"]) and access.manages(changes["territory_id"])):
                    raise Forbidden("Moving a customer to another territory needs a manager of both")
            if "referrer_customer_id" in changes:
                if changes["referrer_customer_id"] == customer_id:
                    raise ValidationFailed.field("referrer_customer_id", "A customer cannot refer itself")
                await _check_referrer(tx, scope, access, changes["referrer_customer_id"])
            columns = dict(changes)
            if "full_name" in changes or "tax_id" in changes:
                name, tax_id = (
                    columns.get("full_name", row["full_name"]),
                    columns.get("tax_id", row["tax_id"]),
                )
                keys = _keys(name, tax_id)
                await duplicates.lock_keys(tx, scope, keys)
                existing = await duplicates.find_existing(tx, scope, keys, exclude=customer_id)
                if existing is not None:
                    raise duplicates.duplicate_error(existing)
                columns.update(identity_key=keys.identity_key, name_key=keys.name_key)
            if "full_name" in changes or "short_name" in changes or "phone" in changes:
                merged = {k: columns.get(k, row[k]) for k in ("full_name", "short_name", "phone")}
                columns.update(_derived(merged))
            p = Params(scope.tenant_id, customer_id)
            assignments = ", ".join(f"{column} = {p(value)}" for column, value in columns.items())
            await tx.execute(
                f"UPDATE customers SET {assignments}, updated_at = now() WHERE tenant = $1 AND id = $2",
                *p.values,
            )
            if "grade" in changes:
                await _record_grade(tx, scope, customer_id, row["grade"], changes["grade"], data.grade_reason)
            await audit.record(
                tx,
                scope.user_id,
                "customer.updated",
                "customer",
                customer_id,
                reason=data.grade_reason if "grade" in changes else None,
                data={k: {"from": row[k], "to": v} for k, v in changes.items()},
            )
            return await _reload(tx, scope, customer_id)
    except asyncpg.UniqueViolationError:
        raise Conflict("This company is already a customer") from None


# The rows that keep a customer (no ON DELETE CASCADE on their foreign key), and why it then stays.
_KEPT_BY = {
    "visit_plan_items": N_("This customer is in visit plans and cannot be deleted"),
    "market_incidents": N_("This customer is named in market incidents and cannot be deleted"),
    "referral_rewards": N_("This customer referred other customers and cannot be deleted"),
}
_IN_USE = N_("This customer is still in use and cannot be deleted")


async def delete_customer(scope: TenantScope, customer_id: UUID) -> None:
    """Delete a customer with its contacts, follow-ups, grade history and conflict items. Only a
    manager of its territory or an owner/admin (an owner rep releases it instead). 409 while deals,
    visit plans, market incidents or referral rewards still name it: those keep their history."""
    async with scope.tx() as tx:
        row, access = await load_visible(tx, scope, customer_id, lock=True)
        if not access.manages(row["territory_id"]):
            raise Forbidden("Only a manager of the customer's territory can delete it")
        deals = await tx.fetchval(
            "SELECT count(*) FROM deals WHERE tenant = $1 AND customer_id = $2", scope.tenant_id, customer_id
        )
        if deals:
            raise Conflict(
                "This customer has {n} deals and cannot be deleted", n=deals, extra={"deals": deals}
            )
        try:
            await tx.execute(
                "DELETE FROM customers WHERE tenant = $1 AND id = $2", scope.tenant_id, customer_id
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise Conflict(_KEPT_BY.get(exc.table_name or "", _IN_USE)) from None
        await audit.record(
            tx,
            scope.user_id,
            "customer.deleted",
            "customer",
            customer_id,
            data={"full_name": row["full_name"], "territory_id": row["territory_id"]},
        )
