"""What the pool shows (公海脱敏): per pool, fields hidden until the customer is claimed — the phone,
the address, the credit code and the contacts — shown masked (``138****5678``) to a member who is
not in the owner's scope. The previous owners and the follow-up history stay visible, so a claimer
knows what they take.

One rule, applied in the SQL of every read that returns these fields (customer reads and lists,
search, the pool list, export, contacts, documents), so no route can forget it:

- a field is masked on a row when the customer is unowned, its pool hides the field, and the viewer
  neither administers that pool (owner/admin, the pool's admins, managers of a territory's pool:
  ``tenants.access.pools.ADMINISTERED_POOL_IDS``) nor manages the customer's territory;
- the mask is the database's ``acre_mask(value, kind)`` (an inlined expression, no round trip).

``masks_for`` needs no query: ``Masks.column`` is a ``CASE`` over the row's own columns whose pool
list is an uncorrelated subquery (one InitPlan a statement, evaluated only when an unowned row asks).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import msgspec

from app import audit
from app.customers.pool.pools import pool_by_id
from app.customers.tables import Customer
from app.db import Tx
from app.errors import ValidationFailed
from app.sql import Params
from tenants.access import acts_as_manager
from tenants.access.pools import ADMINISTERED_POOL_IDS
from tenants.access.territories import MANAGED_IDS
from tenants.scope import TenantScope

# What a pool can hide, and how each column is masked (the kind ``acre_mask`` takes).
HIDEABLE = ("phone", "address", "tax_id", "contacts")
_CUSTOMER_COLUMNS = {"phone": "phone", "address": "address", "tax_id": "tax_id"}
CONTACT_KINDS = {"name": "name", "phone": "phone", "email": "email"}


@dataclass(frozen=True, slots=True)
class Masks:
    """For one viewer: ``None`` sees everything (owner/admin, jobs); else their membership and
    whether they act as a manager (who then sees their own territories' customers in clear)."""

    membership_id: UUID | None = None
    manager: bool = False
    everything: bool = True

    def hides(self, name: str) -> bool:
        """Whether the field may be masked on some row for this viewer (the pools decide which)."""
        return not self.everything

    def hidden_sql(self, p: Params, name: str, alias: str = "c") -> str | None:
        """A condition on the customer row ``alias`` (the tenant is ``$1``): ``name`` is masked on it
        (``None``: never, for this viewer). The pools hiding it from the viewer are an uncorrelated
        subquery — one InitPlan per statement, run only when a row needs it: no round trip."""
        if self.everything:
            return None
        me, managers = p(self.membership_id), p(self.manager)
        administered = re.sub(
            r"\$([23])\b", lambda m: me if m.group(1) == "2" else managers, ADMINISTERED_POOL_IDS
        )
        hiding = (
            f"SELECT hp.id FROM pools hp WHERE hp.tenant = $1"
            f" AND '{name}' = ANY(hp.hidden_fields) AND hp.id NOT IN ({administered})"
        )
        condition = f"{alias}.owner_membership_id IS NULL AND {alias}.pool_id = ANY(ARRAY({hiding}))"
        if self.manager:
            managed = MANAGED_IDS.replace("$2", me)
            condition += f" AND {alias}.territory_id <> ALL(ARRAY({managed}))"
        return condition

    def column(self, p: Params, name: str, alias: str = "c") -> str:
        """The select-list expression of customer column ``name`` as this viewer may see it."""
        condition = self.hidden_sql(p, name, alias)
        if condition is None:
            return f"{alias}.{name} AS {name}"
        masked = f"acre_mask({alias}.{name}, '{name}')"
        return f"CASE WHEN {condition} THEN {masked} ELSE {alias}.{name} END AS {name}"

    def customer_columns(self, p: Params, alias: str = "c") -> str:
        """Every column of the customer row ``alias`` (``alias.*``), the hideable ones masked: a
        drop-in for ``c.*`` in a select list whose names must stay the columns'."""
        if self.everything:
            return f"{alias}.*"
        return ", ".join(
            self.column(p, column, alias) if column in _CUSTOMER_COLUMNS else f"{alias}.{column}"
            for column in customer_table_columns()
        )

    def contact_columns(self, p: Params, customer: str = "c", contact: str = "k") -> dict[str, str]:
        """The contact row ``contact``'s name, phone and email as this viewer may see them (the
        customer row ``customer`` decides): ``{column: expression AS column}``."""
        condition = self.hidden_sql(p, "contacts", customer)
        if condition is None:
            return {n: f"{contact}.{n}" for n in CONTACT_KINDS}
        return {
            n: f"CASE WHEN {condition} THEN acre_mask({contact}.{n}, '{kind}') ELSE {contact}.{n} END AS {n}"
            for n, kind in CONTACT_KINDS.items()
        }


NO_MASKS = Masks()


@functools.cache
def customer_table_columns() -> tuple[str, ...]:
    """The customers table's columns (what ``c.*`` gives): its ``Table`` class, which
    ``tests/integration/test_table_classes.py`` holds to the migrated schema."""
    return tuple(column._meta.db_column_name for column in Customer._meta.columns)


async def masks_for(tx: Tx, scope: TenantScope) -> Masks:
    """The masks of this viewer (no query: the conditions read the pools in the statement itself)."""
    if scope.at_least("admin"):  # owner/admin and jobs see everything
        return NO_MASKS
    return Masks(scope.membership_id, acts_as_manager(scope), everything=False)


async def masked_fields(tx: Tx, scope: TenantScope, customer_id: UUID) -> list[str]:
    """The fields of this customer the member sees masked now (empty: all of them in clear)."""
    masks = await masks_for(tx, scope)
    p = Params(scope.tenant_id, customer_id)
    checks = [(name, masks.hidden_sql(p, name)) for name in HIDEABLE]
    asked = [(name, sql) for name, sql in checks if sql is not None]
    if not asked:
        return []
    row = await tx.fetchrow(
        "SELECT "
        + ", ".join(f"({sql}) AS {name}" for name, sql in asked)
        + " FROM customers c WHERE c.tenant = $1 AND c.id = $2",
        *p.values,
    )
    return [name for name, _ in asked if row is not None and row[name]]


# --- configuring it (owner/admin) ---------------------------------------------------------------------


class HiddenFields(msgspec.Struct, forbid_unknown_fields=True):
    """What a pool hides until claimed: any of ``phone``, ``address``, ``tax_id`` (the credit code),
    ``contacts`` (their names, phones and emails)."""

    hidden_fields: list[Annotated[str, msgspec.Meta(max_length=20)]]


class PoolHiddenFieldsRead(msgspec.Struct):
    pool_id: UUID
    name: str
    hidden_fields: list[str]


async def get_hidden_fields(scope: TenantScope, pool_id: UUID) -> PoolHiddenFieldsRead:
    """What the pool hides (everyone who may see the tenant's pools may ask; another tenant's: 404)."""
    async with scope.tx() as tx:
        pool = await pool_by_id(tx, pool_id)
    return PoolHiddenFieldsRead(pool.id, pool.name, list(pool.hidden_fields))


async def set_hidden_fields(scope: TenantScope, pool_id: UUID, data: HiddenFields) -> PoolHiddenFieldsRead:
    """Owner/admin: what the pool hides until claimed (an unknown field is 422, nothing changed)."""
    unknown = [f for f in data.hidden_fields if f not in HIDEABLE]
    if unknown:
        raise ValidationFailed.field(
            "hidden_fields", "Unknown field {name}: use phone, address, tax_id or contacts", name=unknown[0]
        )
    fields = [f for f in HIDEABLE if f in data.hidden_fields]
    async with scope.tx() as tx:
        pool = await pool_by_id(tx, pool_id)
        scope.require("admin")
        await tx.execute(
            "UPDATE pools SET hidden_fields = $3, updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            pool_id,
            fields,
        )
        await audit.record(
            tx,
            scope.user_id,
            "pool.hidden_fields_changed",
            "pool",
            pool_id,
            data={"from": list(pool.hidden_fields), "to": fields},
        )
    return PoolHiddenFieldsRead(pool.id, pool.name, fields)


async def list_hidden_fields(scope: TenantScope) -> list[PoolHiddenFieldsRead]:
    """Every pool of the tenant with what it hides (owner/admin: the settings page), by name."""
    scope.require("admin")
    async with scope.tx() as tx:
        rows = await tx.fetch(
            "SELECT p.id, coalesce(p.name, t.name) AS name, p.hidden_fields FROM pools p"
            " LEFT JOIN territories t ON t.tenant = p.tenant AND t.id = p.territory_id"
            " WHERE p.tenant = $1 ORDER BY p.territory_id IS NOT NULL, t.path, name, p.id",
            scope.tenant_id,
        )
    return [PoolHiddenFieldsRead(r["id"], r["name"], list(r["hidden_fields"])) for r in rows]
