"""Anchors of the ownership ledger outside the database: each day the head of every tenant's chain is
timestamped by an RFC 3161 authority and the token kept here (append-only, like the ledger)."""

from urllib.parse import unquote, urlsplit

from app.migrating import sql_migration
from app.settings import get_settings

ID = "2026-12-04T19:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers: ownership_anchors (RFC 3161 timestamps of the ledger's head)"

SQL = r"""
-- One anchor per anchored head. The timestamped digest is sha256 of
-- 'acre-ledger-anchor|v1|<tenant>|<head_seq>|<head_hash hex>|<prev_token_sha256 hex or ->': it names the
-- entry and chains the anchors (deleting one breaks the next one's imprint).
CREATE TABLE ownership_anchors (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    head_seq bigint NOT NULL CHECK (head_seq > 0),
    head_hash bytea NOT NULL,
    prev_token_sha256 bytea,
    token bytea NOT NULL,
    tsa_url text NOT NULL,
    stamped_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, head_seq)
);
SELECT acre_enable_rls('ownership_anchors');

CREATE FUNCTION acre_ownership_anchors_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ownership_anchors is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ownership_anchors_no_update BEFORE UPDATE OR DELETE ON ownership_anchors
    FOR EACH ROW EXECUTE FUNCTION acre_ownership_anchors_immutable();
CREATE TRIGGER ownership_anchors_no_truncate BEFORE TRUNCATE ON ownership_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION acre_ownership_anchors_immutable();
"""


def _revoke_sql() -> str:
    role = unquote(urlsplit(get_settings().database_url).username or "acre_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"unsupported application role name: {role!r}")
    return f"REVOKE UPDATE, DELETE, TRUNCATE ON ownership_anchors FROM {role};"


forwards = sql_migration(ID, "customers", DESCRIPTION, SQL, _revoke_sql)
