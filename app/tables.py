"""Core tables: the job outbox, outgoing email (a tenant's, and account mail) and the audit log."""

from piccolo.columns import JSONB, UUID, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.constraints import Unique
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
    """Outgoing mail of a tenant (account mail is ``AccountEmail``)."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    # Account mail's user until it moved to account_emails; always null now, and not written by this
    # release: dropped by a later (contract) migration, once no pod of the release before runs.
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
    emails_tenant_idempotency_key_key = Unique([tenant, idempotency_key])


class AccountEmail(Table, tablename="account_emails", db=DB):
    """Account mail (a password reset): mail to a user, belonging to no company. A global table (a
    Citus reference table), under row-level security that shows a row only to a transaction scoped to
    its user and to no tenant."""

    id = UUID(primary_key=True)
    user_id = UUID(default=None)
    idempotency_key = Varchar(length=200, default=None, unique=True)
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

    account_emails_user_id_fkey = References([user_id], "users", ["id"], on_delete="CASCADE")


class AuditEntry(Table, tablename="audit_log", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = BigSerial(primary_key=True)
    actor = UUID(null=True, default=None)
    action = Varchar(length=100, default=None)
    subject_type = Varchar(length=50, default=None)
    subject_id = Varchar(length=100, default=None)
    reason = Text(null=True, default=None)
    data = JSONB()
    at = Timestamptz()

    audit_log_subject = Index("(tenant, subject_type, subject_id, id)")
