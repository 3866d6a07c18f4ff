"""Core tables: the job outbox, outgoing email and the audit log."""

from piccolo.columns import JSONB, UUID, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References


class OutboxJob(Table, tablename="outbox", db=DB):
    """A job to hand to ARQ, written in the same transaction as the change that needs it.

    A system table (no RLS): it holds only job names and ids, never tenant data."""

    id = BigSerial(primary_key=True)
    tenant = UUID(null=True, default=None)
    job = Varchar(length=100, default=None)
    args = JSONB(default="[]")
    job_id = Varchar(length=200, default=None, unique=True)
    defer_seconds = Integer()
    created_at = Timestamptz()
    enqueued_at = Timestamptz(null=True, default=None)
    attempts = Integer()
    last_error = Text(null=True, default=None)

    outbox_pending = Index("(id) WHERE enqueued_at IS NULL")


class Email(Table, tablename="emails", db=DB):
    """Outgoing mail of a tenant, or (no tenant) account mail to ``user_id``."""

    id = UUID(primary_key=True)
    tenant = UUID(null=True, default=None)
    user_id = UUID(null=True, default=None)
    idempotency_key = Varchar(length=200, default=None)
    to_addr = Varchar(length=320, default=None)
    subject = Text(default=None)
    text_body = Text(default=None)
    html_body = Text(null=True, default=None)
    locale = Varchar(length=10, default="en")
    created_at = Timestamptz()
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    attempts = Integer()
    last_error = Text(null=True, default=None)
    attachment_key = Varchar(length=300, null=True, default=None)
    attachment_name = Varchar(length=255, null=True, default=None)
    attachment_type = Varchar(length=100, null=True, default=None)

    emails_user_id_fkey = References([user_id], "users", ["id"], on_delete="CASCADE")
    # NULLS NOT DISTINCT: account mail (no tenant) is deduplicated by its key as well
    emails_tenant_idempotency_key_key = Index("(tenant, idempotency_key) NULLS NOT DISTINCT", unique=True)


class AuditEntry(Table, tablename="audit_log", db=DB):
    id = BigSerial(primary_key=True)
    tenant = UUID(default=None)
    actor = UUID(null=True, default=None)
    action = Varchar(length=100, default=None)
    subject_type = Varchar(length=50, default=None)
    subject_id = Varchar(length=100, default=None)
    reason = Text(null=True, default=None)
    data = JSONB()
    at = Timestamptz()

    audit_log_subject = Index("(tenant, subject_type, subject_id, id)")
