"""Tenants (global registry), memberships and invitations (tenant tables, under RLS)."""

from piccolo.columns import UUID, Boolean, Bytea, Integer, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class Tenant(Table, tablename="tenants", db=DB):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    slug = Varchar(length=40, unique=True)
    locale = Varchar(length=10)
    time_zone = Varchar(length=64)
    currency = Varchar(length=3)
    seat_limit = Integer(null=True)
    created_at = Timestamptz()
    # billing (tenants/billing/piccolo_migrations)
    billing_plan = Varchar(length=40, null=True)
    billing_status = Varchar(length=30, default="trialing")
    trial_ends_at = Timestamptz()
    current_period_end = Timestamptz(null=True)
    past_due_since = Timestamptz(null=True)
    stripe_customer_id = Varchar(length=255, null=True, unique=True)
    stripe_subscription_id = Varchar(length=255, null=True, unique=True)
    seats_paid = Integer(null=True)
    seat_change_seq = Integer(default=0)
    billing_synced_at = Timestamptz(null=True)


class Membership(Table, tablename="memberships", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    user_id = UUID()
    role = Varchar(length=20)
    active = Boolean(default=True)
    created_at = Timestamptz()
    deactivated_at = Timestamptz(null=True)


class Invitation(Table, tablename="invitations", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    email = Varchar(length=320)
    role = Varchar(length=20)
    locale = Varchar(length=10, null=True)
    token_hash = Bytea()
    invited_by = UUID(null=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True)
    revoked_at = Timestamptz(null=True)
