"""Handover: the open tasks, scheduled return visits and future visit-plan items an execution gave
to the receiver, so the preview counts them and an undo gives them back."""

from app.migrating import sql_migration

ID = "2026-12-04T19:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "handover: carried tasks, return visits and visit-plan items"

SQL = """
-- One row per carried row: a task (sales_tasks), a return visit (return_visits) or a visit-plan
-- item (visit_plan_items, with the plan and position it had, for an undo).
CREATE TABLE handover_carried (
    tenant uuid NOT NULL,
    plan_id uuid NOT NULL,
    kind varchar(12) NOT NULL CHECK (kind IN ('task', 'return_visit', 'visit_item')),
    row_id uuid NOT NULL,
    from_membership_id uuid NOT NULL,
    to_membership_id uuid NOT NULL,
    from_plan_id uuid,
    from_position smallint,
    PRIMARY KEY (tenant, plan_id, kind, row_id),
    CHECK ((kind = 'visit_item') = (from_plan_id IS NOT NULL AND from_position IS NOT NULL)),
    FOREIGN KEY (tenant, plan_id) REFERENCES handover_plans (tenant, id) ON DELETE CASCADE
);
SELECT acre_enable_rls('handover_carried');
"""

forwards = sql_migration(ID, "handover", DESCRIPTION, SQL)
