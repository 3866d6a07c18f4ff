"""Rep statements (归属变更对账单): each member's ownership changes over a period — claims, releases,
reclaims, handovers in and out — as a PDF sealed with the tenant's seal (like a sealed contract), found
by ``/verify``, mailed to the member and kept for download. Commission disputes are settled from it.

- monthly: the hourly cron ``monthly_statements`` makes, on the 1st of the month in the tenant's time
  zone, one statement of the month before for every active rep and every member with changes in it
  (``UNIQUE (tenant, membership_id, period_start) WHERE kind = 'monthly'``: once per member and month
  however often the cron runs);
- on request (:func:`request_statement`): a member for themself, a manager or above for any member.

Each statement is a row (``pending``) and a job (``ownership_statement``) that gathers the entries
(``statement_pdf.gather``), builds the DOCX, converts it (LibreOffice, CJK font embedded), seals it,
stores it at a fixed key, indexes the seal (``seal_index.statement_id``) and mails it; idempotent (a
ready statement is left alone; the mail has an idempotency key). Who sees a statement: the member
themself, and managers and above."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from arq import Retry

from app import audit, db, mail, outbox, pages
from app.documents import convert
from app.documents.jobs import storage as default_storage
from app.errors import Conflict, NotFound, ValidationFailed
from app.localtime import zone
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_structs
from app.signing import seal, statement_pdf
from app.signing.schemas import StatementCreate, StatementRead
from app.storage import Storage
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)

MAX_PERIOD = timedelta(days=400)
_SELECT = (
    "SELECT s.*, (SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.tenant = s.tenant AND m.id = s.membership_id) AS member_name FROM ownership_statements s"
)


def _may_see_all(scope: TenantScope) -> bool:
    return scope.at_least("manager")


async def request_statement(scope: TenantScope, body: StatementCreate) -> StatementRead:
    """A statement of ``body.membership_id`` (default: the caller) for the period; 202-style: it is
    made by a job (``status`` pending → ready). 404 for a member not in this tenant; 403 for a rep
    asking for someone else's; 422 for a period that is empty, reversed or longer than 400 days."""
    member = body.membership_id or scope.membership_id
    if member is None:
        raise ValidationFailed.field("membership_id", "Choose a member")
    if member != scope.membership_id:
        scope.require("manager")
    start, end = body.period_start, body.period_end
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed.field("period_start", "Give times with their time zone")
    if end <= start:
        raise ValidationFailed.field("period_end", "The end must be after the start")
    if end - start > MAX_PERIOD:
        raise ValidationFailed.field("period_end", "A statement covers at most 400 days")
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "SELECT coalesce(u.locale, t.locale) AS locale FROM memberships m"
            " JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant"
            " WHERE m.tenant = $1 AND m.id = $2",
            scope.tenant_id,
            member,
        )
        if row is None:
            raise NotFound("No such member")
        statement_id = await tx.fetchval(
            "INSERT INTO ownership_statements (tenant, membership_id, period_start, period_end, kind, locale,"
            " requested_by) VALUES ($1, $2, $3, $4, 'requested', $5, $6) RETURNING id",
            scope.tenant_id,
            member,
            start,
            end,
            row["locale"],
            scope.membership_id,
        )
        await outbox.add_job(
            tx,
            "ownership_statement",
            str(scope.tenant_id),
            str(statement_id),
            key=f"statement:{statement_id}",
        )
        await audit.record(
            tx,
            scope.user_id,
            "statement.requested",
            "ownership_statement",
            statement_id,
            data={"membership_id": str(member), "start": start.isoformat(), "end": end.isoformat()},
        )
        got = await tx.fetch(_SELECT + " WHERE s.tenant = $1 AND s.id = $2", scope.tenant_id, statement_id)
    return to_structs(StatementRead, got)[0]


async def list_statements(
    scope: TenantScope, membership_id: UUID | None = None, *, limit: int = 50, cursor: str | None = None
) -> Page[StatementRead]:
    """Statements, newest first: a rep's own; a manager or above sees every member's (or one's, with
    ``membership_id``)."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    if not _may_see_all(scope):
        membership_id = scope.membership_id
    async with scope.tx() as tx:
        rows = await tx.fetch(
            _SELECT + " WHERE s.tenant = $1 AND ($2::uuid IS NULL OR s.membership_id = $2)"
            " AND ($3::timestamptz IS NULL OR (s.created_at, s.id) < ($3, $4))"
            " ORDER BY s.created_at DESC, s.id DESC LIMIT $5",
            scope.tenant_id,
            membership_id,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
    items = to_structs(StatementRead, rows[:limit])
    last = items[-1] if items else None
    return Page(
        items=items,
        next_cursor=encode_cursor(last.created_at.isoformat(), last.id)
        if last and len(rows) > limit
        else None,
    )


async def get_statement(scope: TenantScope, statement_id: UUID) -> StatementRead:
    """One statement; 404 when it is not this tenant's, or another member's and the caller is a rep."""
    async with scope.tx() as tx:
        row = await tx.fetchrow(_SELECT + " WHERE s.tenant = $1 AND s.id = $2", scope.tenant_id, statement_id)
    if row is None or (not _may_see_all(scope) and row["membership_id"] != scope.membership_id):
        raise NotFound("No such statement")
    return to_structs(StatementRead, [row])[0]


async def statement_file(scope: TenantScope, store: Storage, statement_id: UUID) -> tuple[bytes, str]:
    """The sealed PDF and its file name; 404 as :func:`get_statement`, 409 while it is being made."""
    got = await get_statement(scope, statement_id)
    async with scope.tx() as tx:
        key = await tx.fetchval(
            "SELECT sealed_key FROM ownership_statements WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            statement_id,
        )
    if key is None:
        raise Conflict("The statement is still being made")
    return await store.get(key), filename(got)


def filename(statement: StatementRead) -> str:
    return f"statement-{statement.period_start:%Y%m%d}-{statement.period_end:%Y%m%d}.pdf"


async def ownership_statement(ctx: dict[str, Any], tenant_id: str, statement_id: str) -> str:
    """ARQ job: make, seal, store, index and mail one statement. Returns "ready", or why it did nothing.
    Converter, storage or TSA trouble is retried with backoff (``Retry``)."""
    tenant, sid = UUID(tenant_id), UUID(statement_id)
    store: Storage = ctx.get("storage") or default_storage()
    scope = await TenantScope.for_job(tenant)
    async with db.transaction(tenant) as tx:
        row = await tx.fetchrow(
            "SELECT * FROM ownership_statements WHERE tenant = $1 AND id = $2", tenant, sid
        )
        if row is None:
            return "missing"
        if row["status"] == "ready":
            return "skipped-ready"
        facts = await statement_pdf.gather(
            tx, row["membership_id"], row["period_start"], row["period_end"], scope.time_zone
        )
        key = await seal.tenant_sealing_key(tx)
        member = await tx.fetchrow(
            "SELECT u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant = $1 AND m.id = $2",
            tenant,
            row["membership_id"],
        )
    issued = datetime.now(UTC)
    try:
        docx = statement_pdf.build_docx(
            facts,
            statement_id=sid,
            locale=row["locale"],
            start=row["period_start"],
            end=row["period_end"],
            issued_at=issued,
            verify_url=pages.url(pages.VERIFY) or "",
        )
        pdf, _method = await (ctx.get("converter") or convert.get_converter()).convert(docx)
        sealed = await asyncio.to_thread(seal.seal_pdf, pdf, key, reason=f"Acre ownership statement {sid}")
        check = await asyncio.to_thread(seal.check_seal, sealed, key.cert_pem)
        if not check.valid:
            raise RuntimeError("the fresh seal does not validate")
        sealed_key = f"statements/{tenant}/{sid}.pdf"
        await store.put(sealed_key, sealed, "application/pdf")
    except Exception as exc:
        tries = int(ctx.get("job_try") or 1)
        log.warning("statement failed", statement_id=statement_id, error=repr(exc), tries=tries)
        raise Retry(defer=min(30 * 2 ** (tries - 1), 900)) from exc
    sealed_sha = hashlib.sha256(sealed).hexdigest()
    anchor = facts.anchor
    async with db.transaction(tenant) as tx:
        done = await tx.fetchrow(
            "UPDATE ownership_statements SET status = 'ready', ready_at = now(), entries = $3,"
            " first_seq = $4, last_seq = $5, anchor_id = $6, anchor_seq = $7, sealed_key = $8,"
            " sealed_sha256 = $9"
            " WHERE tenant = $1 AND id = $2 AND status = 'pending' RETURNING *",
            tenant,
            sid,
            len(facts.entries),
            facts.first_seq,
            facts.last_seq,
            anchor["id"] if anchor else None,
            anchor["head_seq"] if anchor else None,
            sealed_key,
            sealed_sha,
        )
        if done is None:
            return "skipped-ready"
        await tx.execute(
            "INSERT INTO seal_index (message_digest, sealed_sha256, cert_sha256, tenant, statement_id)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            check.message_digest,
            sealed_sha,
            key.cert_sha256,
            tenant,
            sid,
        )
        if member is not None:
            attach = mail.Attachment(sealed_key, f"statement-{row['period_start']:%Y%m%d}.pdf")
            await mail.queue_email(
                tx,
                attach if mail.attachable(len(sealed)) else None,
                to=member["email"],
                template="ownership_statement",
                locale=row["locale"],
                key=f"statement:{sid}:mail",
                name=member["name"],
                company=facts.company,
                start=row["period_start"].astimezone(zone(scope.time_zone)).strftime("%Y-%m-%d"),
                end=(row["period_end"] - timedelta(seconds=1))
                .astimezone(zone(scope.time_zone))
                .strftime("%Y-%m-%d"),
                entries=len(facts.entries),
                link=pages.url(pages.STATEMENTS) or "",
            )
    return "ready"


def previous_month(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The calendar month before ``now``'s in ``time_zone``, as [start, end) instants."""
    local = now.astimezone(zone(time_zone))
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end


_MONTHLY = """
WITH members AS (
    SELECT m.id, coalesce(u.locale, t.locale) AS locale FROM memberships m
    JOIN users u ON u.id = m.user_id JOIN tenants t ON t.id = m.tenant
    WHERE m.tenant = $1 AND m.active AND (m.role = 'rep' OR EXISTS (
        SELECT 1 FROM customer_ownership_history h WHERE h.tenant = m.tenant
            AND (h.to_membership_id = m.id OR h.from_membership_id = m.id) AND h.at >= $2 AND h.at < $3))
)
INSERT INTO ownership_statements (tenant, membership_id, period_start, period_end, kind, locale)
SELECT $1, id, $2, $3, 'monthly', locale FROM members
ON CONFLICT (tenant, membership_id, period_start) WHERE kind = 'monthly' DO NOTHING
RETURNING id
"""


async def monthly_statements_for(scope: TenantScope, now: datetime) -> int:
    """On the 1st (local), the statements of the month before; returns how many were queued."""
    if now.astimezone(zone(scope.time_zone)).day != 1:
        return 0
    start, end = previous_month(now, scope.time_zone)
    async with scope.tx() as tx:
        ids = [r["id"] for r in await tx.fetch(_MONTHLY, scope.tenant_id, start, end)]
        await outbox.add_jobs(
            tx,
            "ownership_statement",
            [(f"statement:{i}", (str(scope.tenant_id), str(i))) for i in ids],
        )
    return len(ids)


async def monthly_statements(ctx: dict[str, Any]) -> int:
    """Cron (hourly, UTC): the monthly statements of every tenant whose local day is the 1st."""
    now = datetime.now(UTC)
    return await for_each_tenant("monthly_statements", lambda scope: monthly_statements_for(scope, now))
