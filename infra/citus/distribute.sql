-- Acre on Citus: run once on the coordinator, as the owner, after `acre migrate` has built the schema
-- on an empty database (a live move is docs/scale-out.md, "Moving an existing database").
--   psql "$ACRE_DATABASE_ADMIN_URL" -v ON_ERROR_STOP=1 -f infra/citus/distribute.sql
-- Every table of the schema is named here exactly once; tests/integration/test_citus_ready.py fails
-- when a table is missing, when a tenant table's keys leave `tenant` out, or when the order below
-- would distribute a table before one its foreign keys point to.
-- Every tenant table's primary key, unique keys and foreign keys include `tenant` (the schema
-- migration of 2026-12-04, app/schema/), so the whole file runs: see scale-out.md.

CREATE EXTENSION IF NOT EXISTS citus;

-- Row-level security stays on: Citus propagates the policies to the shards, and every transaction
-- still sets app.tenant_id (app/db.py), which also routes it to the one node holding that tenant.
SET citus.enable_ddl_propagation TO on;

-- Reference tables: global, looked up before a tenant is known, copied to every node (those the
-- others point to first).
SELECT create_reference_table('tenants');
SELECT create_reference_table('users');
SELECT create_reference_table('password_resets');
SELECT create_reference_table('account_emails');
SELECT create_reference_table('sessions');
SELECT create_reference_table('outbox');
SELECT create_reference_table('stripe_events');
SELECT create_reference_table('seal_index');
SELECT create_reference_table('migration');

-- Tenant tables: distributed by tenant, all co-located with the first, parents before children
-- (a foreign key between distributed tables needs its target distributed first).
SELECT create_distributed_table('audit_log', 'tenant', colocate_with => 'none', shard_count => 32);
SELECT create_distributed_table('customer_ownership_history', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('ownership_anchors', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('deal_stage_rules', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('emails', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('invitations', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('memberships', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('ownership_statements', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('company_profile_versions', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('daily_reports', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('document_templates', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('documents', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('envelopes', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('envelope_events', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('envelope_signers', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('envelope_links', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('handover_plans', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('handover_carried', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('handover_deals', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('handover_envelopes', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('handover_items', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('handover_read_grants', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('notifications', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('pool_rules', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('products', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('sales_settings', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('tenant_signing_keys', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('territories', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('pools', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customer_imports', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customer_import_rows', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('pool_release_reasons', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customers', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('pool_scopes', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('pool_admins', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('pool_cap_overrides', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('cross_territory_grants', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('cross_territory_requests', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('territory_divisions', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customer_conflicts', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customer_contacts', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customer_followups', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('customer_grade_changes', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('deals', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('commission_rules', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('commission_splits', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('commission_split_shares', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('approvals', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('collections', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('collection_payments', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('deal_stage_changes', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('market_incidents', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('quotes', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('contract_terms', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('deal_contracts', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('vendor_registrations', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('deal_service_periods', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('quote_lines', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('referral_rewards', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('return_visits', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('sales_tasks', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('targets', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('territory_members', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('invitation_territories', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('visit_plans', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('visit_plan_items', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('weekly_reports', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('api_keys', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('lead_forms', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('lead_requests', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('leads', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('webhook_endpoints', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('webhook_events', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('webhook_deliveries', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('chat_channels', 'tenant', colocate_with => 'audit_log');
SELECT create_distributed_table('calendar_feeds', 'tenant', colocate_with => 'audit_log');
