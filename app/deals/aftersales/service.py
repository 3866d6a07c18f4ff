"""A won deal's free-upgrade and maintenance period, and its installation acceptance.

- When a deal is won (signed or won: ``app.customers.won``), ``record_period`` (a won hook) records
  its period: from that day, the contract terms' free-upgrade years × 12 months.
- The installation acceptance note (kind ``acceptance``) of a deal is signed by the customer through
  the signing flow; the deal's signed hook (``service.start_collections``) hands it to ``accept``:
  the period starts on the signature's date (the tenant's), and the unpaid balance milestone
  (稳定运行尾款) falls due ``ACRE_ACCEPTANCE_BALANCE_DAYS`` days later.
- The period can be corrected by the deal's owner or a manager of its territory (``put_period``).
- ``ends_on`` is the day before ``starts_on`` + months; the renewal before it is the sales domain's
  (``app.sales.growth.renewals``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg

from app import audit
from app.customers.won import CustomerWon
from app.db import Tx
from app.deals.aftersales.schemas import ServicePeriodRead, ServicePeriodWrite
from app.deals.lookup import load_deal
from app.errors import Conflict, Forbidden
from app.localtime import zone
from app.rows import to_struct
from app.settings import get_settings
from tenants.scope import TenantScope

ENDS_ON_SQL = "((p.starts_on + make_interval(months => p.months))::date - 1)"
_SELECT = f"""
SELECT p.deal_id, p.starts_on, p.months, {ENDS_ON_SQL} AS ends_on, p.accepted_at, p.acceptance_document_id,
       (SELECT k.due_date FROM collections k WHERE k.tenant = p.tenant AND k.deal_id = p.deal_id
        AND k.code = 'balance' AND k.paid_at IS NULL ORDER BY k.seq LIMIT 1) AS balance_due_on,
       p.renewal_deal_id, p.return_visit_id, p.renewed_at
FROM deal_service_periods p WHERE p.tenant = $1 AND p.deal_id = $2
"""


async def _read(tx: Tx, deal_id: UUID) -> ServicePeriodRead | None:
    row = await tx.fetchrow(_SELECT, tx.tenant_id, deal_id)
    return to_struct(ServicePeriodRead, row) if row else None


async def _months_of(tx: Tx, deal_id: UUID) -> int:
    years = await tx.fetchval(
        "SELECT free_upgrade_years FROM contract_terms WHERE tenant = $1 AND deal_id = $2",
        tx.tenant_id,
        deal_id,
    )
    return max(1, years if years is not None else 1) * 12


async def record_period(tx: Tx, event: CustomerWon) -> None:
    """Won hook (``app.wiring``): the winning deal's period, from today (the tenant's), unless it has
    one already (a deal signed, then won, keeps the first)."""
    if event.deal_id is None:
        return
    await tx.execute(
        "INSERT INTO deal_service_periods (tenant, deal_id, starts_on, months) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant, deal_id) DO NOTHING",
        event.tenant_id,
        event.deal_id,
        datetime.now(zone(event.time_zone)).date(),
        await _months_of(tx, event.deal_id),
    )


async def accept(
    tx: Tx, scope: TenantScope, deal: asyncpg.Record, document_id: UUID, signed_at: datetime
) -> date | None:
    """The deal's acceptance note ``document_id`` was signed at ``signed_at``: the period starts that
    day and the unpaid balance milestone falls due ``acceptance_balance_days`` later; returns that due
    date (``None`` when the deal has no unpaid balance item). Idempotent."""
    day = signed_at.astimezone(zone(scope.time_zone)).date()
    await tx.execute(
        "INSERT INTO deal_service_periods (tenant, deal_id, starts_on, months, accepted_at,"
        " acceptance_document_id) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (tenant, deal_id) DO UPDATE SET starts_on = EXCLUDED.starts_on,"
        " accepted_at = EXCLUDED.accepted_at, acceptance_document_id = EXCLUDED.acceptance_document_id,"
        " updated_at = now()",
        scope.tenant_id,
        deal["id"],
        day,
        await _months_of(tx, deal["id"]),
        signed_at,
        document_id,
    )
    due = day + timedelta(days=get_settings().acceptance_balance_days)
    moved = await tx.fetchval(
        "UPDATE collections SET due_date = $3 WHERE tenant = $1 AND deal_id = $2 AND code = 'balance'"
        " AND paid_at IS NULL RETURNING due_date",
        scope.tenant_id,
        deal["id"],
        due,
    )
    await audit.record(
        tx,
        None,
        "deal.accepted",
        "deal",
        deal["id"],
        data={"document_id": document_id, "accepted_on": day, "balance_due_on": moved},
    )
    return moved


async def get_period(scope: TenantScope, deal_id: UUID) -> ServicePeriodRead | None:
    """The deal's period; ``None`` before the deal is won. 404 for a deal the caller does not see."""
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        return await _read(tx, deal_id)


async def put_period(scope: TenantScope, deal_id: UUID, data: ServicePeriodWrite) -> ServicePeriodRead:
    """Correct a won deal's period (its owner, a manager of its territory); 409 for a deal not won."""
    async with scope.tx() as tx:
        deal, access = await load_deal(tx, scope, deal_id, lock=True)
        if deal["owner_membership_id"] != scope.membership_id and not access.approves(deal["territory_id"]):
            raise Forbidden(
                "Only the deal's owner or a manager of its territory can change its service period"
            )
        if deal["stage"] not in ("signed", "won"):
            raise Conflict("Only a signed or won deal has a service period")
        await tx.execute(
            "INSERT INTO deal_service_periods (tenant, deal_id, starts_on, months) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant, deal_id) DO UPDATE SET starts_on = EXCLUDED.starts_on,"
            " months = EXCLUDED.months, updated_at = now()",
            scope.tenant_id,
            deal_id,
            data.starts_on,
            data.months,
        )
        await audit.record(
            tx,
            scope.user_id,
            "deal.service_period_saved",
            "deal",
            deal_id,
            data={"starts_on": data.starts_on, "months": data.months},
        )
        period = await _read(tx, deal_id)
        assert period is not None
        return period
