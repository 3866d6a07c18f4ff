"""Tenants (global registry); memberships, invitations and company profile versions (tenant tables,
under RLS)."""

from piccolo.columns import (
    UUID,
    Array,
    Boolean,
    Bytea,
    Char,
    ForeignKey,
    Integer,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzOffset
from piccolo.constraints import Unique
from piccolo.table import Table

from app.accounts.tables import User
from app.db import DB
from app.table_schema import Index, References


class Tenant(Table, tablename="tenants", db=DB):
    id = UUID(primary_key=True)
    name = Varchar(length=200, default=None)
    slug = Varchar(length=40, default=None, unique=True)
    locale = Varchar(length=10, default=None)
    time_zone = Varchar(length=64, default=None)
    currency = Varchar(length=3, default=None)
    seat_limit = Integer(null=True, default=None)
    created_at = Timestamptz()
    # billing (tenants/billing/piccolo_migrations)
    billing_plan = Varchar(length=40, null=True, default=None)
    billing_status = Varchar(length=30, default="trialing")
    trial_ends_at = Timestamptz(default=TimestamptzOffset(days=14))
    current_period_end = Timestamptz(null=True, default=None)
    past_due_since = Timestamptz(null=True, default=None)
    stripe_customer_id = Varchar(length=255, null=True, default=None, unique=True)
    stripe_subscription_id = Varchar(length=255, null=True, default=None, unique=True)
    seats_paid = Integer(null=True, default=None)
    seat_change_seq = Integer()
    billing_synced_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="memberships", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    user_id = ForeignKey(User, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action)
    role = Varchar(length=20, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz()
    deactivated_at = Timestamptz(null=True, default=None)

    memberships_tenant_user_id_key = Unique([tenant, user_id])
    memberships_user = Index("(user_id)")


class Invitation(Table, tablename="invitations", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    email = Varchar(length=320, default=None)
    role = Varchar(length=20, default=None)
    locale = Varchar(length=10, null=True, default=None)
    token_hash = Bytea(default=None)
    invited_by = ForeignKey(User, null=True, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action)
    created_at = Timestamptz()
    expires_at = Timestamptz(default=None)
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)

    # the link carries the tenant (``<tenant hex>.<secret>``): acceptance looks up (tenant, token_hash)
    invitations_tenant_token_hash_key = Unique([tenant, token_hash])
    invitations_tenant = Index("(tenant, created_at DESC, id)")


class CompanyProfileVersion(Table, tablename="company_profile_versions", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    version = Integer(default=None)
    legal_name = Varchar(length=200, null=True, default=None)
    credit_code = Char(length=18, null=True, default=None)
    address = Varchar(length=500, null=True, default=None)
    phone = Varchar(length=40, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    website = Varchar(length=200, null=True, default=None)
    bank = Varchar(length=200, null=True, default=None)
    bank_account = Varchar(length=64, null=True, default=None)
    service_hotline = Varchar(length=40, null=True, default=None)
    response_hours = SmallInt(null=True, default=None)
    onsite_day_rate = Numeric(digits=(14, 2), null=True, default=None)
    free_upgrade_years = SmallInt(null=True, default=None)
    logo_key = Varchar(length=300, null=True, default=None)
    logo_sha256 = Char(length=64, null=True, default=None)
    logo_type = Varchar(length=20, null=True, default=None)
    seal_key = Varchar(length=300, null=True, default=None)
    seal_sha256 = Char(length=64, null=True, default=None)
    seal_type = Varchar(length=20, null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()

    company_profile_versions_tenant_version_key = Unique([tenant, version])
    company_profile_versions_tenant_created_by_fkey = References(
        [tenant, created_by], "memberships", ["tenant", "id"]
    )


class ApiKey(Table, tablename="api_keys", db=DB):
    """A key for an integration (tenants/api_keys.py); the secret is stored only as its sha256."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    prefix = Varchar(length=16, default=None)
    secret_hash = Bytea(default=None)
    name = Varchar(length=100, default=None)
    scopes = Array(Text(), default=None)
    created_by = UUID(default=None)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = UUID(null=True, default=None)

    api_keys_tenant_fkey = References([tenant], "tenants", ["id"])
    api_keys_tenant_prefix_key = Unique([tenant, prefix])
    api_keys_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    api_keys_tenant_revoked_by_fkey = References([tenant, revoked_by], "memberships", ["tenant", "id"])
