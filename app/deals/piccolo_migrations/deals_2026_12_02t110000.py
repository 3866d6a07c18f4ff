"""Deals, third step: the contracts of a deal — the money each contract document was rendered with,
and the one that was signed, from then on the source of truth for the deal's money."""

from app.migrating import sql_migration

ID = "2026-12-02T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deals: deal contracts (rendered and signed figures)"

SQL = """
-- One row per contract document of a deal, written in the transaction that takes the document's data
-- snapshot: the quote it was rendered from (NULL: none, the terms were entered by hand), its total,
-- currency and payment milestones (a JSON list of {code, percent, amount, due_days}). Signing turns one
-- row 'signed' (at most one per deal) and the others 'voided'. A deal moved to signed by hand freezes
-- its figures of that moment in a row without a document. ``envelope_id`` is the signing domain's
-- envelope that signed it (no foreign key: envelopes are created after this table's domain).
CREATE TABLE deal_contracts (
    tenant uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    deal_id uuid NOT NULL,
    document_id uuid,
    quote_id uuid,
    total numeric(14, 2) NOT NULL CHECK (total >= 0),
    currency char(3) NOT NULL,
    milestones jsonb NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'rendered' CHECK (status IN ('rendered', 'signed', 'voided')),
    envelope_id uuid,
    signed_at timestamptz,
    voided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'signed' OR signed_at IS NOT NULL),
    UNIQUE (tenant, id),
    UNIQUE (tenant, document_id),
    FOREIGN KEY (tenant, deal_id) REFERENCES deals (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, document_id) REFERENCES documents (tenant, id),
    FOREIGN KEY (tenant, quote_id) REFERENCES quotes (tenant, id)
);
CREATE UNIQUE INDEX deal_contracts_one_signed ON deal_contracts (tenant, deal_id) WHERE status = 'signed';
CREATE INDEX deal_contracts_deal ON deal_contracts (tenant, deal_id, created_at DESC, id DESC);
SELECT acre_enable_rls('deal_contracts');
"""

forwards = sql_migration(ID, "deals", DESCRIPTION, SQL)
