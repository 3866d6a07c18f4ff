"""Core tables: the job outbox, outgoing email and the audit log."""

from piccolo.columns import JSONB, UUID, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class OutboxJob(Table, tablename="outbox", db=DB):
    """A job to hand to ARQ, written in the same transaction as the change that needs it.

    A system table (no RLS): it holds only job names and ids, never tenant data."""

    id = BigSerial(primary_key=True)
    tenant = UUID(null=True)
    job = Varchar(length=100)
    args = JSONB()
    job_id = Varchar(length=200, unique=True)
    defer_seconds = Integer(default=0)
    created_at = Timestamptz()
    enqueued_at = Timestamptz(null=True)
    attempts = Integer(default=0)
    last_error = Text(null=True)


class Email(Table, tablename="emails", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    idempotency_key = Varchar(length=200)
    to_addr = Varchar(length=320)
    subject = Text()
    text_body = Text()
    html_body = Text(null=True)
    locale = Varchar(length=10)
    created_at = Timestamptz()
    claimed_at = Timestamptz(null=True)
    sent_at = Timestamptz(null=True)
    attempts = Integer(default=0)
    last_error = Text(null=True)
    attachment_key = Varchar(length=300, null=True)
    attachment_name = Varchar(length=255, null=True)
    attachment_type = Varchar(length=100, null=True)


class AuditEntry(Table, tablename="audit_log", db=DB):
    id = BigSerial(primary_key=True)
    tenant = UUID(index=True)
    actor = UUID(null=True)
    action = Varchar(length=100)
    subject_type = Varchar(length=50)
    subject_id = Varchar(length=100)
    reason = Text(null=True)
    data = JSONB()
    at = Timestamptz()
