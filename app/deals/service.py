"""Deals: create, read, list, update, and the stage history. Stage *moves* (rules and approvals) are
in ``stage_moves.py``; ``apply_stage`` here is the one place a deal's stage changes.

Visibility is ``tenants.access.deals``: an invisible deal is 404. The customer must be visible to the
caller (else 422 on ``customer_id``); decision people must be contacts of that customer.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from msgspec import UnsetType

from app import audit
from app.customers.won import CustomerWon, mark_won
from app.db import Tx
from app.deals.aftersales import service as aftersales
from app.deals.collections import contracts
from app.deals.collections import items as collection_items
from app.deals.lookup import SELECT_DEAL, load_deal
from app.deals.money import check_money
from app.deals.schemas import DealCreate, DealRead, DealUpdate, DecisionPerson, KeyInfo, StageChangeRead
from app.deals.stages import PROBABILITY, TERMINAL
from app.errors import Conflict, Forbidden, ValidationFailed
from app.outbound.events import emit
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.sql import Params
from tenants.access import customer_access, deal_access, territory_in_subtree_sql
from tenants.scope import TenantScope

WON_STAGES = ("signed", "won")  # a signed contract is a sale: the customer is won (成交)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def read_deal(row: asyncpg.Record) -> DealRead:
    return to_struct(
        DealRead,
        row,
        key_info=msgspec.convert(_json(row["key_info"]), KeyInfo),
        decision_people=msgspec.convert(_json(row["decision_people"]), list[DecisionPerson]),
    )


async def reload(tx: Tx, scope: TenantScope, deal_id: UUID) -> DealRead:
    row = await tx.fetchrow(SELECT_DEAL + " WHERE d.tenant = $1 AND d.id = $2", scope.tenant_id, deal_id)
    assert row is not None
    return read_deal(row)


async def _check_owner(tx: Tx, scope: TenantScope, wanted: UUID | None) -> UUID:
    if wanted is None or wanted == scope.membership_id:
        if scope.membership_id is None:
            raise ValidationFailed.field("owner_membership_id", "Required")
        return scope.membership_id
    if not scope.at_least("manager"):
        raise Forbidden("A rep can own only their own deals")
    if not await tx.fetchval(
        "SELECT active FROM memberships WHERE tenant = $1 AND id = $2", scope.tenant_id, wanted
    ):
        raise ValidationFailed.field("owner_membership_id", "No active member with this id")
    return wanted


async def _check_people(tx: Tx, scope: TenantScope, customer_id: UUID, people: list[DecisionPerson]) -> str:
    ids = [p.contact_id for p in people]
    if ids:
        found = {
            r["id"]
            for r in await tx.fetch(
                "SELECT id FROM customer_contacts"
                " WHERE tenant = $1 AND customer_id = $2 AND id = ANY($3::uuid[])",
                scope.tenant_id,
                customer_id,
                ids,
            )
        }
        for i, contact_id in enumerate(ids):
            if contact_id not in found:
                raise ValidationFailed.field(
                    f"decision_people[{i}].contact_id", "No contact of this customer with this id"
                )
    return msgspec.json.encode(people).decode()


async def create_deal(scope: TenantScope, data: DealCreate) -> DealRead:
    amount = check_money("amount", data.amount)
    if data.stage in TERMINAL:
        raise ValidationFailed.field("stage", "A new deal cannot start won or lost")
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
        p = Params(scope.tenant_id, data.customer_id)
        if not await tx.fetchval(
            f"SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}",
            *p.values,
        ):
            raise ValidationFailed.field("customer_id", "No customer with this id")
        owner = await _check_owner(tx, scope, data.owner_membership_id)
        people = await _check_people(tx, scope, data.customer_id, data.decision_people)
        deal_id = await tx.fetchval(
            "INSERT INTO deals (tenant, customer_id, owner_membership_id, title, amount, currency,"
            " expected_close_date, stage, probability, key_info, decision_people, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12) RETURNING id",
            scope.tenant_id,
            data.customer_id,
            owner,
            data.title.strip(),
            amount,
            data.currency or scope.currency,
            data.expected_close_date,
            data.stage,
            data.probability if data.probability is not None else PROBABILITY[data.stage],
            msgspec.json.encode(data.key_info).decode(),
            people,
            scope.membership_id,
        )
        await tx.execute(
            "INSERT INTO deal_stage_changes (tenant, deal_id, from_stage, to_stage, actor)"
            " VALUES ($1, $2, NULL, $3, $4)",
            scope.tenant_id,
            deal_id,
            data.stage,
            scope.membership_id,
        )
        await audit.record(
            tx, scope.user_id, "deal.created", "deal", deal_id, data={"customer_id": data.customer_id}
        )
        if data.stage in WON_STAGES:
            await mark_won(
                tx, CustomerWon(scope.tenant_id, data.customer_id, deal_id, scope.user_id, scope.time_zone)
            )
        return await reload(tx, scope, deal_id)


async def get_deal(scope: TenantScope, deal_id: UUID) -> DealRead:
    async with scope.tx() as tx:
        row, _ = await load_deal(tx, scope, deal_id)
        return read_deal(row)


async def list_deals(
    scope: TenantScope,
    *,
    customer_id: UUID | None = None,
    stage: str | None = None,
    owner: UUID | None = None,
    territory_id: UUID | None = None,
    close_from: date | None = None,
    close_to: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DealRead]:
    """Visible deals, newest first. ``territory_id``: the customer's territory lies in its subtree
    (an unknown id gives an empty page); ``close_from``/``close_to``: the expected close date within
    (inclusive; a deal without one is left out when either is given)."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(
            scope.tenant_id,
            customer_id,
            stage,
            owner,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
            close_from,
            close_to,
        )
        where = ""
        if territory_id is not None:  # the subtree's root path looked up inside the query
            root = f"(SELECT r.path FROM territories r WHERE r.tenant = $1 AND r.id = {p(territory_id)})"
            where = " AND " + territory_in_subtree_sql(root)
        rows = await tx.fetch(
            SELECT_DEAL + " WHERE d.tenant = $1 AND ($2::uuid IS NULL OR d.customer_id = $2)"
            " AND ($3::text IS NULL OR d.stage = $3) AND ($4::uuid IS NULL OR d.owner_membership_id = $4)"
            " AND ($5::timestamptz IS NULL OR (d.created_at, d.id) < ($5, $6::uuid))"
            " AND ($8::date IS NULL OR d.expected_close_date >= $8)"
            " AND ($9::date IS NULL OR d.expected_close_date <= $9)"
            f"{where} AND {access.visible_sql(p)} ORDER BY d.created_at DESC, d.id DESC LIMIT $7",
            *p.values,
        )
    items = [read_deal(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def update_deal(scope: TenantScope, deal_id: UUID, data: DealUpdate) -> DealRead:
    changes: dict[str, Any] = {
        f: getattr(data, f) for f in data.__struct_fields__ if not isinstance(getattr(data, f), UnsetType)
    }
    if "amount" in changes:
        changes["amount"] = check_money("amount", changes["amount"])
    async with scope.tx() as tx:
        row, _ = await load_deal(tx, scope, deal_id, lock=True)
        if any(f in changes and changes[f] != row[f] for f in ("amount", "currency")):
            await contracts.check_amount_free(tx, scope.tenant_id, deal_id)
        if "owner_membership_id" in changes and changes["owner_membership_id"] != row["owner_membership_id"]:
            scope.require("manager")
            changes["owner_membership_id"] = await _check_owner(tx, scope, changes["owner_membership_id"])
        if "decision_people" in changes:
            changes["decision_people"] = await _check_people(
                tx, scope, row["customer_id"], changes["decision_people"]
            )
        if "key_info" in changes:
            changes["key_info"] = msgspec.json.encode(changes["key_info"]).decode()
        if not changes:
            return read_deal(row)
        sets = ", ".join(
            f"{k} = ${i}" + ("::jsonb" if k in ("key_info", "decision_people") else "")
            for i, k in enumerate(changes, start=3)
        )
        await tx.execute(
            f"UPDATE deals SET {sets}, updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            deal_id,
            *changes.values(),
        )
        await audit.record(
            tx, scope.user_id, "deal.updated", "deal", deal_id, data={"fields": sorted(changes)}
        )
        return await reload(tx, scope, deal_id)


async def apply_stage(
    tx: Tx,
    scope: TenantScope,
    deal: asyncpg.Record,
    to: str,
    reason: str | None,
    *,
    approval_id: UUID | None = None,
    actor: UUID | None = None,
) -> None:
    """Move ``deal`` (a locked row) to ``to``: probability to the stage's default, the history row,
    ``lost_reason`` and ``closed_at`` for terminal stages; reaching signed or won makes the customer
    won (``app.customers.won.mark_won``, in this transaction); reaching signed freezes the deal's
    contract (``collections.contracts.freeze``: by hand, the figures of now) and starts the collections
    from it (``collections.items.start_collections``); leaving signed for an earlier stage or lost
    removes the unpaid collection items and voids the signed contract (409 once a payment is recorded).
    No rule checks: callers decide."""
    if deal["stage"] == "signed" and to not in WON_STAGES:
        await _leave_signed(tx, scope, deal["id"])
    await tx.execute(
        "UPDATE deals SET stage = $3::text, probability = $4, updated_at = now(),"
        " lost_reason = CASE WHEN $3::text = 'lost' THEN $5 ELSE lost_reason END,"
        " closed_at = CASE WHEN $3::text IN ('won', 'lost') THEN now() ELSE NULL END"
        " WHERE tenant = $1 AND id = $2",
        scope.tenant_id,
        deal["id"],
        to,
        PROBABILITY[to],
        reason,
    )
    await tx.execute(
        "INSERT INTO deal_stage_changes (tenant, deal_id, from_stage, to_stage, reason, actor, approval_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        scope.tenant_id,
        deal["id"],
        deal["stage"],
        to,
        reason,
        actor or scope.membership_id,
        approval_id,
    )
    await audit.record(
        tx,
        scope.user_id,
        "deal.stage_changed",
        "deal",
        deal["id"],
        reason=reason,
        data={"from": deal["stage"], "to": to, "approval_id": approval_id},
    )
    event = {
        "deal_id": deal["id"],
        "customer_id": deal["customer_id"],
        "from_stage": deal["stage"],
        "to_stage": to,
        "reason": reason,
        "actor": actor or scope.membership_id,
    }
    await emit(tx, "deal.stage_changed", [event])
    if to in WON_STAGES and deal["stage"] not in WON_STAGES:
        await emit(tx, "deal.won", [event])
    elif to == "lost":
        await emit(tx, "deal.lost", [event])
    if to in WON_STAGES:  # idempotent
        won = CustomerWon(scope.tenant_id, deal["customer_id"], deal["id"], scope.user_id, scope.time_zone)
        await mark_won(tx, won)
    if to == "signed":  # the signed milestones become collection items (idempotent)
        await contracts.freeze(tx, scope, deal)
        await collection_items.start_collections(tx, deal["id"], datetime.now(UTC))


async def _leave_signed(tx: Tx, scope: TenantScope, deal_id: UUID) -> None:
    """A deal leaving ``signed`` (back, or lost) takes its collection items with it while nothing was
    paid, and its signed contract is voided; once a payment is recorded the move is refused (409): the
    money is real."""
    paid = await tx.fetchval(
        "SELECT EXISTS (SELECT 1 FROM collections c WHERE c.tenant = $1 AND c.deal_id = $2"
        " AND (c.paid_at IS NOT NULL OR EXISTS (SELECT 1 FROM collection_payments p"
        "  WHERE p.tenant = c.tenant AND p.collection_id = c.id)))",
        scope.tenant_id,
        deal_id,
    )
    if paid:
        raise Conflict("Payments are recorded against this signed deal; it cannot leave signed")
    removed = await tx.execute(
        "DELETE FROM collections WHERE tenant = $1 AND deal_id = $2", scope.tenant_id, deal_id
    )
    if removed != "DELETE 0":
        await audit.record(
            tx, scope.user_id, "deal.collections_removed", "deal", deal_id, data={"result": removed}
        )
    await contracts.release(tx, scope, deal_id)


async def stage_history(scope: TenantScope, deal_id: UUID) -> list[StageChangeRead]:
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        rows = await tx.fetch(
            "SELECT id, from_stage, to_stage, reason, actor, approval_id, at FROM deal_stage_changes"
            " WHERE tenant = $1 AND deal_id = $2 ORDER BY at, id",
            scope.tenant_id,
            deal_id,
        )
    return to_structs(StageChangeRead, rows)


async def _is_acceptance(tx: Tx, document_id: UUID) -> bool:
    kind = await tx.fetchval(
        "SELECT kind FROM documents WHERE tenant = $1 AND id = $2", tx.tenant_id, document_id
    )
    return bool(kind == "acceptance")


async def _signed_at(tx: Tx, envelope_id: UUID | None) -> datetime:
    """When the envelope's last signer signed (now, without an envelope)."""
    at = await tx.fetchval(
        "SELECT max(signed_at) FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2",
        tx.tenant_id,
        envelope_id,
    )
    return at or datetime.now(UTC)


async def start_collections(
    scope: TenantScope,
    subject_type: str,
    subject_id: str,
    *,
    envelope_id: UUID | None = None,
    document_id: UUID | None = None,
) -> list[UUID]:
    """The signed hook of ``deal`` and ``quote`` (registered by ``app.wiring``, run by
    ``app.signing.jobs.on_contract_signed``): document ``document_id`` about a deal (or one of its
    quotes) was signed. Freezes the deal's contract from that document's record
    (``collections.contracts.freeze``: the deal's amount becomes the signed total, the deal's other
    contracts are voided), moves an open deal to signed (no stage rules: the signature is the evidence)
    and creates its collection items from the signed milestones; returns their ids. A contract voided
    before it was signed changes nothing (returns no ids). Runs in the caller's transaction when one is
    open for the tenant; idempotent. See ``collections.items.start_collections``. A signed installation
    acceptance note (kind ``acceptance``) is not a contract: it goes to ``aftersales.accept`` (the
    service period starts, the balance falls due) and returns no ids."""
    async with scope.tx() as tx:
        ref = UUID(str(subject_id))
        deal_id = (
            ref
            if subject_type == "deal"
            else await tx.fetchval(
                "SELECT deal_id FROM quotes WHERE tenant = $1 AND id = $2", scope.tenant_id, ref
            )
        )
        deal = (
            await tx.fetchrow(
                "SELECT * FROM deals WHERE tenant = $1 AND id = $2 FOR UPDATE", scope.tenant_id, deal_id
            )
            if deal_id
            else None
        )
        if deal is None:
            return []
        if document_id is not None and await _is_acceptance(tx, document_id):
            await aftersales.accept(tx, scope, deal, document_id, await _signed_at(tx, envelope_id))
            return []
        signed = await contracts.freeze(
            tx,
            scope,
            deal,
            document_id=document_id,
            envelope_id=envelope_id,
            quote_id=ref if subject_type == "quote" else None,
        )
        if signed is None:
            return []
        if deal["stage"] not in ("signed", *TERMINAL):
            await apply_stage(tx, scope, deal, "signed", "contract signed", actor=deal["owner_membership_id"])
        items = await collection_items.start_collections(tx, deal["id"], datetime.now(UTC))
        await audit.record(
            tx,
            scope.user_id,
            "deal.collections_started",
            "deal",
            deal["id"],
            data={"envelope_id": envelope_id, "items": len(items)},
        )
        return [i.id for i in items]
