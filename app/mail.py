"""Outgoing email: queued in the caller's transaction (``queue_email``), sent by the ``send_email``
job through SMTP (aiosmtplib). A message is sent once even if the job runs twice: the job claims the
row first.

Every message has a ``Date`` (when it was queued) and a ``Message-ID`` (its row id at the sender's
domain), both fixed by the row, so a retried send is the same message.

A message may carry one attachment, referenced by its object-storage key: the job reads the bytes
when it sends, so the row (and the outbox) never hold file contents. A file above
``mail_attachment_max_bytes`` is not attached (callers check first and say so in the text, which
should always carry a link as well).

Account mail (a password reset) belongs to a user, not to a company: queued in a transaction scoped to
the user and to no tenant (``db.transaction(None, user_id)``), its row is in ``account_emails`` (a
global table: ``emails`` is a tenant table, sharded by tenant on Citus) and names the user, and
row-level security shows it only to such a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import aiosmtplib
import structlog
from arq import Retry
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import db, i18n, outbox
from app.settings import get_settings
from app.storage import Storage, create_storage

log = structlog.get_logger(__name__)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "email"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)
# A claimed message not marked sent after this long is considered abandoned (worker died) and retried.
TIMEOUT_SECONDS = 90  # one try (the attachment from storage, SMTP with its 30 s timeout); ARQ's for the job
# A claim older than this belongs to a try that cannot be running any more (ARQ cancels it first).
_CLAIM_TIMEOUT_SECONDS = TIMEOUT_SECONDS + 30
_CLAIM_TIMEOUT = f"{_CLAIM_TIMEOUT_SECONDS} seconds"
_storage: Storage | None = None


@dataclass(frozen=True)
class Attachment:
    """A file in object storage to attach: its key, the file name the receiver sees, its type."""

    key: str
    filename: str
    content_type: str = "application/pdf"


def attachable(size: int) -> bool:
    """Whether a file of ``size`` bytes may be attached (else: send a link only)."""
    return size <= get_settings().mail_attachment_max_bytes


def message_id(email_id: str | UUID) -> str:
    """The Message-ID of the queued email ``email_id``: its id at the sender's domain (RFC 5322 asks
    for a domain the sender controls; the public URL's host when the sender address has none)."""
    domain = parseaddr(get_settings().mail_from)[1].rpartition("@")[2]
    return f"<{email_id}@{domain or urlsplit(get_settings().public_url).hostname or 'localhost'}>"


def _default_storage() -> Storage:
    global _storage
    if _storage is None:
        _storage = create_storage(get_settings())
    return _storage


def render(template: str, locale: str, **context: Any) -> tuple[str, str, str]:
    """Render ``<template>.subject|txt|html`` in ``locale``; returns (subject, text, html)."""

    def _(message: str, **params: Any) -> str:
        return i18n.translate(locale, message, **params)

    parts = [
        _templates.get_template(f"{template}.{ext}").render(_=_, locale=locale, **context)
        for ext in ("subject", "txt", "html")
    ]
    return parts[0].strip(), parts[1], parts[2]


async def queue_email(
    tx: db.Tx,
    attachment: Attachment | None = None,
    /,
    *,
    to: str,
    template: str,
    locale: str,
    key: str,
    **context: Any,
) -> UUID | None:
    """Queue one email in ``tx``; ``key`` (unique per tenant, and among account mail) makes queueing
    idempotent. Returns the email id, or None when an email with this key was queued before.
    ``attachment`` is positional, so that no template variable can be taken for it. In a transaction
    with no tenant it is account mail to ``tx.user_id`` (which must be set)."""
    account = tx.user_id if tx.tenant_id is None else None
    if tx.tenant_id is None and account is None:
        raise RuntimeError("mail outside a tenant is account mail: open the transaction for its user")
    subject, text, html = render(template, locale, **context)
    # tenant mail is unique per tenant and key, account mail per key (mail of any user)
    table, owner, owner_key = (
        ("emails", "tenant", "tenant, idempotency_key")
        if account is None
        else ("account_emails", "user_id", "idempotency_key")
    )
    sql = (
        f"INSERT INTO {table} ({owner}, idempotency_key, to_addr, subject, text_body, html_body, locale,"
        " attachment_key, attachment_name, attachment_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        f" ON CONFLICT ({owner_key}) DO NOTHING RETURNING id"
    )
    email_id: UUID | None = await tx.fetchval(
        sql,
        account or tx.tenant_id,
        key,
        to,
        subject,
        text,
        html,
        locale,
        attachment.key if attachment else None,
        attachment.filename[:255] if attachment else None,
        attachment.content_type if attachment else None,
    )
    if email_id is not None:
        user = (account,) if account else ()
        await outbox.add_job(tx, "send_email", tx.tenant_id, email_id, *user, key=str(email_id))
    return email_id


async def deliver(message: EmailMessage) -> None:
    s = get_settings()
    await aiosmtplib.send(
        message,
        hostname=s.smtp_host,
        port=s.smtp_port,
        username=s.smtp_username,
        password=s.smtp_password,
        start_tls=s.smtp_starttls,
        timeout=30,
    )


async def send_email(
    ctx: dict[str, Any], tenant_id: str | None, email_id: str, user_id: str | None = None
) -> str:
    """ARQ job: send one queued email (account mail: no tenant, its user). Returns what happened
    ("sent", "already-sent", "missing"); raises ``Retry`` while another attempt holds the claim, and
    when SMTP fails."""
    tenant = UUID(tenant_id) if tenant_id else None
    user = UUID(user_id) if user_id else None
    # a tenant's mail by (tenant, id), its primary key; account mail by id
    where = "id = $1 AND tenant = $2" if tenant else "id = $1 AND user_id = $2"
    table, owner = ("emails", tenant) if tenant else ("account_emails", user)
    async with db.transaction(tenant, user) as tx:
        row = await tx.fetchrow(
            f"UPDATE {table} SET claimed_at = now(), attempts = attempts + 1"
            f" WHERE {where} AND sent_at IS NULL"
            f" AND (claimed_at IS NULL OR claimed_at < now() - interval '{_CLAIM_TIMEOUT}')"
            " RETURNING to_addr, subject, text_body, html_body, attachment_key, attachment_name,"
            " attachment_type, created_at",
            UUID(email_id),
            owner,
        )
        if row is None:
            sent = await tx.fetchval(
                f"SELECT sent_at IS NOT NULL FROM {table} WHERE {where}", UUID(email_id), owner
            )
            if sent is None:
                return "missing"
            if sent:
                return "already-sent"
            # Claimed by another attempt: it may be sending right now, or its worker may have died (ARQ
            # then reruns the job within the claim timeout). Finishing here would lose the mail in the
            # second case, so look again once the claim has gone stale.
            raise Retry(defer=_CLAIM_TIMEOUT_SECONDS + 30)
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = row["to_addr"]
    message["Subject"] = row["subject"]
    # Date and Message-ID are the message's own, the same on every attempt (receivers drop a copy)
    message["Date"] = format_datetime(row["created_at"])
    message["Message-ID"] = message_id(email_id)
    message.set_content(row["text_body"])
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html")
    try:
        if row["attachment_key"]:
            store: Storage = ctx.get("storage") or _default_storage()
            data = await store.get(row["attachment_key"])
            if attachable(len(data)):
                maintype, _, subtype = (row["attachment_type"] or "application/octet-stream").partition("/")
                message.add_attachment(
                    data, maintype=maintype, subtype=subtype, filename=row["attachment_name"] or "file"
                )
            else:  # grew past the limit after queueing (or the limit was lowered): the text has the link
                log.warning("attachment too large, sent without it", email_id=email_id, size=len(data))
        await deliver(message)
    except Exception as exc:
        async with db.transaction(tenant, user) as tx:
            await tx.execute(
                f"UPDATE {table} SET claimed_at = NULL, last_error = $3 WHERE {where}",
                UUID(email_id),
                owner,
                repr(exc),
            )
        # A plain exception would fail the job for good (ARQ retries only on Retry), losing the email.
        tries = int(ctx.get("job_try") or 1)
        raise Retry(defer=min(30 * 2 ** (tries - 1), 900)) from exc
    async with db.transaction(tenant, user) as tx:
        await tx.execute(
            f"UPDATE {table} SET sent_at = now(), last_error = NULL WHERE {where}", UUID(email_id), owner
        )
    log.info("email sent", email_id=email_id, tenant_id=tenant_id)
    return "sent"
