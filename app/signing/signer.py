"""What a signer does through their link: view, sign (typed or drawn), decline.

Every form post carries the per-page nonce issued by the last view of the page (stored on the signer
row), besides the token itself. State is checked under the envelope's row lock, so a double submit
signs once; a link of an ended envelope, or of a signer who has already acted, answers a clear state
instead of an error.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from app import db, mail, outbox
from app.i18n import N_
from app.outbound.events import emit, envelope_event
from app.signing import consent, evidence
from app.signing.service import ENDED, _tenant_name, notify_turn, tell_signers, token_hash
from app.storage import Storage

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_DRAWING = 512 * 1024


@dataclass
class LinkState:
    state: str  # invalid | sign | signed | declined | voided | expired | completed
    tenant_id: UUID | None = None
    envelope: asyncpg.Record | None = None
    signer: asyncpg.Record | None = None
    company: str = ""


def link_tenant(token: str) -> UUID | None:
    head, _, secret = token.partition(".")
    if len(secret) < 40 or len(token) > 200:
        return None
    try:
        return UUID(hex=head)
    except ValueError:
        return None


def _state(env: asyncpg.Record, signer: asyncpg.Record) -> str:
    if env["status"] in ENDED:
        return str(env["status"])
    if signer["status"] in ("signed", "declined"):
        return str(signer["status"])
    if env["expires_at"] and env["expires_at"] <= datetime.now(UTC):  # before the expiry cron ran
        return "expired"
    return "sign"


async def _resolve(tx: db.Tx, token: str, lock: bool) -> LinkState:
    row = await tx.fetchrow(
        "SELECT envelope_id, signer_id FROM envelope_links WHERE tenant = $1 AND token_hash = $2",
        tx.tenant_id,
        token_hash(token),
    )
    if row is None:
        return LinkState("invalid")
    env = await tx.fetchrow(
        "SELECT * FROM envelopes WHERE tenant = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        tx.tenant_id,
        row["envelope_id"],
    )
    signer = await tx.fetchrow(
        "SELECT * FROM envelope_signers WHERE tenant = $1 AND id = $2", tx.tenant_id, row["signer_id"]
    )
    assert env is not None and signer is not None
    return LinkState(_state(env, signer), tx.tenant_id, env, signer, await _tenant_name(tx))


async def peek(token: str) -> LinkState:
    """The link's state without recording anything (page images, downloads)."""
    tenant = link_tenant(token)
    if tenant is None:
        return LinkState("invalid")
    async with db.transaction(tenant) as tx:
        return await _resolve(tx, token, lock=False)


async def view(token: str, ip: str | None, user_agent: str | None) -> tuple[LinkState, str | None]:
    """Open the signing page: records ``viewed`` and issues a fresh form nonce (None unless signable)."""
    tenant = link_tenant(token)
    if tenant is None:
        return LinkState("invalid"), None
    async with db.transaction(tenant) as tx:
        link = await _resolve(tx, token, lock=True)
        if link.state != "sign":
            return link, None
        assert link.signer is not None and link.envelope is not None
        nonce = secrets.token_urlsafe(24)
        signer = await tx.fetchrow(
            "UPDATE envelope_signers SET page_nonce = $3, status = CASE WHEN status = 'sent' THEN 'viewed'"
            " ELSE status END, viewed_at = coalesce(viewed_at, now())"
            " WHERE tenant = $1 AND id = $2 RETURNING *",
            tenant,
            link.signer["id"],
            nonce,
        )
        await evidence.append_event(
            tx, link.envelope["id"], "viewed", signer_id=link.signer["id"], ip=ip, user_agent=user_agent
        )
        link.signer = signer
        return link, nonce


def _nonce_ok(signer: asyncpg.Record, nonce: str) -> bool:
    stored = signer["page_nonce"] or ""
    return bool(stored) and hmac.compare_digest(stored.encode(), nonce.encode())


@dataclass
class Submission:
    nonce: str
    consent: bool
    kind: str  # typed | drawn
    typed_name: str = ""
    drawing: bytes = b""


async def sign(
    token: str, form: Submission, storage: Storage, ip: str | None, user_agent: str | None
) -> tuple[LinkState, str | None]:
    """Returns the link state after the attempt and an error message id (None = signed)."""
    tenant = link_tenant(token)
    if tenant is None:
        return LinkState("invalid"), None
    if form.kind == "drawn" and (not form.drawing.startswith(PNG_MAGIC) or len(form.drawing) > MAX_DRAWING):
        form_error: str | None = N_("Draw your signature in the box")
    elif form.kind == "typed" and not form.typed_name.strip():
        form_error = N_("Type your full name")
    elif form.kind not in ("typed", "drawn"):
        form_error = N_("Choose how to sign")
    elif not form.consent:
        form_error = N_("Please agree to sign electronically first")
    else:
        form_error = None
    async with db.transaction(tenant) as tx:
        link = await _resolve(tx, token, lock=True)
        if link.state != "sign":
            return link, None
        assert link.signer is not None and link.envelope is not None
        if not _nonce_ok(link.signer, form.nonce):
            return link, N_("This page has expired; it was reloaded, please try again")
        if form_error:
            return link, form_error
        env, signer = link.envelope, link.signer
        key = None
        if form.kind == "drawn":
            key = f"signing/{tenant}/{env['id']}/signatures/{signer['id']}.png"
            await storage.put(key, form.drawing, "image/png")
        digest = hashlib.sha256(
            form.drawing if form.kind == "drawn" else form.typed_name.strip().encode()
        ).hexdigest()
        await evidence.append_event(
            tx,
            env["id"],
            "consented",
            signer_id=signer["id"],
            ip=ip,
            user_agent=user_agent,
            data={"esign_consent": consent.VERSION, "locale": signer["locale"]},
        )
        signed = await tx.fetchrow(
            "UPDATE envelope_signers SET status = 'signed', signed_at = now(), consented_at = now(), ip = $3,"
            " user_agent = $4, signature_kind = $5, typed_name = $6, signature_key = $7, page_nonce = NULL"
            " WHERE tenant = $1 AND id = $2 RETURNING *",
            tenant,
            signer["id"],
            ip,
            (user_agent or "")[:500],
            form.kind,
            form.typed_name.strip()[:200] or None,
            key,
        )
        await evidence.append_event(
            tx,
            env["id"],
            "signed",
            signer_id=signer["id"],
            ip=ip,
            user_agent=user_agent,
            data={"kind": form.kind, "signature_sha256": digest},
        )
        signer = signed
        left = await tx.fetchval(
            "SELECT count(*) FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2"
            " AND status <> 'signed'",
            tenant,
            env["id"],
        )
        if left:
            await notify_turn(tx, env)
        else:
            await outbox.add_job(tx, "complete_envelope", tenant, env["id"], key=str(env["id"]))
        link.signer, link.state = signer, "signed"
        return link, None


async def decline(
    token: str, nonce: str, reason: str, ip: str | None, user_agent: str | None
) -> tuple[LinkState, str | None]:
    tenant = link_tenant(token)
    if tenant is None:
        return LinkState("invalid"), None
    async with db.transaction(tenant) as tx:
        link = await _resolve(tx, token, lock=True)
        if link.state != "sign":
            return link, None
        assert link.signer is not None and link.envelope is not None
        if not _nonce_ok(link.signer, nonce):
            return link, N_("This page has expired; it was reloaded, please try again")
        if not reason.strip():
            return link, N_("Please give a reason for declining")
        reason = reason.strip()[:2000]
        env = link.envelope
        await tx.execute(
            "UPDATE envelope_signers SET status = 'declined', declined_at = now(), decline_reason = $3,"
            " ip = $4, user_agent = $5, page_nonce = NULL WHERE tenant = $1 AND id = $2",
            tenant,
            link.signer["id"],
            reason,
            ip,
            (user_agent or "")[:500],
        )
        env = await tx.fetchrow(
            "UPDATE envelopes SET status = 'declined', ended_at = now() WHERE tenant = $1"
            " AND id = $2 RETURNING *",
            tenant,
            env["id"],
        )
        assert env is not None
        await evidence.append_event(
            tx,
            env["id"],
            "declined",
            signer_id=link.signer["id"],
            ip=ip,
            user_agent=user_agent,
            data={"reason": reason},
        )
        await emit(tx, "envelope.declined", [{**envelope_event(env), "reason": reason}])
        await _tell_sender(tx, env, "signing_declined", signer=link.signer["name"], reason=reason)
        await tell_signers(tx, env, "signing_voided", reason=reason)
        link.state = "declined"
        return link, None


async def _tell_sender(tx: db.Tx, env: asyncpg.Record, template: str, **context: Any) -> None:
    if env["sender_email"]:
        await mail.queue_email(
            tx,
            to=env["sender_email"],
            template=template,
            locale=env["sender_locale"],
            key=f"envelope:{env['id']}:{template}:sender",
            title=env["title"],
            company=await _tenant_name(tx),
            **context,
        )
