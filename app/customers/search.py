"""Listing and searching customers.

Name search works on core PostgreSQL (no pg_trgm): ``search_text`` (NFKC, lowercased, no
whitespace) has a GIN index on ``acre_search_grams(tenant, search_text)`` — its character bigrams,
tenant-prefixed. A query of two or more characters asks for rows holding all its bigrams (``@>``)
and rechecks with ``LIKE``; a one-character query is a plain ``LIKE`` within the tenant. Phone
numbers match by digit prefix and tax ids exactly, both on btree indexes of normalised columns.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from app import credit_code
from app.customers import identity
from app.customers.masking import masks_for
from app.customers.schemas import CustomerRead
from app.customers.service import CUSTOMER_NAMES
from app.db import Tx
from app.errors import ValidationFailed
from app.pagination import Page, check_limit, decode_cursor, decode_time_id_cursor, encode_cursor
from app.rows import to_structs
from app.sql import Params
from tenants.access import customer_access, in_subtree_sql
from tenants.scope import TenantScope

GRADES = ("A", "B", "C", "D")
STATUSES = ("prospect", "won", "lost", "closed")
SORTS = ("newest", "next_followup")
_PHONE_QUERY = re.compile(r"^[\d\s+()\-]+$")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(p: Params, q: str) -> str | None:
    """Name substring (bigram GIN index + LIKE recheck), phone prefix and exact tax id; ORed.
    ``$1`` must be the tenant id. ``None`` when ``q`` has nothing to search for."""
    term = identity.search_query(q)
    if not term:
        return None
    like = p("%" + _like_escape(term) + "%")
    if len(term) >= 2:
        conditions = [
            f"(acre_search_grams(c.tenant, c.search_text) @> acre_search_grams($1, {p(term)})"
            f" AND c.search_text LIKE {like})"
        ]
    else:
        conditions = [f"c.search_text LIKE {like}"]
    digits = identity.phone_digits(q)
    if digits and len(digits) >= 3 and _PHONE_QUERY.match(q.strip()):
        conditions.append(f"(c.phone_digits >= {p(digits)} AND c.phone_digits < {p(digits + ':')})")
    tax_id = credit_code.normalize(q)
    if credit_code.is_well_formed(tax_id):
        conditions.append(f"c.tax_id = {p(tax_id)}")
    return "(" + " OR ".join(conditions) + ")"


async def list_customers(
    scope: TenantScope,
    *,
    territory_id: UUID | None = None,
    grade: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    source: str | None = None,
    followup_before: datetime | None = None,
    cross_territory: bool | None = None,
    sort: str = "newest",
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CustomerRead]:
    """Visible customers, newest first (``sort="next_followup"``: the soonest next follow-up first,
    those with none last). ``territory_id`` takes its whole subtree; ``owner`` is a membership id,
    ``me`` or ``none`` (the pool); ``followup_before`` includes customers never followed up;
    ``cross_territory`` true: only those whose credit code points to another territory (跨区)."""
    check_limit(limit)
    check_filters(grade=grade, status=status)
    if sort not in SORTS:
        raise ValidationFailed.field("sort", "Use newest or next_followup")
    by_next = sort == "next_followup"
    after = _decode_next_cursor(cursor) if by_next else decode_time_id_cursor(cursor)
    p = Params(scope.tenant_id)
    # newest first in a subtree: the newest of each of its territories (their index's order, each
    # scan stopping at a page of matches), then the newest of those — not every match of a large
    # subtree read and sorted for one page. A search or one owner's customers are few: their own
    # indexes find them better.
    per_territory = (
        territory_id is not None
        and not by_next
        and q is None
        and owner in (None, "none")
        and not cross_territory
    )
    async with scope.tx() as tx:
        where = await list_conditions(
            tx,
            scope,
            p,
            territory_id=None if per_territory else territory_id,
            grade=grade,
            status=status,
            owner=owner,
            q=q,
            source=source,
            followup_before=followup_before,
            cross_territory=cross_territory,
        )
        if by_next:
            order = "c.next_followup_at IS NULL, c.next_followup_at, c.id"
            if after is not None and after[0] is None:
                where.append(f"(c.next_followup_at IS NULL AND c.id > {p(after[1])})")
            elif after is not None:
                at, key = p(after[0]), p(after[1])
                where.append(f"(c.next_followup_at IS NULL OR (c.next_followup_at, c.id) > ({at}, {key}))")
        else:
            order = "c.created_at DESC, c.id DESC"
            if after:
                where.append(f"(c.created_at, c.id) < ({p(after[0])}, {p(after[1])})")
        rows_limit = p(limit + 1)
        if per_territory:
            where.append("c.territory_id = s.id")
        found = f"SELECT c.* FROM customers c WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {rows_limit}"
        if per_territory and territory_id is not None:
            found = (
                f"SELECT c.* FROM ({subtree_ids(p, territory_id)}) s CROSS JOIN LATERAL ({found}) c"
                f" ORDER BY {order} LIMIT {rows_limit}"
            )
        # the page of rows first, then their names: joining every match before the sort and limit
        # costs three index probes a match (tens of thousands in a large subtree) for 50 rows shown
        shown = (await masks_for(tx, scope)).customer_columns(p)  # what its pool hides, masked
        rows = await tx.fetch(
            f"SELECT {shown}, t.name AS territory_name, u.name AS owner_name"
            f" FROM ({found}) c{CUSTOMER_NAMES} ORDER BY {order}",
            *p.values,
        )
    items = to_structs(CustomerRead, rows[:limit])
    if len(rows) <= limit:
        return Page(items=items)
    last = items[-1]
    if by_next:
        return Page(items=items, next_cursor=encode_cursor(last.next_followup_at or "", last.id))
    return Page(items=items, next_cursor=encode_cursor(last.created_at, last.id))


def _decode_next_cursor(cursor: str | None) -> tuple[datetime | None, UUID] | None:
    """A ``next_followup`` cursor: (the last row's next follow-up or ``""`` for none, its id)."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return (datetime.fromisoformat(values[0]) if values[0] else None), UUID(values[1])
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None


def check_filters(*, grade: str | None, status: str | None) -> None:
    if grade is not None and grade not in GRADES:
        raise ValidationFailed.field("grade", "Use A, B, C or D")
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", "Unknown status")


async def list_conditions(
    tx: Tx,
    scope: TenantScope,
    p: Params,
    *,
    territory_id: UUID | None = None,
    grade: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    q: str | None = None,
    source: str | None = None,
    followup_before: datetime | None = None,
    cross_territory: bool | None = None,
) -> list[str]:
    """The WHERE conditions of the customer list (also used by the export): the tenant (``$1``),
    what the member may see, and the filters. ``check_filters`` first."""
    access = await customer_access(tx, scope)
    where = ["c.tenant = $1", access.visible_sql(p)]
    if territory_id is not None:
        where.append(f"c.territory_id IN ({subtree_ids(p, territory_id)})")
    if grade is not None:
        where.append(f"c.grade = {p(grade)}")
    if status is not None:
        where.append(f"c.status = {p(status)}")
    if owner is not None:
        where.append(_owner_condition(p, scope, owner))
    if q is not None and (found := search_condition(p, q)) is not None:
        where.append(found)
    if source is not None:
        where.append(f"c.source = {p(source)}")
    if followup_before is not None:
        where.append(f"(c.last_followup_at IS NULL OR c.last_followup_at < {p(followup_before)})")
    if cross_territory is not None:
        where.append("c.cross_territory" if cross_territory else "NOT c.cross_territory")
    return where


def subtree_ids(p: Params, territory_id: UUID) -> str:
    """A query of the ids of ``territory_id`` and every territory under it (``$1``: the tenant)."""
    return (
        "SELECT s.id FROM territories r JOIN territories s ON s.tenant = r.tenant"
        f" AND {in_subtree_sql('s.path', of='r.path')} WHERE r.tenant = $1 AND r.id = {p(territory_id)}"
    )


def _owner_condition(p: Params, scope: TenantScope, owner: str) -> str:
    if owner == "none":
        return "c.owner_membership_id IS NULL"
    if owner == "me":
        return f"c.owner_membership_id = {p(scope.membership_id)}"
    try:
        return f"c.owner_membership_id = {p(UUID(owner))}"
    except ValueError:
        raise ValidationFailed.field("owner", "Use a member id, me or none") from None
