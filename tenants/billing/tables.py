"""The Stripe event inbox (a global table: see the migration for why it has no RLS tenant)."""

from piccolo.columns import JSONB, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns import UUID as UUIDColumn
from piccolo.table import Table

from app.db import DB


class StripeEvent(Table, tablename="stripe_events", db=DB):
    id = Varchar(length=255, primary_key=True)
    type = Varchar(length=100)
    created_at = Timestamptz()
    livemode = Boolean(default=False)
    payload = JSONB()
    received_at = Timestamptz()
    tenant = UUIDColumn(null=True)
    handled_at = Timestamptz(null=True)
    outcome = Varchar(length=40, null=True)
    attempts = Integer(default=0)
    last_error = Text(null=True)
