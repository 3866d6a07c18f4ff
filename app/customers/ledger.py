"""The customer ownership history (客户归属记录): every change of owner, tamper-evident.

Commission disputes are settled from it, so each entry is hash-chained:
``hash = sha256(canonical content || prev_hash)`` where the content (SQL ``acre_ownership_content``)
is tenant, seq, customer, from, to, cause, actor, plan, time (µs) and the length-prefixed reason, then
the entry's pool (the pool a customer was claimed, assigned or handed over from, or went into on a
release or reclaim) — content 'v2'; an entry without a pool (written before pools) stays 'v1'.
Both the append and :func:`verify_chain` compute it in SQL on core PostgreSQL (``sha256()`` is core
since 11; no pgcrypto), so there is one definition of the content.

Chain choice: **one chain per tenant**, ordered by a gap-free ``seq``. Appends are serialised by a
per-tenant advisory lock (``pg_advisory_xact_lock``) held to the end of the transaction; the batch is
hashed in one PL/pgSQL call (``acre_ownership_append``: the head is read once, the hashes are computed
in memory, then one ``INSERT … SELECT FROM unnest``), so a 10,000-row append is one statement. Why
not per-customer chains: a per-customer chain cannot notice a deleted last entry, or a customer's
whole history deleted, without extra per-tenant checkpoints — which then need their own ordering
against concurrent commits (bigserial ids commit out of order), i.e. the same serialisation again.
A tenant-wide total order makes every edit, insertion or deletion of an entry break the chain
(``seq`` gaps, a changed ``prev_hash`` or ``hash``). Contention: the lock is taken only at the
append, which callers make the *last* statement of their transaction, so it is held for the commit
only (a claim: ~1 ms; a 10,000-row sweep batch or import: the append itself, ~0.2 s measured).
Tenants never wait for each other. What a chain alone cannot show is the newest entries cut off
the end; the head (``VerifyResult.head_seq``/``head_hash``) is what to record elsewhere for that.

The database refuses UPDATE, DELETE and TRUNCATE on the table (trigger), and the application role
has no UPDATE/DELETE grant on it either. Entries are written only with the owner changes themselves,
by :func:`app.customers.owner_changes.change_owners`.

``actor`` is the acting **membership** id (``None`` for the system: reclaim sweep, imports by a job).
Appends need an open tenant transaction (``db.transaction(tenant)``); under REPEATABLE READ a
concurrent append makes the later one fail on ``UNIQUE (tenant, seq)`` rather than fork the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from uuid import UUID

from app.db import Tx

CAUSES: Final = ("claim", "release", "reclaim", "assign", "import", "handover", "create", "merge")


@dataclass(frozen=True)
class OwnershipChange:
    customer_id: UUID
    from_membership_id: UUID | None
    to_membership_id: UUID | None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_id: int | None
    first_broken_seq: int | None
    head_seq: int | None
    head_hash: str | None


def append_expr(
    customers: str, froms: str, tos: str, cause: str, actor: str, reason: str, plan: str, pools: str
) -> str:
    """The append as a SQL expression over SQL expressions (customers, from, to and pools as arrays,
    in order; cause, actor, reason, plan id), used inside the statement of
    :func:`app.customers.owner_changes.change_owners` — the only writer of the history. It returns
    the rows written; it writes entries whose owner does not change as given (filter them out first)."""
    return f"acre_ownership_append({customers}, {froms}, {tos}, {cause}, {actor}, {reason}, {plan}, {pools})"


_VERIFY = """
SELECT count(*) OVER () AS checked, x.id, x.seq, x.broken FROM (
    SELECT h.id, h.seq,
        h.seq <> coalesce(lag(h.seq) OVER w, 0) + 1
        OR h.prev_hash <> coalesce(lag(h.hash) OVER w, acre_ownership_genesis())
        OR h.hash <> sha256(acre_ownership_content(h.tenant, h.seq, h.customer_id, h.from_membership_id,
            h.to_membership_id, h.cause, h.actor, h.reason, h.plan_id, h.at, h.pool_id)
            || h.prev_hash) AS broken,
        h.hash
    FROM customer_ownership_history h WHERE h.tenant = $1
    WINDOW w AS (ORDER BY h.seq)
) x
ORDER BY x.broken DESC, x.seq LIMIT 1
"""


async def verify_chain(tx: Tx) -> VerifyResult:
    """Recompute the tenant's whole chain in one set-based query (a window over ``seq``).

    ``first_broken_id`` is the first entry (by seq) whose content no longer matches its hash, whose
    ``prev_hash`` is not the previous entry's hash, or that follows a gap in ``seq``; ``None`` when the
    chain is intact."""
    row = await tx.fetchrow(_VERIFY, tx.tenant_id)
    head = await tx.fetchrow(
        "SELECT seq, hash FROM customer_ownership_history WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
        tx.tenant_id,
    )
    head_seq = head["seq"] if head else None
    head_hash = bytes(head["hash"]).hex() if head else None
    if row is None:
        return VerifyResult(True, 0, None, None, head_seq, head_hash)
    broken = bool(row["broken"])
    return VerifyResult(
        ok=not broken,
        checked=row["checked"],
        first_broken_id=row["id"] if broken else None,
        first_broken_seq=row["seq"] if broken else None,
        head_seq=head_seq,
        head_hash=head_hash,
    )
