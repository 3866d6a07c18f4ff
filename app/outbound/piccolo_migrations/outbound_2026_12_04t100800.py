"""Outbound: webhook endpoints, events and deliveries; team-chat robots per territory; calendar feeds."""

from app.migrating import sql_migration

ID = "2026-12-04T10:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbound: webhooks, team chat robots, calendar feeds"

SQL = """
-- A company's webhook endpoints. The signing secret is shown once, when made (or rolled).
CREATE TABLE webhook_endpoints (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    url text NOT NULL,
    description text NOT NULL DEFAULT '',
    event_types text[] NOT NULL,
    active boolean NOT NULL DEFAULT true,
    secret text NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- failed attempts in a row, since when; an endpoint failing long and often is disabled
    consecutive_failures integer NOT NULL DEFAULT 0,
    failing_since timestamptz,
    disabled_at timestamptz,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, created_by) REFERENCES memberships (tenant, id) ON DELETE SET NULL (created_by)
);
CREATE INDEX webhook_endpoints_active ON webhook_endpoints (tenant) WHERE active;
SELECT acre_enable_rls('webhook_endpoints');

-- What happened, written in the transaction of the change (only while an endpoint subscribes).
CREATE TABLE webhook_events (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    type varchar(40) NOT NULL,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, id)
);
SELECT acre_enable_rls('webhook_events');

-- One event to one endpoint: pending until delivered (2xx) or given up (failed).
CREATE TABLE webhook_deliveries (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    event_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    delivered_at timestamptz,
    response_status integer,
    response_body text,
    duration_ms integer,
    error text,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, event_id) REFERENCES webhook_events (tenant, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant, endpoint_id) REFERENCES webhook_endpoints (tenant, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant, endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant, event_id);
SELECT acre_enable_rls('webhook_deliveries');

-- A territory's group robot in WeCom, DingTalk or Feishu, and which notification kinds it posts.
CREATE TABLE chat_channels (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    territory_id uuid NOT NULL,
    provider varchar(10) NOT NULL CHECK (provider IN ('wecom', 'dingtalk', 'feishu')),
    name text NOT NULL DEFAULT '',
    url text NOT NULL,
    secret text,
    kinds text[] NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_sent_at timestamptz,
    last_status integer,
    last_error text,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, territory_id) REFERENCES territories (tenant, id) ON DELETE CASCADE
);
CREATE INDEX chat_channels_territory ON chat_channels (tenant, territory_id);
SELECT acre_enable_rls('chat_channels');

-- A member's private calendar feed: only the sha256 of the secret URL's token is kept.
CREATE TABLE calendar_feeds (
    tenant uuid NOT NULL REFERENCES tenants (id),
    membership_id uuid NOT NULL,
    token_hash char(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, membership_id),
    UNIQUE (tenant, token_hash),
    FOREIGN KEY (tenant, membership_id) REFERENCES memberships (tenant, id) ON DELETE CASCADE
);
SELECT acre_enable_rls('calendar_feeds');
"""

forwards = sql_migration(ID, "outbound", DESCRIPTION, SQL)
