"""Handover: territory realignment plans (kind ``realign``, owner rule ``keep``), each item's target
territory, and the envelopes an execution moved to the receiver."""

from app.migrating import sql_migration

ID = "2026-11-30T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "handover: realignment plans, items' target territory, moved envelopes"

SQL = """
ALTER TABLE handover_plans DROP CONSTRAINT handover_plans_kind_check;
ALTER TABLE handover_plans ADD CONSTRAINT handover_plans_kind_check
    CHECK (kind IN ('handover', 'dispatch', 'offboarding', 'realign'));
ALTER TABLE handover_plans DROP CONSTRAINT handover_plans_mode_check;
ALTER TABLE handover_plans ADD CONSTRAINT handover_plans_mode_check
    CHECK (mode IN ('single', 'round_robin', 'capacity', 'pool', 'keep'));
-- A realignment's operation (move, merge, split) as requested; NULL for other kinds.
ALTER TABLE handover_plans ADD COLUMN realign jsonb;
CREATE INDEX handover_plans_status ON handover_plans (tenant, status, kind, created_at DESC, id DESC);

-- The territory the customer ends in (NULL: it stays where it is).
ALTER TABLE handover_items ADD COLUMN to_territory_id uuid;

-- Envelopes out for signature an execution gave to the receiver (their sender changed).
CREATE TABLE handover_envelopes (
    tenant uuid NOT NULL,
    plan_id uuid NOT NULL,
    envelope_id uuid NOT NULL,
    from_membership_id uuid,
    to_membership_id uuid,
    PRIMARY KEY (tenant, plan_id, envelope_id),
    FOREIGN KEY (tenant, plan_id) REFERENCES handover_plans (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, envelope_id) REFERENCES envelopes (tenant, id)
);
SELECT acre_enable_rls('handover_envelopes');
"""

forwards = sql_migration(ID, "handover", DESCRIPTION, SQL)
