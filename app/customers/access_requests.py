"""Cross-territory requests (跨区申请): a member asks to work a customer, or a territory with its
subtree, outside their own — with a reason and until when — and the managers of the target
territory decide. An approval makes the grant through ``grants.insert_grant`` (the same rules as a
grant a manager gives unasked: they must manage it, the requester must still be active, at most a
year), in the same transaction; the requester is told either way.

Who asks: any member. What they may name: a territory (the tree is everyone's to read), a customer
they can see or whose pool they work, or the customer one of their own duplicate entries (撞单)
collided with (the 409 of the entry gives its ``conflict_id``, not the customer's id). Anything else —
and any id of another tenant — is 404. A target they already work (their territory, a live grant)
is 409, as is a second pending request for the same target.

Who decides: a manager of the target territory (at or above it), or an owner/admin; not the
requester themself (403), a rep never (their own request: 403; anyone else's is invisible: 404);
a decided request is 409. The target territory of a customer is where the customer is now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from app import audit
from app.customers import grants
from app.customers.pool.schemas import AccessDecision, AccessRequestCreate, AccessRequestRead, GrantCreate
from app.customers.pool.service import load_claimable
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.notifications.service import Notice, notify
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.territories.service import fetch_territory
from tenants.access import customer_access, managed_territory_ids, territory_managers
from tenants.scope import TenantScope

STATUSES = ("pending", "approved", "rejected")
_SELECT = """
SELECT r.id, r.membership_id, u.name AS member_name, r.customer_id, c.full_name AS customer_name,
    c.grade AS customer_grade, c.status AS customer_status, ou.name AS customer_owner_name,
    r.territory_id, t.id AS target_territory_id, t.name AS target_territory_name,
    coalesce((SELECT array_agg(mt.name ORDER BY mt.name) FROM territory_members tm
        JOIN territories mt ON mt.tenant = tm.tenant AND mt.id = tm.territory_id
        WHERE tm.tenant = r.tenant AND tm.membership_id = r.membership_id), '{}') AS member_territories,
    r.reason, r.until, r.status, r.comment, r.decided_by, du.name AS decider_name, r.decided_at,
    r.grant_id, r.created_at
FROM cross_territory_requests r
LEFT JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id
JOIN territories t ON t.tenant = r.tenant AND t.id = coalesce(r.territory_id, c.territory_id)
LEFT JOIN memberships m ON m.tenant = r.tenant AND m.id = r.membership_id
LEFT JOIN users u ON u.id = m.user_id
LEFT JOIN memberships om ON om.tenant = c.tenant AND om.id = c.owner_membership_id
LEFT JOIN users ou ON ou.id = om.user_id
LEFT JOIN memberships dm ON dm.tenant = r.tenant AND dm.id = r.decided_by
LEFT JOIN users du ON du.id = dm.user_id
"""


def _check_until(until: datetime) -> None:
    now = datetime.now(UTC)
    if until <= now:
        raise ValidationFailed.field("until", "Must be in the future")
    if until > now + grants.MAX_GRANT:
        raise ValidationFailed.field("until", "At most one year ahead")


async def _customer_of_conflict(tx: Tx, scope: TenantScope, conflict_id: UUID) -> UUID:
    customer_id: UUID | None = await tx.fetchval(
        "SELECT customer_id FROM customer_conflicts WHERE tenant = $1 AND id = $2 AND attempted_by = $3",
        scope.tenant_id,
        conflict_id,
        scope.membership_id,
    )
    if customer_id is None:
        raise NotFound("No duplicate entry of yours with this id")
    return customer_id


async def _target(tx: Tx, scope: TenantScope, data: AccessRequestCreate) -> tuple[UUID | None, UUID | None]:
    """(customer id, territory id) asked for, after the 404s and the 409 for what the member works."""
    access = await customer_access(tx, scope)
    if data.territory_id is not None:
        await fetch_territory(tx, scope, data.territory_id)
        if access.everything:
            raise Conflict("Owners and admins work every territory", extra={"rule": "already_works"})
        if data.territory_id in access.worked or data.territory_id in access.managed:
            raise Conflict("You already work this territory", extra={"rule": "already_works"})
        return None, data.territory_id
    if data.conflict_id is not None:
        customer_id = await _customer_of_conflict(tx, scope, data.conflict_id)
    else:
        assert data.customer_id is not None
        customer_id = data.customer_id
        await load_claimable(tx, scope, customer_id)  # 404 unless seen, or in a pool they work
    row = await tx.fetchrow(
        "SELECT territory_id, owner_membership_id FROM customers WHERE tenant = $1 AND id = $2",
        scope.tenant_id,
        customer_id,
    )
    if row is None:
        raise NotFound("No customer with this id")
    if access.everything:
        raise Conflict("Owners and admins work every territory", extra={"rule": "already_works"})
    if (
        row["territory_id"] in access.worked
        or row["territory_id"] in access.managed
        or customer_id in access.granted
        or row["owner_membership_id"] == scope.membership_id
    ):
        raise Conflict("You already work this customer", extra={"rule": "already_works"})
    return customer_id, None


async def create_request(scope: TenantScope, data: AccessRequestCreate) -> AccessRequestRead:
    """422 for a wrong body (one target, a reason, a future date at most a year ahead), then 404 /
    409 as the module says; the target territory's managers are told."""
    if sum(x is not None for x in (data.customer_id, data.territory_id, data.conflict_id)) != 1:
        raise ValidationFailed.field("customer_id", "Give a customer, a territory or a duplicate entry")
    reason = data.reason.strip()
    if not reason:
        raise ValidationFailed.field("reason", "Required")
    _check_until(data.until)
    if scope.membership_id is None:
        raise Forbidden("Only a member can ask to work another territory")
    async with scope.tx() as tx:
        customer_id, territory_id = await _target(tx, scope, data)
        try:
            async with tx.connection.transaction():  # a savepoint: the one-pending index decides races
                request_id: UUID = await tx.fetchval(
                    "INSERT INTO cross_territory_requests (tenant, membership_id, customer_id, territory_id,"
                    " reason, until) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    scope.tenant_id,
                    scope.membership_id,
                    customer_id,
                    territory_id,
                    reason,
                    data.until,
                )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                "You already asked for this; it waits for a manager's decision", extra={"rule": "pending"}
            ) from None
        await audit.record(
            tx,
            scope.user_id,
            "cross_territory_request.created",
            "cross_territory_request",
            request_id,
            reason=reason,
            data={"customer_id": customer_id, "territory_id": territory_id, "until": data.until},
        )
        read = await _read(tx, scope, request_id)
        people = await territory_managers(
            tx, scope.tenant_id, read.target_territory_id, besides=scope.membership_id
        )
        await notify(
            tx,
            [
                Notice(
                    p["membership_id"],
                    "cross_territory_requested",
                    f"cross_territory_request:{request_id}:{p['membership_id']}",
                    "cross_territory_request",
                    request_id,
                    {"member": read.member_name or scope.email or "", "target": _target_name(read)},
                )
                for p in people
            ],
        )
        return read


def _target_name(read: AccessRequestRead) -> str:
    return read.customer_name or read.target_territory_name


async def _read(tx: Tx, scope: TenantScope, request_id: UUID) -> AccessRequestRead:
    row = await tx.fetchrow(_SELECT + " WHERE r.tenant = $1 AND r.id = $2", scope.tenant_id, request_id)
    if row is None:
        raise NotFound("No cross-territory request with this id")
    return to_struct(AccessRequestRead, row)


def _status(status: str | None) -> str | None:
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", "Use pending, approved or rejected")
    return status


async def _page(
    tx: Tx, where: str, args: list[Any], *, limit: int, cursor: str | None
) -> Page[AccessRequestRead]:
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    n = len(args)
    rows = await tx.fetch(
        _SELECT + f" WHERE {where}"
        f" AND (${n + 1}::timestamptz IS NULL OR (r.created_at, r.id) < (${n + 1}, ${n + 2}::uuid))"
        f" ORDER BY r.created_at DESC, r.id DESC LIMIT ${n + 3}",
        *args,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    items = to_structs(AccessRequestRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def list_mine(
    scope: TenantScope, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[AccessRequestRead]:
    """The acting member's own requests, newest first (by ``status`` if given)."""
    status = _status(status)
    async with scope.tx() as tx:
        return await _page(
            tx,
            "r.tenant = $1 AND r.membership_id = $2 AND ($3::text IS NULL OR r.status = $3)",
            [scope.tenant_id, scope.membership_id, status],
            limit=limit,
            cursor=cursor,
        )


async def list_to_decide(
    scope: TenantScope, *, status: str | None = "pending", limit: int = 50, cursor: str | None = None
) -> Page[AccessRequestRead]:
    """Requests for the territories the caller manages (owner/admin: all), others' only, newest
    first; ``pending`` unless another ``status`` is asked (``None``: every status). A rep: 403."""
    scope.require("manager")
    status = _status(status)
    async with scope.tx() as tx:
        managed = None if scope.at_least("admin") else await managed_territory_ids(tx, scope)
        return await _page(
            tx,
            "r.tenant = $1 AND ($2::uuid[] IS NULL OR t.id = ANY($2::uuid[]))"
            " AND r.membership_id IS DISTINCT FROM $3 AND ($4::text IS NULL OR r.status = $4)",
            [scope.tenant_id, managed, scope.membership_id, status],
            limit=limit,
            cursor=cursor,
        )


async def _visible(tx: Tx, scope: TenantScope, read: AccessRequestRead) -> tuple[bool, bool]:
    """(may see it, may decide it)."""
    mine = read.membership_id == scope.membership_id
    if scope.at_least("admin"):
        return True, not mine
    manages = scope.at_least("manager") and read.target_territory_id in await managed_territory_ids(tx, scope)
    return mine or manages, manages and not mine


async def get_request(scope: TenantScope, request_id: UUID) -> AccessRequestRead:
    """One request: its requester, or who may decide it; else 404."""
    async with scope.tx() as tx:
        read = await _read(tx, scope, request_id)
        if not (await _visible(tx, scope, read))[0]:
            raise NotFound("No cross-territory request with this id")
        return read


async def decide(
    scope: TenantScope, request_id: UUID, approve: bool, decision: AccessDecision
) -> AccessRequestRead:
    """Approve (the grant is made, until the date asked) or reject, with a comment for the requester."""
    comment = (decision.comment or "").strip() or None
    async with scope.tx() as tx:
        locked = await tx.fetchval(
            "SELECT status FROM cross_territory_requests WHERE tenant = $1 AND id = $2 FOR UPDATE",
            scope.tenant_id,
            request_id,
        )
        if locked is None:
            raise NotFound("No cross-territory request with this id")
        read = await _read(tx, scope, request_id)
        sees, decides = await _visible(tx, scope, read)
        if not sees:
            raise NotFound("No cross-territory request with this id")
        if not decides:
            raise Forbidden("Only a manager of the territory asked for can decide this request")
        if read.status != "pending":
            raise Conflict("This request was decided already", extra={"status": read.status})
        grant_id = None
        if approve:
            if read.until <= datetime.now(UTC):
                raise Conflict("The period asked for has ended; reject it and ask again")
            grant = await grants.insert_grant(
                tx,
                scope,
                GrantCreate(
                    membership_id=read.membership_id,
                    until=read.until,
                    customer_id=read.customer_id,
                    territory_id=read.territory_id,
                    reason=read.reason,
                ),
            )
            grant_id = grant.id
        await tx.execute(
            "UPDATE cross_territory_requests SET status = $3, comment = $4, decided_by = $5,"
            " decided_at = now(), grant_id = $6 WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            request_id,
            "approved" if approve else "rejected",
            comment,
            scope.membership_id,
            grant_id,
        )
        await audit.record(
            tx,
            scope.user_id,
            "cross_territory_request.approved" if approve else "cross_territory_request.rejected",
            "cross_territory_request",
            request_id,
            reason=comment,
            data={"grant_id": grant_id},
        )
        await notify(
            tx,
            [
                Notice(
                    read.membership_id,
                    "cross_territory_approved" if approve else "cross_territory_rejected",
                    f"cross_territory_decided:{request_id}",
                    "cross_territory_request",
                    request_id,
                    {
                        "target": _target_name(read),
                        "until": read.until.astimezone(ZoneInfo(scope.time_zone)).date().isoformat(),
                        "comment": comment or "",
                    },
                )
            ],
        )
        return await _read(tx, scope, request_id)


async def worked_territories(scope: TenantScope) -> frozenset[UUID] | None:
    """The territories whose pools the member works (their own, managed, or granted); ``None``: all
    (owner/admin). The pool page and the request form use it to offer a request where it helps."""
    if scope.at_least("admin"):
        return None
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
    return access.worked | access.managed


async def decidable(scope: TenantScope, read: AccessRequestRead) -> bool:
    """Whether the caller may decide ``read`` now (pending, theirs to decide)."""
    if read.status != "pending":
        return False
    async with scope.tx() as tx:
        return (await _visible(tx, scope, read))[1]
