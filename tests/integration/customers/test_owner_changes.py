"""``change_owners`` is the one way a customer's owner changes: it moves only customers whose owner is
still the one the caller saw, bumps ``updated_at``, revives a lost customer that gets an owner (unless
told not to), and writes one ledger entry per real change with the cause, actor, reason and plan —
all or nothing with ``expect``; ``created`` only records the first owner of new customers."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from app import db
from app.customers.ledger import CAUSES, OwnershipChange
from app.customers.owner_changes import Moves, change_owners
from tenants.scope import MEMBER_SQL, TenantScope
from tests.factories import customer, db_rows
from tests.helpers import Member
from tests.integration.customers.pool.support import ledger_rows, pool_customer, team


async def _scope(m: Member) -> TenantScope:
    async with db.transaction(UUID(m.tenant_id)) as tx:
        row = await tx.fetchrow(
            MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2", UUID(m.tenant_id), UUID(m.membership_id)
        )
    return TenantScope.for_member(row)


async def _customer(admin_db: str, customer_id: str) -> dict[str, Any]:
    rows = await db_rows(
        admin_db,
        "SELECT owner_membership_id, status, updated_at FROM customers WHERE id = $1::uuid",
        customer_id,
    )
    return dict(rows[0])


async def test_moves_only_what_the_caller_saw_and_writes_the_ledger(client, admin_db):
    t = await team(client, admin_db, reps=2)
    a, b = (UUID(r.membership_id) for r in t.reps)
    owned = await customer(client, t.owner, t.territory["id"], owner_membership_id=str(a))
    other = await customer(client, t.owner, t.territory["id"], owner_membership_id=str(b))
    before = await _customer(admin_db, owned["id"])
    scope = await _scope(t.owner)
    plan = uuid4()
    changes = [
        OwnershipChange(UUID(owned["id"]), a, b),  # still a's: moves
        OwnershipChange(UUID(other["id"]), a, None),  # b's by now, not a's: left alone
    ]
    async with scope.tx() as tx:
        done = await change_owners(
            tx, scope, Moves.listed(changes), cause="handover", reason="调岗", plan_id=plan
        )
    assert (done.moved, done.written) == (1, 1)
    after = await _customer(admin_db, owned["id"])
    assert after["owner_membership_id"] == b and after["updated_at"] > before["updated_at"]
    assert (await _customer(admin_db, other["id"]))["owner_membership_id"] == b
    entry = (await ledger_rows(admin_db, t.owner.tenant_id, owned["id"]))[-1]
    assert (entry["cause"], entry["from_membership_id"], entry["to_membership_id"]) == ("handover", a, b)
    assert (entry["actor"], entry["reason"], entry["plan_id"]) == (UUID(t.owner.membership_id), "调岗", plan)
    assert [e["cause"] for e in await ledger_rows(admin_db, t.owner.tenant_id, other["id"])] == ["assign"]


async def test_expect_is_all_or_nothing(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = UUID(t.reps[0].membership_id)
    c = await pool_customer(client, t.owner, t.territory["id"])
    scope = await _scope(t.owner)
    missing = OwnershipChange(uuid4(), None, rep)  # no such customer: fewer move than expected
    with pytest.raises(RuntimeError):
        async with scope.tx() as tx:
            moves = Moves.listed([OwnershipChange(UUID(c["id"]), None, rep), missing])
            done = await change_owners(tx, scope, moves, cause="assign", expect=2)
            assert (done.moved, done.written) == (1, None)  # moved, but no history: the caller rolls back
            raise RuntimeError("roll back")
    assert (await _customer(admin_db, c["id"]))["owner_membership_id"] is None
    assert await ledger_rows(admin_db, t.owner.tenant_id, c["id"]) == []


async def test_a_new_owner_revives_a_lost_customer_unless_told_not_to(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = UUID(t.reps[0].membership_id)
    lost = [await pool_customer(client, t.owner, t.territory["id"], status="lost") for _ in range(2)]
    scope = await _scope(t.owner)
    async with scope.tx() as tx:
        await change_owners(
            tx, scope, Moves.listed([OwnershipChange(UUID(lost[0]["id"]), None, rep)]), cause="assign"
        )
    async with scope.tx() as tx:
        undo = Moves.listed([OwnershipChange(UUID(lost[1]["id"]), None, rep)])
        await change_owners(tx, scope, undo, cause="handover", revive=False)
    assert [(await _customer(admin_db, c["id"]))["status"] for c in lost] == ["prospect", "lost"]


async def test_changes_given_as_sql_and_every_cause(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = UUID(t.reps[0].membership_id)
    made = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(3)]
    ids = sorted(UUID(c["id"]) for c in made)
    scope = await _scope(t.owner)
    to_rep = Moves(
        "(SELECT id AS customer_id, NULL::uuid AS from_owner, $2::uuid AS to_owner FROM customers"
        " WHERE tenant = $1 AND id = ANY($3::uuid[])) x",
        (rep, ids),
        select="array_agg(id) AS moved_ids",
    )
    async with scope.tx() as tx:
        done = await change_owners(tx, scope, to_rep, cause="assign")
    assert (done.moved, done.written, sorted(done.row["moved_ids"])) == (3, 3, ids)
    history = await ledger_rows(admin_db, t.owner.tenant_id)
    assert [e["customer_id"] for e in history[-3:]] == ids  # changes given as SQL: by customer id

    for cause in CAUSES:  # the ledger takes every cause it knows; a created customer is not updated
        async with scope.tx() as tx:
            new = [OwnershipChange(uuid4(), None, rep)]
            done = await change_owners(tx, scope, Moves.listed(new), cause=cause, created=True)
        assert (done.moved, done.written) == (1, 1)
    assert [e["cause"] for e in (await ledger_rows(admin_db, t.owner.tenant_id))[-len(CAUSES) :]] == list(
        CAUSES
    )
    async with scope.tx() as tx:
        with pytest.raises(ValueError, match="unknown ownership change cause"):
            await change_owners(tx, scope, Moves.listed([]), cause="split")
