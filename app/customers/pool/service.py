"""The pool (公海): listing it, claiming (领取) and releasing (释放) customers.

A claim is race-safe in two ways. Against other members claiming the same customer: one conditional
``UPDATE … WHERE owner_membership_id IS NULL`` (``change_owners``) — the row lock makes every
other claim re-check and find an owner (409 naming them). Against the same member's parallel claims
overshooting a cap: the cap checks run under a per-member ``pg_advisory_xact_lock``, so they count
what the member's previous claim committed. The owner change and its ledger entry are the
transaction's last write (the entry takes the tenant's ledger lock until commit).

Who may claim: the pools a member works (rep: their territories; manager: their subtrees; owner/admin:
all), and customers granted across territories. A customer in such a pool that someone else claimed
meanwhile is a 409 naming the owner, not a 404 — the member saw it in their pool a moment ago.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from app.customers.ledger import OwnershipChange
from app.customers.masking import masks_for
from app.customers.owner_changes import Moves, change_owners
from app.customers.pool import release_reasons
from app.customers.pool.pools import pool_by_id, territory_pool_id, visible_pool
from app.customers.pool.rules import RULES_SQL, PoolRules, effective_caps, load_pool_rules, rules_of
from app.customers.pool.schemas import ClaimCounter, PoolItem
from app.customers.schemas import CustomerRead
from app.customers.service import load_visible, reload_customer
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_cursor, encode_cursor
from app.rows import to_structs
from app.sql import Params
from app.territories.service import fetch_territory
from tenants.access import CustomerAccess, customer_access, in_subtree_sql, pools_sql
from tenants.scope import TenantScope

POOL_STATUSES = ("prospect", "lost")
SOURCES = (
    "event",
    "telemarketing",
    "inbound",
    "cold_visit",
    "list",
    "trade_show",
    "web",
    "referral",
    "upsell",
)
_MEMBER_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('pool-member:' || $1::uuid::text, 0))"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a claim is refused: a stable ``rule`` code, the message id and its parameters."""

    rule: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def error(self) -> Conflict:
        return Conflict(self.message, extra={"rule": self.rule, "params": self.params}, **self.params)


ClaimGate = Callable[[Tx, TenantScope, UUID], Awaitable[Refusal | None]]
CLAIM_GATES: list[ClaimGate] = []


def register_claim_gate(gate: ClaimGate) -> None:
    """Add a rule of another domain that may refuse a claim (``app.wiring``; a vendor registration of
    another team): run after the pool's own rules, in the order registered; registering it again
    changes nothing."""
    if gate not in CLAIM_GATES:
        CLAIM_GATES.append(gate)


def local_date(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).date().isoformat()


# --- the rules of a claim -------------------------------------------------------------------------


async def claim_refusal(tx: Tx, scope: TenantScope, row: asyncpg.Record, rules: PoolRules) -> Refusal | None:
    """The first rule that refuses ``scope``'s member this customer now, or ``None``. ``row`` has the
    customer's id, status, grade, owner_membership_id and owner_name. Run it under the member lock
    for a decision that holds (pool-status runs it without, as an explanation)."""
    me = scope.membership_id
    if row["owner_membership_id"] == me and me is not None:
        return Refusal("already_yours", N_("This customer is already yours"))
    if row["owner_membership_id"] is not None:
        name = row["owner_name"] or str(row["owner_membership_id"])
        return Refusal("owned", N_("Owned by {owner}"), {"owner": name})
    if row["status"] not in POOL_STATUSES:
        return Refusal(
            "not_in_pool", N_("This customer is not in the pool (status {status})"), {"status": row["status"]}
        )
    if me is None:
        return Refusal("no_member", N_("Only a member can claim customers"))
    now = await tx.fetchval("SELECT now()")
    if rules.new_in_pool_hours and row["pooled_at"] is not None:
        until = row["pooled_at"] + timedelta(hours=rules.new_in_pool_hours)
        if until > now:
            return Refusal(
                "new_in_pool",
                N_("Just back in the pool: it can be claimed from {until} ({hours} h delay)"),
                {"until": local_time(until, scope.time_zone), "hours": rules.new_in_pool_hours},
            )
    released_at = await tx.fetchval(
        "SELECT max(at) FROM customer_ownership_history WHERE tenant = $1 AND customer_id = $2"
        " AND from_membership_id = $3 AND to_membership_id IS NULL",
        scope.tenant_id,
        row["id"],
        me,
    )
    if released_at is not None and rules.cooldown_days:
        until = released_at + timedelta(days=rules.cooldown_days)
        if until > now:
            return Refusal(
                "cooldown",
                N_("You gave this customer up; you can claim it again from {until} ({days}-day cooldown)"),
                {"until": local_date(until, scope.time_zone), "days": rules.cooldown_days},
            )
    caps = await effective_caps(tx, rules, me, row["territory_id"])
    counts = await _owned_counts(tx, scope, me, row["grade"], count_won=rules.count_won)
    if counts["owned"] >= caps.owned_cap:
        return Refusal(
            "owned_cap",
            N_("You own {count} customers; the cap is {cap}"),
            {"count": counts["owned"], "cap": caps.owned_cap},
        )
    grade_cap = rules.grade(row["grade"]).owned_cap
    if grade_cap is not None and counts["of_grade"] >= grade_cap:
        return Refusal(
            "grade_cap",
            N_("You own {count} grade {grade} customers; the cap is {cap}"),
            {"count": counts["of_grade"], "grade": row["grade"], "cap": grade_cap},
        )
    if caps.daily_claim_cap is not None:
        today = await _claimed_today(tx, scope, me)
        if today >= caps.daily_claim_cap:
            return Refusal(
                "daily_cap",
                N_("You have claimed {count} customers today; the daily cap is {cap}"),
                {"count": today, "cap": caps.daily_claim_cap},
            )
    for gate in CLAIM_GATES:
        if (refusal := await gate(tx, scope, row["id"])) is not None:
            return refusal
    return None


def local_time(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


async def _owned_counts(
    tx: Tx, scope: TenantScope, me: UUID, grade: str, *, count_won: bool = False
) -> asyncpg.Record:
    """``owned`` (prospects the member owns, and won customers with ``count_won``: what the cap
    counts) and ``of_grade`` (of the prospects, ``grade``)."""
    p = Params(scope.tenant_id)
    counts = await tx.fetchrow(
        f"SELECT count(*) FILTER (WHERE status = 'prospect' OR {p(count_won)}) AS owned,"
        f" count(*) FILTER (WHERE status = 'prospect' AND grade = {p(grade)}) AS of_grade"
        f" FROM customers WHERE tenant = $1 AND owner_membership_id = {p(me)}"
        " AND status IN ('prospect', 'won')",
        *p.values,
    )
    assert counts is not None
    return counts


async def _claimed_today(tx: Tx, scope: TenantScope, me: UUID) -> int:
    """Claims the member made since midnight in the tenant's time zone (what the daily cap counts)."""
    p = Params(scope.tenant_id)
    return int(await tx.fetchval("SELECT " + _claimed_today_sql(p, scope, me), *p.values))


async def claim_counter(scope: TenantScope) -> ClaimCounter | None:
    """Where the member stands against the claim caps: the same counts the claim rules compare
    (``claim_refusal``), so the pool page's "x of cap, y today" cannot drift from a refusal.
    ``None`` for a scope without a membership (a job)."""
    if scope.membership_id is None:
        return None
    p = Params(scope.tenant_id)
    sql = "SELECT " + counter_sql(p, scope)
    async with scope.tx() as tx:
        row = await tx.fetchrow(sql, *p.values)
    assert row is not None
    return counter_of(row)


_OWNED = "FROM customers WHERE tenant = $1 AND owner_membership_id = {me} AND status = 'prospect'"


def _owned_sql(p: Params, me: UUID) -> str:
    """Prospects the member owns (what the owned cap counts), as a scalar subquery (tenant ``$1``)."""
    return f"(SELECT count(*) {_OWNED.format(me=p(me))})"


def _claimed_today_sql(p: Params, scope: TenantScope, me: UUID) -> str:
    """Claims by the member since midnight in the tenant's zone (what the daily cap counts)."""
    zone = p(scope.time_zone)
    return (
        f"(SELECT count(*) FROM customer_ownership_history WHERE tenant = $1 AND to_membership_id = {p(me)}"
        f" AND cause = 'claim' AND at >= date_trunc('day', now() AT TIME ZONE {zone}) AT TIME ZONE {zone})"
    )


def counter_sql(p: Params, scope: TenantScope) -> str:
    """The claim counter's reads as select-list columns (tenant ``$1``; a member's scope), for one
    round trip with a page's other small reads; ``counter_of`` reads the row. The caps are the
    tenant's rules under the member's own overrides (a pool's or territory's may differ: a claim's
    refusal names the cap that applied)."""
    assert scope.membership_id is not None
    me = scope.membership_id
    mine = f"FROM pool_cap_overrides WHERE tenant = $1 AND membership_id = {p(me)}"
    won = (
        f"(SELECT count(*) FROM customers WHERE tenant = $1 AND owner_membership_id = {p(me)}"
        " AND status = 'won')"
    )
    return (
        f"{RULES_SQL} AS counter_rules, {_owned_sql(p, me)} AS counter_owned, {won} AS counter_won,"
        f" {_claimed_today_sql(p, scope, me)} AS counter_today,"
        f" (SELECT owned_cap {mine}) AS counter_owned_cap,"
        f" (SELECT daily_claim_cap {mine}) AS counter_daily_cap"
    )


def counter_of(row: Mapping[str, Any]) -> ClaimCounter:
    rules = rules_of(row["counter_rules"])
    won = int(row["counter_won"]) if rules.count_won else 0
    return ClaimCounter(
        owned=int(row["counter_owned"]) + won,
        owned_cap=row["counter_owned_cap"] or rules.owned_cap,
        today=int(row["counter_today"]),
        daily_cap=row["counter_daily_cap"] or rules.daily_claim_cap,
    )


_POOL_ROW = (
    "SELECT c.id, c.status, c.grade, c.territory_id, c.pool_id, c.pooled_at, c.locked_at,"
    " c.owner_membership_id, c.last_followup_at, c.owner_changed_at, c.full_name, u.name AS owner_name,"
    " t.name AS territory_name FROM customers c"
    " JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id"
    " LEFT JOIN memberships m ON m.tenant = c.tenant AND m.id = c.owner_membership_id"
    " LEFT JOIN users u ON u.id = m.user_id WHERE c.tenant = $1 AND c.id = $2"
)


async def pool_row(tx: Tx, scope: TenantScope, customer_id: UUID) -> asyncpg.Record:
    row = await tx.fetchrow(_POOL_ROW, scope.tenant_id, customer_id)
    if row is None:
        raise NotFound("No customer with this id")
    return row


async def load_claimable(
    tx: Tx, scope: TenantScope, customer_id: UUID
) -> tuple[asyncpg.Record, CustomerAccess]:
    """The customer if the member may see it or it lies in a pool they work; else 404."""
    access = await customer_access(tx, scope)
    row = await pool_row(tx, scope, customer_id)
    p = Params(scope.tenant_id, customer_id)
    visible = await tx.fetchval(
        f"SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}", *p.values
    )
    if not visible and not access.may_claim(row["id"], row["pool_id"]):
        raise NotFound("No customer with this id")
    return row, access


# --- claim and release ------------------------------------------------------------------------------


async def _reload(tx: Tx, scope: TenantScope, customer_id: UUID) -> CustomerRead:
    return await reload_customer(tx, scope, customer_id)  # a released customer: masked for its releaser


async def claim_customer(scope: TenantScope, customer_id: UUID) -> CustomerRead:
    """Claim a pool customer for the acting member: 404 if they cannot see it or its pool, 409 with
    ``rule`` (owned, already_yours, not_in_pool, cooldown, owned_cap, grade_cap, daily_cap, or a
    registered gate's: vendor_registration) if refused."""
    async with scope.tx() as tx:
        _, access = await load_claimable(tx, scope, customer_id)
        if scope.membership_id is None:
            raise Forbidden("Only a member can claim customers")
        await tx.execute(_MEMBER_LOCK, scope.membership_id)
        row = await pool_row(tx, scope, customer_id)  # fresh: read after the lock
        if row["owner_membership_id"] is None and not access.may_claim(row["id"], row["pool_id"]):
            raise Forbidden("You can claim only from the pools of your own territories")
        rules = await load_pool_rules(tx, row["pool_id"])
        refusal = await claim_refusal(tx, scope, row, rules)
        if refusal is not None:
            raise refusal.error()
        claim = Moves.listed(
            [OwnershipChange(customer_id, None, scope.membership_id)],
            where="c.status IN ('prospect', 'lost')",
        )
        if not (await change_owners(tx, scope, claim, cause="claim")).moved:
            # another claim won the row lock and committed first: say who (or a merge removed it)
            fresh = await tx.fetchrow(_POOL_ROW, scope.tenant_id, customer_id)
            if fresh is None:
                raise Refusal("merged", N_("This customer was just merged into another record")).error()
            refusal = await claim_refusal(tx, scope, fresh, rules)
            raise (refusal or Refusal("taken", N_("Someone else just claimed this customer"))).error()
        return await _reload(tx, scope, customer_id)


async def release_customer(
    scope: TenantScope,
    customer_id: UUID,
    reason: str,
    *,
    pool_id: UUID | None = None,
    note: str | None = None,
) -> CustomerRead:
    """Put a customer back into a pool — ``pool_id``, else its territory's — with a reason from the
    tenant's list (``release_reasons``; a note may add words): its owner, or a manager of its
    territory (or owner/admin). 404 if invisible, 403 if not theirs, 409 if already in the pool; 422
    for a reason not on the list or a pool of another tenant (or one the member may not put it in:
    a territory's pool takes only that territory's customers)."""
    async with scope.tx() as tx:
        label = await release_reasons.label_of(tx, scope, reason)
        note = (note or "").strip()
        row, access = await load_visible(tx, scope, customer_id, lock=True)
        owner = row["owner_membership_id"]
        if owner is None:
            raise Conflict("This customer is already in the pool", extra={"rule": "not_owned"})
        if owner != scope.membership_id and not access.manages(row["territory_id"]):
            raise Forbidden("Only the owner or a manager of its territory can release this customer")
        target = await territory_pool_id(tx, row["territory_id"]) if pool_id is None else pool_id
        if pool_id is not None:
            try:
                pool = await pool_by_id(tx, pool_id)
            except NotFound:
                raise ValidationFailed.field("pool_id", "No pool with this id") from None
            if pool.territory_id is not None and pool.territory_id != row["territory_id"]:
                raise ValidationFailed.field("pool_id", "A territory's pool takes only its own customers")
        release = Moves(
            "unnest($2::uuid[], $3::uuid[], $4::uuid[]) AS x (customer_id, from_owner, to_owner)",
            ([customer_id], [owner], [None]),
            to_pool=f"'{target}'::uuid",
        )
        text = f"{label}: {note}" if note else label
        await change_owners(tx, scope, release, cause="release", reason=text)
        return await _reload(tx, scope, customer_id)


async def set_lock(scope: TenantScope, customer_id: UUID, locked: bool) -> CustomerRead:
    """Lock (锁定) an own customer against auto-reclaim, or unlock it. Locking: its owner only, up to
    the lock cap (``lock_cap`` of its pool's rules, under the member's or territory's override; 409
    ``lock_cap``), counted under the member's claim lock so two locks at once cannot overshoot.
    Unlocking: its owner or a manager of its territory. 404 if invisible, 403 if not theirs, 409 if
    it has no owner."""
    async with scope.tx() as tx:
        row, access = await load_visible(tx, scope, customer_id, lock=True)
        owner = row["owner_membership_id"]
        if owner is None:
            raise Conflict("Only an owned customer can be locked", extra={"rule": "not_owned"})
        me = scope.membership_id
        if locked:
            if owner != me or me is None:
                raise Forbidden("Only its owner can lock this customer")
            await tx.execute(_MEMBER_LOCK, me)
            pool_id = await tx.fetchval(
                "SELECT pool_id FROM customers WHERE tenant = $1 AND id = $2", scope.tenant_id, customer_id
            )
            caps = await effective_caps(tx, await load_pool_rules(tx, pool_id), me, row["territory_id"])
            count = await tx.fetchval(
                "SELECT count(*) FROM customers WHERE tenant = $1 AND owner_membership_id = $2"
                " AND locked_at IS NOT NULL AND id <> $3",
                scope.tenant_id,
                me,
                customer_id,
            )
            if count >= caps.lock_cap:
                raise Refusal(
                    "lock_cap",
                    N_("You have locked {count} customers; the cap is {cap}"),
                    {"count": count, "cap": caps.lock_cap},
                ).error()
        elif owner != me and not access.manages(row["territory_id"]):
            raise Forbidden("Only its owner or a manager of its territory can unlock this customer")
        await tx.execute(
            "UPDATE customers SET locked_at = CASE WHEN $3 THEN coalesce(locked_at, now()) END"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            customer_id,
            locked,
        )
        return await _reload(tx, scope, customer_id)


# --- the pool list ---------------------------------------------------------------------------------


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed.field(name, "Use an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise ValidationFailed.field(name, "Use an ISO 8601 date and time")
    return moment


async def list_pool(
    scope: TenantScope,
    *,
    territory_id: UUID | None = None,
    pool_id: UUID | None = None,
    grade: str | None = None,
    industry: str | None = None,
    source: str | None = None,
    followup_before: str | None = None,
    followup_after: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[PoolItem]:
    """Unowned prospects and lost customers in the pools the member works, never-followed-up first,
    then oldest follow-up first. ``territory_id`` means its subtree; ``pool_id`` one pool (one the
    member may claim from, else 404); ``followup_before`` includes customers never followed up.
    Unknown territory, grade or source: 422."""
    check_limit(limit)
    if grade is not None and grade not in ("A", "B", "C", "D"):
        raise ValidationFailed.field("grade", "Use A, B, C or D")
    if source is not None and source not in SOURCES:
        raise ValidationFailed.field("source", "Unknown source")
    before, after = (
        _parse_time(followup_before, "followup_before"),
        _parse_time(followup_after, "followup_after"),
    )
    position = decode_cursor(cursor, 2)
    try:
        last_at = datetime.fromisoformat(position[0]) if position and position[0] else None
        last_id = UUID(position[1]) if position else None
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None
    p = Params(scope.tenant_id)
    where = ["c.tenant = $1", "c.owner_membership_id IS NULL", "c.status IN ('prospect', 'lost')"]
    if not scope.at_least("admin"):
        where.append(pools_sql(p, scope))
    if pool_id is not None:
        async with scope.tx() as tx:
            await visible_pool(tx, scope, pool_id)
        where.append(f"c.pool_id = {p(pool_id)}")
    for column, value in (("grade", grade), ("industry", industry), ("source", source)):
        if value is not None:
            where.append(f"c.{column} = {p(value)}")
    if before is not None:
        where.append(f"(c.last_followup_at IS NULL OR c.last_followup_at < {p(before)})")
    if after is not None:
        where.append(f"c.last_followup_at >= {p(after)}")
    if position is not None:
        if last_at is None:
            where.append(f"(c.last_followup_at IS NOT NULL OR c.id > {p(last_id)})")
        else:
            where.append(f"(c.last_followup_at, c.id) > ({p(last_at)}, {p(last_id)})")
    order = "ORDER BY c.last_followup_at ASC NULLS FIRST, c.id"
    columns = (
        "c.id, c.full_name, c.short_name, c.industry, c.source, c.grade, c.status, c.territory_id,"
        " c.last_followup_at, c.created_at, c.phone, c.address, c.tax_id, c.pool_id, c.owner_membership_id"
    )
    item = (  # PoolItem's fields in its order: to_structs then maps the rows positionally
        "c.id, c.full_name, c.short_name, c.industry, c.source, c.grade, c.status, c.territory_id,"
        " t.name AS territory_name, c.last_followup_at, c.created_at, {shown}"
    )
    if territory_id is None:
        sql = (
            f"SELECT {item} FROM (SELECT c.tenant, {columns} FROM customers c"
            f" WHERE {' AND '.join(where)} {order} LIMIT {p(limit + 1)}) c"
            f" JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id {order}"
        )
    else:
        # A subtree: the first page of each of its territories, in the pool index's order (an ordered
        # range scan that stops after limit+1 rows), merged — rather than every pool row of the
        # subtree sorted. The subtree is found in the same statement (no round trip for it).
        top, n = p(territory_id), p(limit + 1)
        where.append("c.territory_id = t.id")
        sql = (
            f"SELECT {item} FROM territories top"
            f" JOIN territories t ON t.tenant = top.tenant AND {in_subtree_sql('t.path', of='top.path')}"
            f" CROSS JOIN LATERAL (SELECT {columns} FROM customers c WHERE {' AND '.join(where)}"
            f" {order} LIMIT {n}) c"
            f" WHERE top.tenant = $1 AND top.id = {top} {order} LIMIT {n}"
        )
    async with scope.tx() as tx:
        masks = await masks_for(tx, scope)  # what the pools hide from this member, masked
        shown = ", ".join(masks.column(p, name) for name in ("phone", "address", "tax_id"))
        rows = await tx.fetch(sql.replace("{shown}", shown), *p.values)
        if not rows and territory_id is not None:
            try:
                await fetch_territory(tx, scope, territory_id)
            except NotFound:
                raise ValidationFailed.field("territory_id", "No territory with this id") from None
    items = to_structs(PoolItem, rows[:limit])
    more = len(rows) > limit
    last = items[-1] if items else None
    next_cursor = (
        encode_cursor(last.last_followup_at.isoformat() if last.last_followup_at else "", last.id)
        if more and last
        else None
    )
    return Page(items=items, next_cursor=next_cursor)
