"""Inbound leads: the companies' public inquiry forms, the idempotency record of each intake request,
and the log of every lead taken (what came in, from where, which customer it became or matched)."""

from app.migrating import sql_migration

ID = "2026-12-04T07:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "leads: lead_forms, lead_requests, leads"

SQL = """
-- A public inquiry form, served at /f/<company slug>/<slug>. fields: [{"name", "required"}] from the
-- fixed set of app/leads/schemas.py FORM_FIELDS (the company's name is always asked). Its leads go
-- to the pool of territory_id (the company's first top-level territory when unset or deleted).
CREATE TABLE lead_forms (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    slug varchar(40) NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name varchar(100) NOT NULL,
    territory_id uuid,
    fields jsonb NOT NULL DEFAULT '[]',
    thank_you varchar(1000) NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, slug),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE SET NULL (territory_id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id)
);
SELECT acre_enable_rls('lead_forms');

-- One intake request with an idempotency key: client is 'key:<api key id>' or 'form:<form id>' (the
-- form's token), body_hash the sha256 of what was sent, response the answer given (null while the
-- first request is still running: a second one waits on the unique key until it commits).
CREATE TABLE lead_requests (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client varchar(60) NOT NULL,
    idempotency_key varchar(200) NOT NULL,
    body_hash bytea NOT NULL,
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, client, idempotency_key)
);
CREATE INDEX lead_requests_age ON lead_requests (tenant, created_at);
SELECT acre_enable_rls('lead_requests');

-- Every lead taken: created = a new customer in the pool; known = the company was a customer already
-- (its owner follows it up, or its territory's managers when it is in the pool).
CREATE TABLE leads (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    channel varchar(10) NOT NULL CHECK (channel IN ('api', 'form')),
    form_id uuid,
    api_key_id uuid,
    customer_id uuid NOT NULL,
    outcome varchar(10) NOT NULL CHECK (outcome IN ('created', 'known')),
    contact_name varchar(100),
    email varchar(320),
    message varchar(2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, customer_id) REFERENCES customers (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, form_id) REFERENCES lead_forms (tenant, id) ON DELETE SET NULL (form_id),
    FOREIGN KEY (tenant, api_key_id) REFERENCES api_keys (tenant, id)
);
CREATE INDEX leads_customer ON leads (tenant, customer_id, created_at);
CREATE INDEX leads_recent ON leads (tenant, created_at DESC);
SELECT acre_enable_rls('leads');
"""

forwards = sql_migration(ID, "leads", DESCRIPTION, SQL)
