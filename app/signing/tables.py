"""E-signature tables (tenant tables under RLS; the schema is the SQL migration). Services use SQL."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    BigSerial,
    Bytea,
    Char,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class Envelope(Table, tablename="envelopes", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    document_id = UUID(default=None)
    customer_id = UUID(null=True, default=None)
    subject_type = Varchar(length=40, default=None)
    subject_id = Varchar(length=100, default=None)
    title = Varchar(length=300, default=None)
    message = Text(null=True, default=None)
    signing_order = Varchar(length=12, default=None)
    status = Varchar(length=12, default="draft")
    cc = JSONB(default="[]")
    created_by = UUID(null=True, default=None)
    sender_email = Varchar(length=320, null=True, default=None)
    sender_name = Varchar(length=200, null=True, default=None)
    sender_locale = Varchar(length=10, default="en")
    expiry_days = Integer(default=None)
    reminder_interval_days = Integer(default=None)
    reminder_max = Integer(default=None)
    reminders_sent = Integer()
    last_reminded_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    void_reason = Text(null=True, default=None)
    original_sha256 = Char(length=64, default=None)
    original_key = Varchar(length=300, default=None)
    page_count = Integer(null=True, default=None)
    presealed_sha256 = Char(length=64, null=True, default=None)
    sealed_sha256 = Char(length=64, null=True, default=None)
    sealed_key = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)

    envelopes_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    envelopes_tenant_document_id_fkey = References([tenant, document_id], "documents", ["tenant", "id"])
    envelopes_out = Index("(tenant, customer_id) WHERE status = 'sent'")
    envelopes_recent = Index("(tenant, created_at DESC, id DESC)")


class EnvelopeSigner(Table, tablename="envelope_signers", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    envelope_id = UUID(default=None)
    position = Integer(default=None)
    name = Varchar(length=200, default=None)
    email = Varchar(length=320, default=None)
    locale = Varchar(length=10, default=None)
    anchor = Varchar(length=40, null=True, default=None)
    status = Varchar(length=10, default="pending")
    notified_at = Timestamptz(null=True, default=None)
    viewed_at = Timestamptz(null=True, default=None)
    consented_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    declined_at = Timestamptz(null=True, default=None)
    decline_reason = Text(null=True, default=None)
    ip = Varchar(length=64, null=True, default=None)
    user_agent = Text(null=True, default=None)
    signature_kind = Varchar(length=10, null=True, default=None)
    typed_name = Varchar(length=200, null=True, default=None)
    signature_key = Varchar(length=300, null=True, default=None)
    page_nonce = Varchar(length=64, null=True, default=None)

    envelope_signers_tenant_envelope_id_position_key = Unique([tenant, envelope_id, position])
    envelope_signers_tenant_envelope_id_fkey = References(
        [tenant, envelope_id], "envelopes", ["tenant", "id"]
    )


class EnvelopeEvent(Table, tablename="envelope_events", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = BigSerial(primary_key=True)
    envelope_id = UUID(default=None)
    seq = Integer(default=None)
    event = Varchar(length=20, default=None)
    signer_id = UUID(null=True, default=None)
    actor = UUID(null=True, default=None)
    at = Timestamptz(default=None)
    ip = Varchar(length=64, null=True, default=None)
    user_agent = Text(null=True, default=None)
    data = JSONB()
    prev_hash = Char(length=64, default=None)
    hash = Char(length=64, default=None)

    envelope_events_tenant_envelope_id_seq_key = Unique([tenant, envelope_id, seq])
    envelope_events_tenant_envelope_id_fkey = References([tenant, envelope_id], "envelopes", ["tenant", "id"])


class EnvelopeLink(Table, tablename="envelope_links", db=DB):
    """One emailed signing link (the invitation and each reminder mint one); only its sha256 is kept."""

    tenant = UUID(primary_key=True, default=None)
    token_hash = Char(length=64, primary_key=True, default=None)
    envelope_id = UUID(default=None)
    signer_id = UUID(default=None)
    created_at = Timestamptz()

    envelope_links_tenant_signer_id_fkey = References(
        [tenant, signer_id], "envelope_signers", ["tenant", "id"]
    )


class TenantSigningKey(Table, tablename="tenant_signing_keys", db=DB):
    """The company's sealing certificate and its private key, encrypted at rest."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    cert_pem = Text(default=None)
    cert_sha256 = Char(length=64, default=None)
    key_encrypted = Bytea(default=None)
    created_at = Timestamptz()


class SealIndexEntry(Table, tablename="seal_index", db=DB):
    """Global (no RLS): hashes and ids only, so the public verify page finds the envelope of an uploaded
    PDF (by its seal's CMS message digest) before it knows the tenant."""

    message_digest = Char(length=64, primary_key=True, default=None)
    sealed_sha256 = Char(length=64, default=None)
    cert_sha256 = Char(length=64, default=None)
    tenant = UUID(default=None)
    envelope_id = UUID(null=True, default=None)
    statement_id = UUID(null=True, default=None)
    created_at = Timestamptz()

    seal_index_sealed = Index("(sealed_sha256)")


class OwnershipStatement(Table, tablename="ownership_statements", db=DB):
    """A member's ownership changes over a period, sealed (``app.signing.statements``)."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    period_start = Timestamptz(default=None)
    period_end = Timestamptz(default=None)
    kind = Varchar(length=10, default=None)
    status = Varchar(length=10, default="pending")
    locale = Varchar(length=10, default=None)
    entries = Integer(null=True, default=None)
    first_seq = BigInt(null=True, default=None)
    last_seq = BigInt(null=True, default=None)
    anchor_id = UUID(null=True, default=None)
    anchor_seq = BigInt(null=True, default=None)
    sealed_key = Text(null=True, default=None)
    sealed_sha256 = Char(length=64, null=True, default=None)
    requested_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    ready_at = Timestamptz(null=True, default=None)

    ownership_statements_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    ownership_statements_tenant_requested_by_fkey = References(
        [tenant, requested_by], "memberships", ["tenant", "id"]
    )
    ownership_statements_monthly = Index(
        "(tenant, membership_id, period_start) WHERE kind = 'monthly'", unique=True
    )
    ownership_statements_member = Index("(tenant, membership_id, created_at DESC, id DESC)")
