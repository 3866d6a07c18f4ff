"""E-signature: envelopes, signers, signing links, the evidence chain, tenants' sealing keys, seals."""

from urllib.parse import unquote, urlsplit

from app.migrating import sql_migration
from app.settings import get_settings

ID = "2026-11-27T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "signing: envelopes, signers, links, evidence chain, sealing keys, seal index"

SQL = r"""
CREATE TABLE envelopes (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    document_id uuid NOT NULL,
    customer_id uuid,
    subject_type varchar(40) NOT NULL,
    subject_id varchar(100) NOT NULL,
    title varchar(300) NOT NULL,
    message text,
    signing_order varchar(12) NOT NULL CHECK (signing_order IN ('parallel', 'sequential')),
    status varchar(12) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'sent', 'completed', 'declined', 'expired', 'voided')),
    cc jsonb NOT NULL DEFAULT '[]',
    created_by uuid,
    sender_email varchar(320),
    sender_name varchar(200),
    sender_locale varchar(10) NOT NULL DEFAULT 'en',
    expiry_days integer NOT NULL CHECK (expiry_days BETWEEN 1 AND 365),
    reminder_interval_days integer NOT NULL CHECK (reminder_interval_days BETWEEN 1 AND 60),
    reminder_max integer NOT NULL CHECK (reminder_max BETWEEN 0 AND 3),
    reminders_sent integer NOT NULL DEFAULT 0,
    last_reminded_at timestamptz,
    expires_at timestamptz,
    void_reason text,
    original_sha256 char(64) NOT NULL,
    original_key varchar(300) NOT NULL,
    page_count integer,
    presealed_sha256 char(64),
    sealed_sha256 char(64),
    sealed_key varchar(300),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    ended_at timestamptz,
    UNIQUE (tenant, id),
    FOREIGN KEY (tenant, document_id) REFERENCES documents (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX envelopes_recent ON envelopes (tenant, created_at DESC, id DESC);
CREATE INDEX envelopes_out ON envelopes (tenant, customer_id) WHERE status = 'sent';
SELECT acre_enable_rls('envelopes');

CREATE TABLE envelope_signers (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    envelope_id uuid NOT NULL,
    position integer NOT NULL,
    name varchar(200) NOT NULL,
    email varchar(320) NOT NULL,
    locale varchar(10) NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    anchor varchar(40),
    status varchar(10) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'viewed', 'signed', 'declined')),
    notified_at timestamptz,
    viewed_at timestamptz,
    consented_at timestamptz,
    signed_at timestamptz,
    declined_at timestamptz,
    decline_reason text,
    ip varchar(64),
    user_agent text,
    signature_kind varchar(10) CHECK (signature_kind IN ('typed', 'drawn')),
    typed_name varchar(200),
    signature_key varchar(300),
    page_nonce varchar(64),
    UNIQUE (tenant, id),
    UNIQUE (tenant, envelope_id, position),
    FOREIGN KEY (tenant, envelope_id) REFERENCES envelopes (tenant, id)
);
SELECT acre_enable_rls('envelope_signers');

-- One row per emailed link (the invitation and each reminder mint one); only the sha256 is stored.
CREATE TABLE envelope_links (
    tenant uuid NOT NULL,
    token_hash char(64) NOT NULL,
    envelope_id uuid NOT NULL,
    signer_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, token_hash),
    FOREIGN KEY (tenant, signer_id) REFERENCES envelope_signers (tenant, id)
);
SELECT acre_enable_rls('envelope_links');

-- The evidence: one hash chain per envelope (hash = sha256(canonical content || prev_hash)).
CREATE TABLE envelope_events (
    tenant uuid NOT NULL,
    id bigserial PRIMARY KEY,
    envelope_id uuid NOT NULL,
    seq integer NOT NULL CHECK (seq > 0),
    event varchar(20) NOT NULL,
    signer_id uuid,
    actor uuid,
    at timestamptz NOT NULL,
    ip varchar(64),
    user_agent text,
    data jsonb NOT NULL DEFAULT '{}',
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL,
    UNIQUE (tenant, envelope_id, seq),
    FOREIGN KEY (tenant, envelope_id) REFERENCES envelopes (tenant, id)
);
SELECT acre_enable_rls('envelope_events');
CREATE FUNCTION acre_envelope_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'envelope_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER envelope_events_no_update BEFORE UPDATE OR DELETE ON envelope_events
    FOR EACH ROW EXECUTE FUNCTION acre_envelope_events_immutable();
CREATE TRIGGER envelope_events_no_truncate BEFORE TRUNCATE ON envelope_events
    FOR EACH STATEMENT EXECUTE FUNCTION acre_envelope_events_immutable();

CREATE TABLE tenant_signing_keys (
    tenant uuid NOT NULL PRIMARY KEY REFERENCES tenants (id),
    cert_pem text NOT NULL,
    cert_sha256 char(64) NOT NULL,
    key_encrypted bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
SELECT acre_enable_rls('tenant_signing_keys');

-- Global (like outbox): hashes and ids only, so the public verify page can find the envelope of an
-- uploaded PDF (by the CMS messageDigest of its seal) before it knows the tenant.
CREATE TABLE seal_index (
    message_digest char(64) PRIMARY KEY,
    sealed_sha256 char(64) NOT NULL,
    cert_sha256 char(64) NOT NULL,
    tenant uuid NOT NULL,
    envelope_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seal_index_sealed ON seal_index (sealed_sha256);
"""


def _revoke_sql() -> str:
    role = unquote(urlsplit(get_settings().database_url).username or "acre_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"unsupported application role name: {role!r}")
    return (f"REVOKE UPDATE, DELETE, TRUNCATE ON envelope_events FROM {role};"
            f" REVOKE UPDATE, DELETE ON seal_index FROM {role};")


forwards = sql_migration(ID, "signing", DESCRIPTION, SQL, _revoke_sql)
