"""Sales management, growth: a warm-handoff task (source ``handover``) for the previous owner of a
handed-over customer with an open deal, linked to the handover that made it (one per customer)."""

from app.migrating import sql_migration

ID = "2026-12-04T19:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sales: warm-handoff tasks of a handover"

SQL = """
ALTER TABLE sales_tasks DROP CONSTRAINT sales_tasks_source_check;
ALTER TABLE sales_tasks ADD CONSTRAINT sales_tasks_source_check
    CHECK (source IN ('cadence', 'return_visit', 'manual', 'handover'));
ALTER TABLE sales_tasks ADD COLUMN handover_plan_id uuid;
ALTER TABLE sales_tasks ADD CONSTRAINT sales_tasks_handover_check
    CHECK ((source = 'handover') = (handover_plan_id IS NOT NULL));
ALTER TABLE sales_tasks ADD CONSTRAINT sales_tasks_tenant_handover_plan_id_fkey
    FOREIGN KEY (tenant, handover_plan_id) REFERENCES handover_plans (tenant, id) ON DELETE CASCADE;
CREATE UNIQUE INDEX sales_tasks_handover ON sales_tasks (tenant, handover_plan_id, customer_id)
    WHERE handover_plan_id IS NOT NULL;
"""

forwards = sql_migration(ID, "sales", DESCRIPTION, SQL)
