"""Signing jobs: ``complete_envelope`` (final PDF, certificate, PAdES seal, delivery) and the crons
``signing_reminders`` and ``signing_expiry``.

Completion certifies only evidence that verifies: when the envelope's chain is broken it logs an error
and returns "evidence-broken", the envelope staying ``sent`` (the hourly sweep tries again, and logs
again, until someone looks).

Completion runs the signed hook of the document's subject type (``SIGNED_HOOKS``, filled by
``register_signed_hook`` from ``app.wiring``; the deals domain's for ``deal`` and ``quote``) in its
transaction: a hook that raises rolls the completion back (the envelope stays ``sent``).

At-least-once safe: completion checks the envelope is still ``sent`` with every signer signed, and
writes the sealed file under a fixed key; a rerun after success finds it ``completed`` and stops.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import structlog
from arq import Retry

from app import db, mail, outbox, pages
from app.documents import convert
from app.documents.jobs import storage as default_storage
from app.notifications.service import Notice, notify
from app.outbound.events import emit, envelope_event
from app.signing import certificate, evidence, pdfwork, seal
from app.signing.service import email_signer, fmt_time, void_for_voided_documents
from app.storage import Storage
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)


def pdf_filename(title: str) -> str:
    """The signed PDF's file name (attachment and download): the envelope's title, made safe."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", title).strip(" ._")[:150]
    return f"{safe or 'document'}.signed.pdf"


async def build_final_pdf(
    store: Storage,
    env: Any,
    signers: list[Any],
    facts: certificate.Facts,
    converter: convert.Converter | None = None,
) -> tuple[bytes, str]:
    """Original + signatures at the anchors + the certificate of completion; returns (pdf, sha256 of
    the signed document: the pages with the signatures, before the certificate)."""
    original = await store.get(env["original_key"])
    marks = []
    for s in signers:
        drawing = await store.get(s["signature_key"]) if s["signature_kind"] == "drawn" else None
        marks.append(
            pdfwork.Mark(
                anchor=s["anchor"],
                name=s["name"],
                signed_at=fmt_time(s["signed_at"]),
                drawing=drawing,
                typed=s["typed_name"],
            )
        )
    signed_pages = await asyncio.to_thread(pdfwork.place_signatures, original, marks)
    signed_sha = hashlib.sha256(signed_pages).hexdigest()
    docx = certificate.build_docx(
        env,
        signers,
        facts,
        signed_sha256=signed_sha,
        completed_at=datetime.now(UTC),
        verify_url=pages.url(pages.VERIFY) or "",
    )
    certified, _method = await (converter or convert.get_converter()).convert(docx)
    final = await asyncio.to_thread(pdfwork.append_pages, signed_pages, certified)
    return final, signed_sha


async def complete_envelope(ctx: dict[str, Any], tenant_id: str, envelope_id: str) -> str:
    """Seal and deliver a fully signed envelope. Returns "completed", or why it did nothing."""
    tenant, env_id = UUID(tenant_id), UUID(envelope_id)
    store: Storage = ctx.get("storage") or default_storage()
    async with db.transaction(tenant) as tx:
        env = await tx.fetchrow("SELECT * FROM envelopes WHERE tenant = $1 AND id = $2", tenant, env_id)
        if env is None:
            return "missing"
        if env["status"] != "sent":
            return f"skipped-{env['status']}"
        signers = await tx.fetch(
            "SELECT * FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2 ORDER BY position",
            tenant,
            env_id,
        )
        if any(s["status"] != "signed" for s in signers):
            return "not-all-signed"
        try:
            facts = await certificate.gather(tx, env_id)
        except certificate.BrokenChain as exc:  # never certify (nor seal) evidence that was tampered with
            log.error("evidence broken, not completed", envelope_id=envelope_id, error=str(exc))
            return "evidence-broken"
        key = await seal.tenant_sealing_key(tx)
    try:
        final, signed_sha = await build_final_pdf(store, env, list(signers), facts, ctx.get("converter"))
        sealed = await asyncio.to_thread(seal.seal_pdf, final, key, reason=f"Acre envelope {env_id}")
        check = await asyncio.to_thread(seal.check_seal, sealed, key.cert_pem)
        if not check.valid:
            raise RuntimeError("the fresh seal does not validate")
    except Exception as exc:  # converter, storage, TSA: transient; ARQ retries only on Retry
        tries = int(ctx.get("job_try") or 1)
        log.warning("envelope completion failed", envelope_id=envelope_id, error=repr(exc), tries=tries)
        raise Retry(defer=min(30 * 2 ** (tries - 1), 900)) from exc
    sealed_key = f"signing/{tenant}/{env_id}/signed.pdf"
    await store.put(sealed_key, sealed, "application/pdf")
    sealed_sha = hashlib.sha256(sealed).hexdigest()
    async with db.transaction(tenant) as tx:
        env = await tx.fetchrow(
            "SELECT * FROM envelopes WHERE tenant = $1 AND id = $2 FOR UPDATE", tenant, env_id
        )
        if env is None or env["status"] != "sent":  # voided or expired meanwhile
            return f"skipped-{env['status'] if env else 'missing'}"
        env = await tx.fetchrow(
            "UPDATE envelopes SET status = 'completed', ended_at = now(), presealed_sha256 = $3,"
            " sealed_sha256 = $4, sealed_key = $5 WHERE tenant = $1 AND id = $2 RETURNING *",
            tenant,
            env_id,
            hashlib.sha256(final).hexdigest(),
            sealed_sha,
            sealed_key,
        )
        assert env is not None
        await tx.execute(
            "INSERT INTO seal_index (message_digest, sealed_sha256, cert_sha256, tenant, envelope_id)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            check.message_digest,
            sealed_sha,
            key.cert_sha256,
            tenant,
            env_id,
        )
        await evidence.append_event(
            tx,
            env_id,
            "completed",
            data={
                "signed_sha256": signed_sha,
                "presealed_sha256": env["presealed_sha256"],
                "sealed_sha256": sealed_sha,
            },
        )
        await emit(tx, "envelope.completed", [envelope_event(env)])
        # everyone gets the sealed PDF attached (unless it is too big to mail) and a link: the signers
        # their signing link's download, the sender and the CC recipients a presigned one (7 days, the
        # longest S3 presigning allows)
        attach = None
        if mail.attachable(len(sealed)):
            attach = mail.Attachment(sealed_key, pdf_filename(env["title"]))
        for s in signers:
            await email_signer(
                tx,
                env,
                s,
                "signing_completed",
                f"envelope:{env_id}:completed:{s['id']}",
                attachment=attach,
                attached=attach is not None,
            )
        link = await store.presigned_get(sealed_key, filename=pdf_filename(env["title"]), ttl=7 * 86400)
        others = [(env["sender_email"], env["sender_locale"], "sender")] if env["sender_email"] else []
        others += [
            (c["email"], c.get("locale", "zh-CN"), f"cc:{c['email'].lower()}") for c in json.loads(env["cc"])
        ]
        for address, locale, who in others:
            await mail.queue_email(
                tx,
                attach,
                to=address,
                template="signing_completed",
                locale=locale,
                key=f"envelope:{env_id}:completed:{who}",
                title=env["title"],
                link=link,
                attached=attach is not None,
            )
        if env["created_by"] is not None:  # the sender, in-app (and on to their team chat)
            signed = Notice(
                env["created_by"],
                "contract_signed",
                f"envelope:{env_id}:signed",
                "envelope",
                env_id,
                {"title": env["title"]},
            )
            await notify(tx, [signed])
        await on_contract_signed(tx, env)
        await void_for_voided_documents(tx, env["sender_locale"])
    return "completed"


class SignedHook(Protocol):
    """Called when every signer of an envelope about ``subject_type`` / ``subject_id`` has signed
    ``document_id`` (the envelope's document)."""

    def __call__(
        self,
        scope: TenantScope,
        subject_type: str,
        subject_id: str,
        *,
        envelope_id: UUID | None = None,
        document_id: UUID | None = None,
    ) -> Awaitable[object]: ...


SIGNED_HOOKS: dict[str, SignedHook] = {}


def register_signed_hook(subject_type: str, hook: SignedHook) -> None:
    """Run ``hook`` when a document about ``subject_type`` is signed. Registering the same hook again
    changes nothing; another hook for a type that has one raises ``RuntimeError``."""
    if SIGNED_HOOKS.setdefault(subject_type, hook) is not hook:
        raise RuntimeError(f"a signed hook for {subject_type!r} is already registered")


async def on_contract_signed(tx: db.Tx, env: Any) -> bool:
    """Run the signed hook of the envelope's subject type in this transaction (a deal's: freeze the
    signed document's contract, move the deal to signed and create its collection milestones; the
    deal's other contracts are voided, and completion then ends their open envelopes). Returns whether
    one ran."""
    hook = SIGNED_HOOKS.get(env["subject_type"])
    if hook is None:
        return False
    scope = await TenantScope.for_job(env["tenant"])
    await hook(
        scope, env["subject_type"], env["subject_id"], envelope_id=env["id"], document_id=env["document_id"]
    )
    return True


async def send_reminders(scope: TenantScope, now: datetime) -> int:
    """Remind signers whose turn it is, every ``reminder_interval_days``, at most ``reminder_max`` times."""
    sent = 0
    tenant = scope.tenant_id
    async with scope.tx() as tx:
        due = await tx.fetch(
            "SELECT * FROM envelopes WHERE tenant = $1 AND status = 'sent' AND expires_at > $2"
            " AND reminders_sent < reminder_max"
            " AND coalesce(last_reminded_at, sent_at) + make_interval(days => reminder_interval_days) <= $2"
            " FOR UPDATE SKIP LOCKED",
            tenant,
            now,
        )
        for env in due:
            number = env["reminders_sent"] + 1
            waiting = await tx.fetch(
                "SELECT * FROM envelope_signers WHERE tenant = $1 AND envelope_id = $2"
                " AND status IN ('sent', 'viewed') ORDER BY position",
                tenant,
                env["id"],
            )
            for s in waiting:
                await email_signer(
                    tx, env, s, "signing_reminder", f"envelope:{env['id']}:remind:{number}:{s['id']}"
                )
                await evidence.append_event(
                    tx, env["id"], "reminded", signer_id=s["id"], data={"number": number}
                )
            await tx.execute(
                "UPDATE envelopes SET reminders_sent = $3, last_reminded_at = $4 WHERE tenant = $1"
                " AND id = $2",
                tenant,
                env["id"],
                number,
                now,
            )
            sent += len(waiting)
    return sent


async def expire_envelopes(scope: TenantScope, now: datetime) -> int:
    tenant = scope.tenant_id
    async with scope.tx() as tx:
        # an envelope whose signers have all signed is awaiting its seal, not expiring
        rows = await tx.fetch(
            "UPDATE envelopes e SET status = 'expired', ended_at = $2 WHERE tenant = $1"
            " AND status = 'sent' AND expires_at <= $2 AND EXISTS (SELECT 1 FROM envelope_signers s"
            " WHERE s.tenant = e.tenant AND s.envelope_id = e.id AND s.status <> 'signed')"
            " RETURNING *",
            tenant,
            now,
        )
        for env in rows:
            await evidence.append_event(tx, env["id"], "expired")
            if env["sender_email"]:
                await mail.queue_email(
                    tx,
                    to=env["sender_email"],
                    template="signing_expired",
                    locale=env["sender_locale"],
                    key=f"envelope:{env['id']}:expired",
                    title=env["title"],
                    company=scope.tenant_name or "Acre",
                )
    return len(rows)


async def signing_reminders(ctx: dict[str, Any]) -> int:
    """Cron: reminders for every tenant (idempotent: the count and time are updated in the same tx)."""
    now = datetime.now(UTC)

    async def remind(scope: TenantScope) -> int:
        return await send_reminders(scope, now)

    return await for_each_tenant("signing reminders", remind)


STALLED_AFTER = timedelta(minutes=30)


async def requeue_stalled_completions(scope: TenantScope, now: datetime) -> int:
    """Queue ``complete_envelope`` again for envelopes every signer signed more than ``STALLED_AFTER``
    ago that are still not completed (the job gave up after its retries, e.g. the TSA was down for
    hours). One job per envelope per hour (the outbox key)."""
    tenant = scope.tenant_id
    async with scope.tx() as tx:
        ids = await tx.fetch(
            "SELECT e.id FROM envelopes e WHERE e.tenant = $1 AND e.status = 'sent'"
            " AND NOT EXISTS (SELECT 1 FROM envelope_signers s WHERE s.tenant = e.tenant"
            "  AND s.envelope_id = e.id AND (s.status <> 'signed' OR s.signed_at > $2))",
            tenant,
            now - STALLED_AFTER,
        )
        for row in ids:
            await outbox.add_job(
                tx, "complete_envelope", tenant, row["id"], key=f"{row['id']}:requeue:{now:%Y%m%d%H}"
            )
    return len(ids)


async def signing_expiry(ctx: dict[str, Any]) -> int:
    """Cron: envelopes past their expiry end as ``expired``; fully signed envelopes whose completion
    stalled are queued again."""
    now = datetime.now(UTC)

    async def expire(scope: TenantScope) -> int:
        await requeue_stalled_completions(scope, now)
        return await expire_envelopes(scope, now)

    return await for_each_tenant("signing expiry", expire)
