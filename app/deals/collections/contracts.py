"""The contracts of a deal (``deal_contracts``): the money each contract document was rendered with,
and the one that was signed — from then on the source of truth for the deal's money.

- ``record``: when the render job takes a contract's data snapshot, the deal provider records the
  contract's ``Figures`` (quote, total, currency, milestones; ``terms.figures``) in the same
  transaction, so the record says exactly what the PDF shows. Refused (409) once the deal's contract is
  signed: a signed deal gets no second contract.
- ``freeze``: signing freezes one contract. The signed envelope's document's record becomes
  ``signed`` (a document without a record — rendered before records existed, or not a contract — and a
  deal moved to signed by hand freeze the figures of that moment); the deal's amount and currency
  become its total and currency, so the pipeline, orders and target attainment count the signed money,
  and the collection items follow its milestones. Every other contract of the deal is voided, its
  document too (``app.documents.service.void_documents``: it can no longer be sent; the signing domain
  ends its open envelopes). The first signature wins: with a contract signed already, freezing again
  changes nothing, and a voided contract signed in a race changes no money (both are audited).
- ``release``: a deal leaving signed (nothing paid) voids its signed contract and its document; a new
  contract may then be generated and signed.

The deal's amount and currency cannot change while its contract is signed (``check_amount_free``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.deals.collections import terms
from app.deals.collections.schemas import DealContractRead, MilestoneRead
from app.deals.lookup import load_deal
from app.documents.service import void_documents
from app.errors import Conflict
from app.i18n import N_
from app.rows import to_struct
from tenants.scope import TenantScope

M_SIGNED = N_("This deal's contract is signed; no other contract can be generated for it")
M_AMOUNT_SIGNED = N_("The deal's amount and currency are its signed contract's; they cannot change")


async def _signed(tx: Tx, tenant: UUID, deal_id: UUID) -> asyncpg.Record | None:
    return await tx.fetchrow(
        "SELECT * FROM deal_contracts WHERE tenant = $1 AND deal_id = $2 AND status = 'signed'",
        tenant,
        deal_id,
    )


async def refuse_if_signed(tx: Tx, tenant: UUID, deal_id: UUID) -> None:
    """409 when the deal's contract is signed (no new contract for it)."""
    if await _signed(tx, tenant, deal_id) is not None:
        raise Conflict(M_SIGNED)


async def check_amount_free(tx: Tx, tenant: UUID, deal_id: UUID) -> None:
    """409 when the deal's contract is signed: its amount and currency are the contract's."""
    if await _signed(tx, tenant, deal_id) is not None:
        raise Conflict(M_AMOUNT_SIGNED)


async def record(tx: Tx, scope: TenantScope, document_id: UUID, deal_id: UUID, money: terms.Figures) -> None:
    """Record that contract ``document_id`` is rendered with ``money`` (once; a second call keeps the
    first record). The deal row is share-locked first, so a contract rendering while another one is
    being signed either waits and is refused (409), or is recorded and then voided by the signing."""
    tenant = scope.tenant_id
    await tx.fetchval("SELECT 1 FROM deals WHERE tenant = $1 AND id = $2 FOR SHARE", tenant, deal_id)
    await refuse_if_signed(tx, tenant, deal_id)
    await tx.execute(
        "INSERT INTO deal_contracts (tenant, deal_id, document_id, quote_id, total, currency, milestones)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (tenant, document_id) DO NOTHING",
        tenant,
        deal_id,
        document_id,
        money.quote_id,
        money.total,
        money.currency,
        terms.encode_milestones(money.milestones),
    )


async def _current(tx: Tx, tenant: UUID, deal: asyncpg.Record, quote_id: UUID | None) -> terms.Figures:
    deal_terms, _ = await terms.effective_terms(tx, tenant, deal)
    quote = None
    if quote_id is not None:
        quote = await tx.fetchrow(
            "SELECT * FROM quotes WHERE tenant = $1 AND id = $2 AND deal_id = $3",
            tenant,
            quote_id,
            deal["id"],
        )
    return await terms.figures(tx, tenant, deal, deal_terms, quote)


async def freeze(
    tx: Tx,
    scope: TenantScope,
    deal: asyncpg.Record,
    *,
    document_id: UUID | None = None,
    envelope_id: UUID | None = None,
    quote_id: UUID | None = None,
) -> asyncpg.Record | None:
    """Make the deal's signed contract: ``document_id``'s record (``envelope_id`` signed it), else the
    figures of now (of ``quote_id`` when the signed document was about one quote). ``deal`` is the
    deal's row, locked by the caller. Returns the signed contract — the one signed before, if any — or
    None when ``document_id``'s contract had been voided (the money stays as it is)."""
    tenant, deal_id = scope.tenant_id, deal["id"]
    signed = await _signed(tx, tenant, deal_id)
    if signed is not None:
        if document_id is not None and signed["document_id"] != document_id:
            await audit.record(
                tx,
                scope.user_id,
                "deal.contract_signed_again",
                "deal",
                deal_id,
                data={"document_id": document_id, "envelope_id": envelope_id, "kept": signed["id"]},
            )
        return signed
    row = None
    if document_id is not None:
        row = await tx.fetchrow(
            "SELECT * FROM deal_contracts WHERE tenant = $1 AND document_id = $2 AND deal_id = $3",
            tenant,
            document_id,
            deal_id,
        )
        if row is not None and row["status"] == "voided":
            await audit.record(
                tx,
                scope.user_id,
                "deal.voided_contract_signed",
                "deal",
                deal_id,
                data={"contract_id": row["id"], "document_id": document_id, "envelope_id": envelope_id},
            )
            return None
    if row is None:
        money = await _current(tx, tenant, deal, quote_id)
        row = await tx.fetchrow(
            "INSERT INTO deal_contracts (tenant, deal_id, document_id, quote_id, total, currency, milestones,"
            " status, envelope_id, signed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'signed', $8, now()) RETURNING *",
            tenant,
            deal_id,
            document_id,
            money.quote_id,
            money.total,
            money.currency,
            terms.encode_milestones(money.milestones),
            envelope_id,
        )
    else:
        row = await tx.fetchrow(
            "UPDATE deal_contracts SET status = 'signed', signed_at = now(), envelope_id = $3"
            " WHERE tenant = $1 AND id = $2 RETURNING *",
            tenant,
            row["id"],
            envelope_id,
        )
    assert row is not None
    await tx.execute(
        "UPDATE deals SET amount = $3, currency = $4, updated_at = now() WHERE tenant = $1 AND id = $2",
        tenant,
        deal_id,
        row["total"],
        row["currency"],
    )
    others = await tx.fetch(
        "UPDATE deal_contracts SET status = 'voided', voided_at = now()"
        " WHERE tenant = $1 AND deal_id = $2 AND status = 'rendered' RETURNING document_id",
        tenant,
        deal_id,
    )
    voided = await void_documents(tx, [r["document_id"] for r in others if r["document_id"] is not None])
    await audit.record(
        tx,
        scope.user_id,
        "deal.contract_signed",
        "deal",
        deal_id,
        data={
            "contract_id": row["id"],
            "document_id": document_id,
            "envelope_id": envelope_id,
            "quote_id": row["quote_id"],
            "total": row["total"],
            "currency": row["currency"],
            "amount_before": deal["amount"],
            "voided_documents": voided,
        },
    )
    return row


async def release(tx: Tx, scope: TenantScope, deal_id: UUID) -> None:
    """The deal leaves signed: its signed contract, and that contract's document, are voided."""
    row = await tx.fetchrow(
        "UPDATE deal_contracts SET status = 'voided', voided_at = now()"
        " WHERE tenant = $1 AND deal_id = $2 AND status = 'signed' RETURNING id, document_id",
        scope.tenant_id,
        deal_id,
    )
    if row is None:
        return
    if row["document_id"] is not None:
        await void_documents(tx, [row["document_id"]])
    await audit.record(
        tx, scope.user_id, "deal.contract_released", "deal", deal_id, data={"contract_id": row["id"]}
    )


def _read(row: asyncpg.Record) -> DealContractRead:
    return to_struct(
        DealContractRead,
        row,
        milestones=[
            MilestoneRead(m.code, m.percent, m.amount, m.due_days)
            for m in terms.decode_milestones(row["milestones"])
        ],
    )


async def list_contracts(scope: TenantScope, deal_id: UUID) -> list[DealContractRead]:
    """The deal's contracts, newest first: what each was rendered with, which one is signed."""
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        rows: list[Any] = await tx.fetch(
            "SELECT * FROM deal_contracts WHERE tenant = $1 AND deal_id = $2"
            " ORDER BY created_at DESC, id DESC",
            scope.tenant_id,
            deal_id,
        )
    return [_read(r) for r in rows]
