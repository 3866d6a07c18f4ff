"""The Stripe event inbox (a global table: see the migration for why it has no RLS tenant)."""

from piccolo.columns import JSONB, UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index


class StripeEvent(Table, tablename="stripe_events", db=DB):
    id = Varchar(length=255, primary_key=True, default=None)
    type = Varchar(length=100, default=None)
    created_at = Timestamptz(default=None)
    livemode = Boolean()
    payload = JSONB(default=None)
    received_at = Timestamptz()
    tenant = UUID(null=True, default=None)
    handled_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=40, null=True, default=None)
    attempts = Integer()
    last_error = Text(null=True, default=None)

    stripe_events_unhandled = Index("(received_at) WHERE handled_at IS NULL")
