"""Webhook endpoints, events and deliveries, team-chat channels and calendar feeds (tenant tables under
RLS; the schema is the SQL migration)."""

from piccolo.columns import JSONB, UUID, Array, Boolean, Char, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


def _tenant() -> ForeignKey:
    return ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )


class WebhookEndpoint(Table, tablename="webhook_endpoints", db=DB):
    tenant = _tenant()
    id = UUID(primary_key=True)
    url = Text(default=None)
    description = Text()
    event_types = Array(Text(), default=None)
    active = Boolean(default=True)
    secret = Text(default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    consecutive_failures = Integer()
    failing_since = Timestamptz(null=True, default=None)
    disabled_at = Timestamptz(null=True, default=None)

    webhook_endpoints_tenant_created_by_fkey = References(
        [tenant, created_by], "memberships", ["tenant", "id"], on_delete="SET NULL (created_by)"
    )
    webhook_endpoints_active = Index("(tenant) WHERE active")


class WebhookEvent(Table, tablename="webhook_events", db=DB):
    tenant = _tenant()
    id = UUID(primary_key=True)
    type = Varchar(length=40, default=None)
    data = JSONB(default=None)
    created_at = Timestamptz()

    webhook_events_overdue = Index("(tenant, (data ->> 'collection_id')) WHERE type = 'collection.overdue'")


class WebhookDelivery(Table, tablename="webhook_deliveries", db=DB):
    tenant = _tenant()
    id = UUID(primary_key=True)
    event_id = UUID(default=None)
    endpoint_id = UUID(default=None)
    status = Varchar(length=10, default="pending")
    attempts = Integer()
    created_at = Timestamptz()
    last_attempt_at = Timestamptz(null=True, default=None)
    next_attempt_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    response_status = Integer(null=True, default=None)
    response_body = Text(null=True, default=None)
    duration_ms = Integer(null=True, default=None)
    error = Text(null=True, default=None)

    webhook_deliveries_tenant_event_id_fkey = References(
        [tenant, event_id], "webhook_events", ["tenant", "id"], on_delete="CASCADE"
    )
    webhook_deliveries_tenant_endpoint_id_fkey = References(
        [tenant, endpoint_id], "webhook_endpoints", ["tenant", "id"], on_delete="CASCADE"
    )
    webhook_deliveries_endpoint = Index("(tenant, endpoint_id, created_at DESC, id DESC)")
    webhook_deliveries_event = Index("(tenant, event_id)")


class ChatChannel(Table, tablename="chat_channels", db=DB):
    tenant = _tenant()
    id = UUID(primary_key=True)
    territory_id = UUID(default=None)
    provider = Varchar(length=10, default=None)
    name = Text()
    url = Text(default=None)
    secret = Text(null=True, default=None)
    kinds = Array(Text(), default=None)
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    last_sent_at = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)

    chat_channels_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    chat_channels_territory = Index("(tenant, territory_id)")


class CalendarFeed(Table, tablename="calendar_feeds", db=DB):
    tenant = _tenant()
    membership_id = UUID(primary_key=True, default=None)
    token_hash = Char(length=64, default=None)
    created_at = Timestamptz()

    calendar_feeds_tenant_token_hash_key = Unique([tenant, token_hash])
    calendar_feeds_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )


OUTBOUND_TABLES: list[type[Table]] = [
    WebhookEndpoint,
    WebhookEvent,
    WebhookDelivery,
    ChatChannel,
    CalendarFeed,
]
