"""A deal's vendor registration (项目报备): read, write, withdraw, and the list per vendor.

Who writes it: the deal's owner, a manager of its customer's territory, an owner/admin (anyone else who
sees the deal: 403; a deal they do not see, or another tenant's: 404). The registering team is the
customer's territory when the registration is first saved. The list per vendor is for managers (their
territories' deals) and owners/admins; a rep gets 403.

A registration is *live* while its status is ``active`` and ``protected_until`` (a date in the
tenant's zone) has not passed: ``LIVE_SQL``, the one definition the reclaim exemption, the claim gate,
the handover check and the reminders share.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.deals.lookup import load_deal
from app.deals.registrations.schemas import RegistrationRead, RegistrationWrite, VendorRegistrations
from app.errors import Forbidden, NotFound, ValidationFailed
from app.localtime import local_today
from app.rows import to_struct
from app.sql import Params
from tenants.access import deal_access
from tenants.scope import TenantScope

MAX_LISTED = 1000

# ``r`` a vendor_registrations row: live on the tenant's date today.
LIVE_SQL = (
    "(r.status = 'active' AND r.protected_until >="
    " (now() AT TIME ZONE (SELECT tz.time_zone FROM tenants tz WHERE tz.id = r.tenant))::date)"
)

SELECT_REGISTRATION = f"""
SELECT r.id, r.deal_id, d.title AS deal_title, r.customer_id, c.full_name AS customer_name,
       d.owner_membership_id, u.name AS owner_name, r.territory_id, t.name AS territory_name,
       r.vendor, r.registration_no, r.registered_on, r.protected_until, r.status,
       {LIVE_SQL} AS live, (r.protected_until - $2::date) AS days_left, r.created_at, r.updated_at
FROM vendor_registrations r
JOIN deals d ON d.tenant = r.tenant AND d.id = r.deal_id
JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id
LEFT JOIN territories t ON t.tenant = r.tenant AND t.id = r.territory_id
LEFT JOIN memberships m ON m.tenant = d.tenant AND m.id = d.owner_membership_id
LEFT JOIN users u ON u.id = m.user_id
"""


def _read(row: asyncpg.Record) -> RegistrationRead:
    return to_struct(RegistrationRead, row)


async def _of_deal(tx: Tx, scope: TenantScope, deal_id: UUID) -> RegistrationRead | None:
    row = await tx.fetchrow(
        SELECT_REGISTRATION + " WHERE r.tenant = $1 AND r.deal_id = $3",
        scope.tenant_id,
        local_today(scope.time_zone),
        deal_id,
    )
    return _read(row) if row else None


async def get_registration(scope: TenantScope, deal_id: UUID) -> RegistrationRead | None:
    """The deal's registration, ``None`` when it has none; 404 for a deal the caller does not see."""
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        return await _of_deal(tx, scope, deal_id)


async def _load_for_change(tx: Tx, scope: TenantScope, deal_id: UUID) -> asyncpg.Record:
    deal, access = await load_deal(tx, scope, deal_id, lock=True)
    if deal["owner_membership_id"] != scope.membership_id and not access.approves(deal["territory_id"]):
        raise Forbidden("Only the deal's owner or a manager of its territory can change its registration")
    return deal


async def put_registration(scope: TenantScope, deal_id: UUID, data: RegistrationWrite) -> RegistrationRead:
    """Save the deal's registration (created, or replaced whole); 422 for dates the wrong way round,
    409 when another deal holds this vendor's registration number."""
    vendor, number = data.vendor.strip(), data.registration_no.strip()
    if not vendor:
        raise ValidationFailed.field("vendor", "Required")
    if not number:
        raise ValidationFailed.field("registration_no", "Required")
    if data.protected_until < data.registered_on:
        raise ValidationFailed.field("protected_until", "Must not be before the registration date")
    async with scope.tx() as tx:
        deal = await _load_for_change(tx, scope, deal_id)
        taken = await tx.fetchval(
            "SELECT deal_id FROM vendor_registrations WHERE tenant = $1 AND vendor = $2"
            " AND registration_no = $3 AND deal_id <> $4",
            scope.tenant_id,
            vendor,
            number,
            deal_id,
        )
        if taken is not None:
            raise ValidationFailed.field(
                "registration_no",
                "Another deal already holds this registration number of {vendor}",
                vendor=vendor,
            )
        registration_id = await tx.fetchval(
            "INSERT INTO vendor_registrations (tenant, deal_id, customer_id, territory_id, vendor,"
            " registration_no, registered_on, protected_until, status, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (tenant, deal_id) DO UPDATE SET vendor = EXCLUDED.vendor,"
            " registration_no = EXCLUDED.registration_no, registered_on = EXCLUDED.registered_on,"
            " protected_until = EXCLUDED.protected_until, status = EXCLUDED.status, updated_at = now()"
            " RETURNING id",
            scope.tenant_id,
            deal_id,
            deal["customer_id"],
            deal["territory_id"],
            vendor,
            number,
            data.registered_on,
            data.protected_until,
            data.status,
            scope.membership_id,
        )
        await audit.record(
            tx,
            scope.user_id,
            "registration.saved",
            "deal",
            deal_id,
            data={
                "registration_id": registration_id,
                "vendor": vendor,
                "registration_no": number,
                "protected_until": data.protected_until,
                "status": data.status,
            },
        )
        registration = await _of_deal(tx, scope, deal_id)
        assert registration is not None
        return registration


async def delete_registration(scope: TenantScope, deal_id: UUID) -> None:
    """Remove the deal's registration (entered by mistake); 404 when it has none."""
    async with scope.tx() as tx:
        await _load_for_change(tx, scope, deal_id)
        gone = await tx.fetchrow(
            "DELETE FROM vendor_registrations WHERE tenant = $1 AND deal_id = $2"
            " RETURNING id, vendor, registration_no",
            scope.tenant_id,
            deal_id,
        )
        if gone is None:
            raise NotFound("This deal has no vendor registration")
        await audit.record(tx, scope.user_id, "registration.deleted", "deal", deal_id, data=dict(gone))


async def list_by_vendor(
    scope: TenantScope, *, vendor: str | None = None, live: bool | None = None
) -> list[VendorRegistrations]:
    """The registrations of the deals the manager sees, grouped by vendor (by name), each group soonest
    expiry first; ``live`` filters live (true) or not live (false). At most ``MAX_LISTED`` rows."""
    scope.require("manager")
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(scope.tenant_id, local_today(scope.time_zone))
        where = [f"r.tenant = $1 AND {access.visible_sql(p)}"]
        if vendor:
            where.append(f"r.vendor = {p(vendor.strip())}")
        if live is not None:
            where.append(f"{'' if live else 'NOT '}{LIVE_SQL}")
        rows = await tx.fetch(
            SELECT_REGISTRATION
            + " WHERE "
            + " AND ".join(where)
            + f" ORDER BY r.vendor, r.protected_until, r.id LIMIT {MAX_LISTED}",
            *p.values,
        )
    groups: dict[str, list[RegistrationRead]] = {}
    for row in rows:
        groups.setdefault(row["vendor"], []).append(_read(row))
    return [
        VendorRegistrations(vendor=name, live=sum(1 for r in items if r.live), registrations=items)
        for name, items in groups.items()
    ]


async def load_registration(tx: Tx, scope: TenantScope, registration_id: UUID) -> asyncpg.Record:
    """A registration by id with its deal's title and the customer's territory (no visibility rule:
    callers check theirs); 404 when there is none in this tenant."""
    row = await tx.fetchrow(
        f"SELECT r.*, {LIVE_SQL} AS live, d.title, d.owner_membership_id,"
        " c.territory_id AS customer_territory_id, c.full_name AS customer_name"
        " FROM vendor_registrations r JOIN deals d ON d.tenant = r.tenant AND d.id = r.deal_id"
        " JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id"
        " WHERE r.tenant = $1 AND r.id = $2",
        scope.tenant_id,
        registration_id,
    )
    if row is None:
        raise NotFound("No registration with this id")
    return row
