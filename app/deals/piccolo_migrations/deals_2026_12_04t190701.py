"""Deals: the free-upgrade and maintenance period of a won deal (start, months), its installation
acceptance (the signed acceptance note, 验收单), and the renewal made before the period ends."""

from app.migrating import sql_migration

ID = "2026-12-04T19:07:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "deals: deal_service_periods"

SQL = """
-- One row per won deal, made when the deal is won (start: that day; months: the contract terms'
-- free-upgrade years × 12); the signed acceptance note moves the start to its signature date. The
-- renewal (a new deal and a return visit for the owner) is made once, before the period ends:
-- renewal_deal_id set. return_visit_id names the sales domain's return visit (no foreign key: that
-- table is made after this one's domain).
CREATE TABLE deal_service_periods (
    tenant uuid NOT NULL REFERENCES tenants (id),
    deal_id uuid NOT NULL,
    starts_on date NOT NULL,
    months smallint NOT NULL,
    accepted_at timestamptz,
    acceptance_document_id uuid,
    renewal_deal_id uuid,
    return_visit_id uuid,
    renewed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, deal_id),
    CHECK (months BETWEEN 1 AND 120),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, renewal_deal_id) REFERENCES deals (tenant, id) ON DELETE SET NULL (renewal_deal_id),
    FOREIGN KEY (tenant, acceptance_document_id) REFERENCES documents (tenant, id)
);
CREATE INDEX deal_service_periods_due ON deal_service_periods (tenant, starts_on) WHERE renewal_deal_id IS NULL;
SELECT acre_enable_rls('deal_service_periods');
"""

forwards = sql_migration(ID, "deals", DESCRIPTION, SQL)
