"""Envelopes for the tenant's members: create (draft), send, void, list, get, evidence.

Signing links: ``<tenant id hex>.<32 random bytes, urlsafe>`` (256 bits of randomness); the tenant
part lets the public page open an RLS-scoped transaction before the lookup; only the sha256 is stored
(``envelope_links``), one row per emailed link, bound to one signer and valid while the envelope is
out (status ``sent`` and not past ``expires_at``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from app import db, i18n, mail, pages
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.outbound.events import emit, envelope_event
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.signing import evidence, pdfwork
from app.signing.schemas import (
    CcCreate,
    EnvelopeCreate,
    EnvelopeRead,
    EventRead,
    EvidenceRead,
    SignerRead,
)
from app.sql import Params
from app.storage import Storage
from tenants.access import customer_access, document_visible_sql, envelope_visible_sql
from tenants.scope import TenantScope

ENDED = ("completed", "declined", "expired", "voided")
M_DOCUMENT_VOIDED = N_("Another contract for the same deal was signed; this one no longer applies")
M_NOT_OUT = N_("Only an envelope out for signature can be reminded")
M_REMINDED_RECENTLY = N_("A reminder went out less than an hour ago; try again later")
REMIND_GAP = timedelta(hours=1)  # between two reminders (sent by hand or by the daily cron)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(token: str) -> str:
    link = pages.url(pages.SIGN, token=token)
    assert link is not None  # the signing page is always served
    return link


async def new_link(tx: db.Tx, envelope_id: UUID, signer_id: UUID) -> str:
    """Mint one signing link for the signer; returns the token (shown once, in the email)."""
    assert tx.tenant_id is not None
    token = f"{tx.tenant_id.hex}.{secrets.token_urlsafe(32)}"
    await tx.execute(
        "INSERT INTO envelope_links (tenant, token_hash, envelope_id, signer_id) VALUES ($1, $2, $3, $4)",
        tx.tenant_id,
        token_hash(token),
        envelope_id,
        signer_id,
    )
    return token


def fmt_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


async def _tenant_name(tx: db.Tx) -> str:
    return str(await tx.fetchval("SELECT name FROM tenants WHERE id = $1", tx.tenant_id) or "Acre")


async def email_signer(
    tx: db.Tx,
    env: asyncpg.Record,
    signer: asyncpg.Record,
    template: str,
    key: str,
    attachment: mail.Attachment | None = None,
    **extra: Any,
) -> None:
    """Queue ``template`` to one signer with a fresh link (idempotent per ``key``)."""
    token = await new_link(tx, env["id"], signer["id"])
    await mail.queue_email(
        tx,
        attachment,
        to=signer["email"],
        template=template,
        locale=signer["locale"],
        key=key,
        link=link_url(token),
        signer=signer["name"],
        sender=env["sender_name"] or env["sender_email"] or "",
        company=await _tenant_name(tx),
        title=env["title"],
        message=env["message"] or "",
        expires=fmt_time(env["expires_at"]),
        **extra,
    )


async def notify_turn(tx: db.Tx, env: asyncpg.Record) -> int:
    """Email every signer whose turn it is and who has not been asked yet; returns how many.
    Sequential: only the first signer who has not signed; parallel: everyone still pending."""
    signers = await tx.fetch(
        "SELECT * FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2 ORDER BY position",
        tx.tenant_id,
        env["id"],
    )
    due = [s for s in signers if s["status"] == "pending"]
    if env["signing_order"] == "sequential":
        first_open = next((s for s in signers if s["status"] != "signed"), None)
        due = [first_open] if first_open is not None and first_open["status"] == "pending" else []
    for signer in due:
        await tx.execute(
            "UPDATE envelope_signers SET status = 'sent', notified_at = now() WHERE tenant = $1 AND id = $2",
            tx.tenant_id,
            signer["id"],
        )
        await email_signer(tx, env, signer, "signing_request", f"envelope:{env['id']}:ask:{signer['id']}")
        await evidence.append_event(
            tx, env["id"], "sent", signer_id=signer["id"], data={"to": signer["email"]}
        )
    return len(due)


async def _check_customer(tx: db.Tx, scope: TenantScope, customer_id: UUID) -> None:
    """422 on ``customer_id`` unless the member sees that customer (another tenant's id included)."""
    access = await customer_access(tx, scope)
    p = Params(scope.tenant_id, customer_id)
    found = await tx.fetchval(
        f"SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}", *p.values
    )
    if found is None:
        raise ValidationFailed.field("customer_id", "No customer you work with has this id")


async def create_envelope(scope: TenantScope, data: EnvelopeCreate) -> EnvelopeRead:
    emails = [s.email.lower() for s in data.signers]
    if len(set(emails)) != len(emails):
        raise ValidationFailed.field("signers", "Each signer needs a different email address")
    async with scope.tx() as tx:
        p = Params(scope.tenant_id, data.document_id)
        visible = await document_visible_sql(tx, scope, p)
        doc = await tx.fetchrow(
            f"SELECT * FROM documents d WHERE tenant = $1 AND id = $2 AND {visible}", *p.values
        )
        if doc is None:
            raise NotFound("This document does not exist")
        if doc["status"] != "ready" or not doc["pdf_key"]:
            raise Conflict("Only a ready document with a PDF can be sent for signature")
        customer_id = data.customer_id
        if customer_id is not None:
            await _check_customer(tx, scope, customer_id)
        elif doc["subject_type"] == "customer":
            try:
                customer_id = UUID(doc["subject_id"])
            except ValueError:
                customer_id = None
        title = data.title or f"{doc['kind']} {str(doc['id'])[:8]}"
        env_id: UUID = await tx.fetchval(
            "INSERT INTO envelopes (tenant, document_id, customer_id, subject_type, subject_id, title,"
            " message, signing_order, cc, created_by, sender_email, sender_name, sender_locale, expiry_days,"
            " reminder_interval_days, reminder_max, original_sha256, original_key)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10,$11,$12,$13,$14,$15,$16,$17,$18) RETURNING id",
            scope.tenant_id,
            doc["id"],
            customer_id,
            doc["subject_type"],
            doc["subject_id"],
            title,
            data.message,
            data.signing_order,
            json.dumps([{"name": c.name, "email": c.email, "locale": c.locale} for c in data.cc]),
            scope.membership_id,
            scope.email,
            scope.name,
            scope.locale,
            data.expiry_days,
            data.reminder_interval_days,
            data.reminder_max,
            doc["pdf_sha256"],
            doc["pdf_key"],
        )
        defaults = ["party_a", "party_b"] if doc["kind"] == "contract" else []
        for i, signer in enumerate(data.signers):
            anchor = signer.anchor or (defaults[i] if i < len(defaults) else None)
            await tx.execute(
                "INSERT INTO envelope_signers (tenant, envelope_id, position, name, email, locale, anchor)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                scope.tenant_id,
                env_id,
                i + 1,
                signer.name,
                signer.email,
                signer.locale,
                anchor,
            )
        await evidence.append_event(
            tx,
            env_id,
            "created",
            actor=scope.membership_id,
            data={"document": str(doc["id"]), "original_sha256": doc["pdf_sha256"]},
        )
        return await read_envelope(tx, scope, env_id, None)


async def _locked(tx: db.Tx, scope: TenantScope, envelope_id: UUID) -> asyncpg.Record:
    p = Params(tx.tenant_id, envelope_id)
    env = await tx.fetchrow(
        "SELECT * FROM envelopes e WHERE e.tenant = $1 AND e.id = $2"
        f" AND {envelope_visible_sql(scope, p)} FOR UPDATE",
        *p.values,
    )
    if env is None:
        raise NotFound("This envelope does not exist")
    return env


async def send_envelope(scope: TenantScope, envelope_id: UUID) -> EnvelopeRead:
    """draft → sent: starts the expiry clock and emails the first signer(s). Sending twice is a 409."""
    async with scope.tx() as tx:
        env = await _locked(tx, scope, envelope_id)
        if env["status"] != "draft":
            raise Conflict("Only a draft envelope can be sent")
        env = await tx.fetchrow(
            "UPDATE envelopes SET status = 'sent', sent_at = now(),"
            " expires_at = now() + make_interval(days => expiry_days)"
            " WHERE tenant = $1 AND id = $2 RETURNING *",
            scope.tenant_id,
            envelope_id,
        )
        assert env is not None
        await evidence.append_event(
            tx,
            envelope_id,
            "sent",
            actor=scope.membership_id,
            data={"expires_at": fmt_time(env["expires_at"])},
        )
        await emit(tx, "envelope.sent", [envelope_event(env)])
        await notify_turn(tx, env)
        return await read_envelope(tx, scope, envelope_id, None)


async def _void(tx: db.Tx, envelope_id: UUID, reason: str, actor: UUID | None) -> None:
    env = await tx.fetchrow(
        "UPDATE envelopes SET status = 'voided', void_reason = $3, ended_at = now()"
        " WHERE tenant = $1 AND id = $2 RETURNING *",
        tx.tenant_id,
        envelope_id,
        reason,
    )
    assert env is not None
    await evidence.append_event(tx, envelope_id, "voided", actor=actor, data={"reason": reason})
    await tell_signers(tx, env, "signing_voided", reason=reason)


async def void_envelope(scope: TenantScope, envelope_id: UUID, reason: str) -> EnvelopeRead:
    """draft|sent → voided; every signer who was emailed a link is told (their links stop working)."""
    async with scope.tx() as tx:
        env = await _locked(tx, scope, envelope_id)
        if env["status"] not in ("draft", "sent"):
            raise Conflict("This envelope has ended and cannot be voided")
        await _void(tx, envelope_id, reason, scope.membership_id)
        return await read_envelope(tx, scope, envelope_id, None)


async def remind_envelope(scope: TenantScope, envelope_id: UUID) -> EnvelopeRead:
    """Remind now: every signer whose turn it is (asked, not yet signed) gets the reminder with a fresh
    link, and the trail records it. A reminder by hand does not use up the automatic ones
    (``reminder_max``) but restarts their interval; at most one an hour (409 otherwise)."""
    async with scope.tx() as tx:
        env = await _locked(tx, scope, envelope_id)
        if env["status"] != "sent":
            raise Conflict(M_NOT_OUT)
        now = datetime.now(UTC)
        if env["last_reminded_at"] is not None and env["last_reminded_at"] > now - REMIND_GAP:
            raise Conflict(M_REMINDED_RECENTLY)
        waiting = await tx.fetch(
            "SELECT * FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2"
            " AND status IN ('sent', 'viewed') ORDER BY position",
            scope.tenant_id,
            envelope_id,
        )
        for signer in waiting:
            await email_signer(
                tx,
                env,
                signer,
                "signing_reminder",
                f"envelope:{envelope_id}:remind-now:{now.isoformat()}:{signer['id']}",
            )
            await evidence.append_event(
                tx,
                envelope_id,
                "reminded",
                signer_id=signer["id"],
                actor=scope.membership_id,
                data={"by_hand": True},
            )
        await tx.execute(
            "UPDATE envelopes SET last_reminded_at = $3 WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            envelope_id,
            now,
        )
        return await read_envelope(tx, scope, envelope_id, None)


async def void_for_voided_documents(tx: db.Tx, locale: str) -> list[UUID]:
    """Void the open (draft or sent) envelopes whose document was voided — a contract superseded when
    another contract of its deal was signed (by the signed hook, in this transaction); their signers
    are told why, in ``locale``. Returns the envelopes voided."""
    rows = await tx.fetch(
        "SELECT e.id FROM envelopes e JOIN documents d ON d.tenant = e.tenant AND d.id = e.document_id"
        " WHERE e.tenant = $1 AND e.status IN ('draft', 'sent') AND d.status = 'voided'"
        " ORDER BY e.id FOR UPDATE OF e",
        tx.tenant_id,
    )
    reason = i18n.translate(locale, M_DOCUMENT_VOIDED)
    for row in rows:
        await _void(tx, row["id"], reason, None)
    return [r["id"] for r in rows]


async def tell_signers(tx: db.Tx, env: asyncpg.Record, template: str, **extra: Any) -> None:
    """Email ``template`` to every signer who had been asked to sign (status beyond pending)."""
    signers = await tx.fetch(
        "SELECT * FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2 AND"
        " status NOT IN ('pending', 'declined') ORDER BY position",
        tx.tenant_id,
        env["id"],
    )
    for signer in signers:
        await mail.queue_email(
            tx,
            to=signer["email"],
            template=template,
            locale=signer["locale"],
            key=f"envelope:{env['id']}:{template}:{signer['id']}",
            signer=signer["name"],
            title=env["title"],
            sender=env["sender_name"] or env["sender_email"] or "",
            company=await _tenant_name(tx),
            **extra,
        )


async def read_envelope(
    tx: db.Tx, scope: TenantScope, envelope_id: UUID, storage: Storage | None
) -> EnvelopeRead:
    """The envelope if the member sees it, else 404."""
    p = Params(tx.tenant_id, envelope_id)
    env = await tx.fetchrow(
        f"SELECT * FROM envelopes e WHERE e.tenant = $1 AND e.id = $2 AND {envelope_visible_sql(scope, p)}",
        *p.values,
    )
    if env is None:
        raise NotFound("This envelope does not exist")
    signers = await tx.fetch(
        "SELECT * FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2 ORDER BY position",
        tx.tenant_id,
        envelope_id,
    )
    url = None
    if storage is not None and env["sealed_key"]:
        url = await storage.presigned_get(env["sealed_key"], filename=f"{env['title']}.signed.pdf")
    return to_struct(
        EnvelopeRead,
        env,
        signers=to_structs(SignerRead, signers),
        cc=[CcCreate(**c) for c in json.loads(env["cc"])],
        original_sha256=env["original_sha256"].strip(),
        sealed_sha256=env["sealed_sha256"].strip() if env["sealed_sha256"] else None,
        signed_pdf_url=url,
    )


async def get_envelope(scope: TenantScope, storage: Storage, envelope_id: UUID) -> EnvelopeRead:
    async with scope.tx() as tx:
        return await read_envelope(tx, scope, envelope_id, storage)


async def list_envelopes(
    scope: TenantScope,
    status: str | None,
    limit: int,
    cursor: str | None,
    customer_id: UUID | None = None,
    *,
    created_by: UUID | None = None,
    document_id: UUID | None = None,
) -> Page[EnvelopeRead]:
    """Visible envelopes, newest first; ``status``, ``customer_id`` (the customer it is for),
    ``created_by`` (the member who made them: "mine") and ``document_id`` narrow."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        at, after_id = after if after else (None, None)
        p = Params(scope.tenant_id, status, at, after_id, limit + 1, customer_id, created_by, document_id)
        ids = await tx.fetch(
            "SELECT e.id, e.created_at FROM envelopes e WHERE e.tenant = $1"
            " AND ($2::text IS NULL OR e.status = $2)"
            " AND ($6::uuid IS NULL OR e.customer_id = $6)"
            " AND ($3::timestamptz IS NULL OR (e.created_at, e.id) < ($3, $4))"
            " AND ($7::uuid IS NULL OR e.created_by = $7) AND ($8::uuid IS NULL OR e.document_id = $8)"
            f" AND {envelope_visible_sql(scope, p)} ORDER BY e.created_at DESC, e.id DESC LIMIT $5",
            *p.values,
        )
        items = [await read_envelope(tx, scope, r["id"], None) for r in ids[:limit]]
    nxt = (
        encode_cursor(ids[limit - 1]["created_at"].isoformat(), ids[limit - 1]["id"])
        if len(ids) > limit
        else None
    )
    return Page(items=items, next_cursor=nxt)


async def certificate_pdf(scope: TenantScope, storage: Storage, envelope_id: UUID) -> tuple[bytes, str]:
    """The certificate of completion of a completed envelope as a PDF of its own, and a file name:
    the sealed PDF's pages after the signed document's (the sealed PDF is the record: this copy is for
    reading, and is kept in storage once made). 404 while there is none."""
    async with scope.tx() as tx:
        p = Params(tx.tenant_id, envelope_id)
        env = await tx.fetchrow(
            "SELECT id, title, original_key, sealed_key FROM envelopes e WHERE e.tenant = $1 AND e.id = $2"
            f" AND {envelope_visible_sql(scope, p)}",
            *p.values,
        )
    if env is None or not env["sealed_key"]:
        raise NotFound("This envelope has no certificate yet")
    key = f"signing/{scope.tenant_id}/{envelope_id}/certificate.pdf"
    try:
        pdf = await storage.get(key)
    except Exception:  # not made yet: cut it out of the sealed PDF
        sealed = await storage.get(env["sealed_key"])
        signed_pages = await asyncio.to_thread(pdfwork.page_count, await storage.get(env["original_key"]))
        pdf = await asyncio.to_thread(pdfwork.pages_from, sealed, signed_pages)
        await storage.put(key, pdf, "application/pdf")
    return pdf, f"{env['title']}.certificate.pdf"


async def get_evidence(scope: TenantScope, envelope_id: UUID) -> EvidenceRead:
    async with scope.tx() as tx:
        await read_envelope(tx, scope, envelope_id, None)  # 404 for another tenant's id
        check = await evidence.verify_chain(tx, envelope_id)
        rows = await tx.fetch(
            "SELECT * FROM envelope_events WHERE tenant = $1 AND envelope_id = $2 ORDER BY seq",
            scope.tenant_id,
            envelope_id,
        )
    return EvidenceRead(
        chain_ok=check.ok,
        first_broken_seq=check.first_broken_seq,
        events=to_structs(EventRead, rows),
    )
