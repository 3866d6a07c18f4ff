"""Every change of a customer's owner goes through :func:`change_owners`: claim and release, the
reclaim sweep, a handover, its undo and a realignment, the first owner of customers created with
one (entered by hand, imported), and a merge of two customers (``app.customers.merge``: an entry on
both customers' chains, written after the rows changed, ``created`` and ``record_unchanged``).

One statement per call, whatever its size: ``WITH moved AS (UPDATE customers … FROM <the changes>
RETURNING …) SELECT <ledger append over the moved rows>``, so an owner change and its history are one
round trip and cannot part. The rules it owns:

- a customer moves only while its owner is still the change's ``from_owner`` (what the caller saw):
  otherwise it is left alone and not counted, so callers compare ``moved`` with what they expected;
- a moved customer whose owner changed gets ``updated_at = now()`` (the optimistic checks of
  handovers rely on it); with ``revive`` a ``lost`` customer that gets a new owner is a prospect again;
- the history gets one entry per moved customer whose owner really changed (cause, acting member,
  reason, plan, and the customer's pool after the change: the one it was claimed from, or went into —
  ``Moves.to_pool`` names where one going into the pool goes, else its territory's pool),
  in the order the changes were listed, or by customer id for changes given as SQL;
- the append takes the tenant's ledger lock until commit, so a call is the last statement of its
  transaction (but for the webhook events of the changes, ``app.outbound.events.emit``, one more
  statement that writes nothing while the company has no endpoint subscribed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from app.customers import ledger
from app.db import Tx
from app.outbound.events import OWNER_CHANGE_EVENTS, emit
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class Moves:
    """Which customers get which owner, as SQL. ``relation`` is a FROM item that names ``x`` with
    the columns ``customer_id``, ``from_owner`` and ``to_owner`` (and any others ``where`` uses);
    ``args`` are the values of ``$2``… in it (``$1`` is always the tenant). ``where`` adds conditions
    on ``c`` (the customer row, locked by the update) and ``x``; ``with_`` common table expressions
    the relation reads; ``also_set`` more assignments on ``c``, and ``touch`` a condition that makes
    ``updated_at`` move even when the owner stays; ``select`` more columns of the answer, over
    ``moved`` (``id``, ``f``, ``t``) or the CTEs. ``order`` orders the history entries. ``to_pool``:
    the pool a customer going into the pool goes to (SQL over ``c`` and ``x``; NULL: its territory's)."""

    relation: str
    args: tuple[Any, ...] = ()
    where: str = ""
    with_: str = ""
    also_set: str = ""
    touch: str = ""
    select: str = ""
    order: str = "x.customer_id"
    to_pool: str = "NULL"

    @classmethod
    def listed(cls, changes: Sequence[ledger.OwnershipChange], *, where: str = "") -> Moves:
        """The changes of a list, in its order (``x.ord``)."""
        return cls(
            "unnest($2::uuid[], $3::uuid[], $4::uuid[])"
            " WITH ORDINALITY AS x (customer_id, from_owner, to_owner, ord)",
            (
                [c.customer_id for c in changes],
                [c.from_membership_id for c in changes],
                [c.to_membership_id for c in changes],
            ),
            where=where,
            order="x.ord",
        )


@dataclass(frozen=True, slots=True)
class Moved:
    moved: int  # the customers updated (whose owner was still the expected one)
    written: int | None  # history entries written; None when ``expect`` was not met (nothing written)
    row: asyncpg.Record  # the answer, with the ``Moves.select`` columns


def _sql(moves: Moves, *, revive: bool, created: bool, record_unchanged: bool = False) -> str:
    n = 2 + len(moves.args)
    cause, actor, reason, plan, expect = (f"${n + i}" for i in range(5))
    where = f" AND {moves.where}" if moves.where else ""
    if created:  # the rows already hold these owners: only the history is written
        moved = (
            f"SELECT x.customer_id AS id, x.from_owner AS f, x.to_owner AS t, {moves.order} AS ord,"
            " (SELECT pc.pool_id FROM customers pc WHERE pc.tenant = $1 AND pc.id = x.customer_id) AS p"
            f" FROM {moves.relation} WHERE TRUE{where}"
        )
    else:
        changed = "x.to_owner IS DISTINCT FROM x.from_owner"
        touched = f"{changed} OR {moves.touch}" if moves.touch else changed
        sets = [
            "owner_membership_id = x.to_owner",
            f"updated_at = CASE WHEN {touched} THEN now() ELSE c.updated_at END",
        ]
        # into the pool: the pool named, else (NULL, the customers_pool trigger) its territory's
        sets.append(
            f"pool_id = CASE WHEN x.to_owner IS NULL AND {changed} THEN {moves.to_pool} ELSE c.pool_id END"
        )
        if revive:
            sets.append(
                "status = CASE WHEN c.status = 'lost' AND x.to_owner IS NOT NULL AND "
                f"{changed} THEN 'prospect' ELSE c.status END"
            )
        if moves.also_set:
            sets.append(moves.also_set)
        moved = (
            f"UPDATE customers c SET {', '.join(sets)} FROM {moves.relation}"
            " WHERE c.tenant = $1 AND c.id = x.customer_id"
            f" AND c.owner_membership_id IS NOT DISTINCT FROM x.from_owner{where}"
            f" RETURNING c.id, x.from_owner AS f, x.to_owner AS t, {moves.order} AS ord, c.pool_id AS p"
        )
    real = "" if record_unchanged else "FILTER (WHERE f IS DISTINCT FROM t)"
    append = ledger.append_expr(
        f"array_agg(id ORDER BY ord) {real}",
        f"array_agg(f ORDER BY ord) {real}",
        f"array_agg(t ORDER BY ord) {real}",
        f"{cause}::text",
        f"{actor}::uuid",
        f"{reason}::text",
        f"{plan}::uuid",
        f"array_agg(p ORDER BY ord) {real}",
    )
    ctes = f"{moves.with_},\n" if moves.with_ else ""
    extra = f", {moves.select}" if moves.select else ""
    changed_lists = (
        f"array_agg(id ORDER BY ord) {real} AS changed_ids, array_agg(f ORDER BY ord) {real} AS changed_from,"
        f" array_agg(t ORDER BY ord) {real} AS changed_to"
    )
    return (
        f"WITH {ctes}moved AS ({moved})\n"
        f"SELECT $1::uuid AS tenant, count(*) AS moved, {changed_lists},"
        f" CASE WHEN {expect}::bigint IS NULL OR count(*) = {expect}::bigint THEN {append} END AS written"
        f"{extra}\nFROM moved"
    )


async def change_owners(
    tx: Tx,
    scope: TenantScope,
    moves: Moves,
    *,
    cause: str,
    reason: str | None = None,
    plan_id: UUID | None = None,
    revive: bool = True,
    expect: int | None = None,
    created: bool = False,
    record_unchanged: bool = False,
) -> Moved:
    """Move the customers of ``moves`` to their new owners and write their history, acted by
    ``scope``'s member (the system for a job scope). With ``expect``, the history is written only if
    exactly that many moved — the caller then raises to roll the moves back. ``revive=False`` keeps
    statuses as they are (an undo restores, it does not revive). ``created``: the customers were just
    inserted with these owners (create, import) or already changed (a merge): nothing is updated, only
    the history is written. ``record_unchanged``: an entry (and an event) also for a customer whose
    owner stays (both sides of a merge). ``ValueError`` for a cause the ledger does not know."""
    if cause not in ledger.CAUSES:
        raise ValueError(f"unknown ownership change cause: {cause!r}")
    row = await tx.fetchrow(
        _sql(moves, revive=revive, created=created, record_unchanged=record_unchanged),
        tx.tenant_id,
        *moves.args,
        cause,
        scope.membership_id,
        reason,
        plan_id,
        expect,
    )
    assert row is not None
    if row["written"] is not None and row["changed_ids"]:  # the webhook events of the changes
        await emit(
            tx,
            "customer.created" if created and cause != "merge" else OWNER_CHANGE_EVENTS[cause],
            (
                {
                    "customer_id": c,
                    "from_owner": f,
                    "to_owner": t,
                    "cause": cause,
                    "actor": scope.membership_id,
                }
                for c, f, t in zip(row["changed_ids"], row["changed_from"], row["changed_to"], strict=True)
            ),
        )
    return Moved(moved=int(row["moved"]), written=row["written"], row=row)
