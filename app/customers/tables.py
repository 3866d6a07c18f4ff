"""Customers and what hangs off them. All tenant tables under RLS; the schema is the SQL migration."""

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    BigSerial,
    Bytea,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from app.db import DB


class Customer(Table, tablename="customers", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    full_name = Varchar(length=200)
    short_name = Varchar(length=100, null=True)
    tax_id = Varchar(length=18, null=True)
    address = Varchar(length=500, null=True)
    phone = Varchar(length=40, null=True)
    phone_digits = Varchar(length=40, null=True)
    industry = Varchar(length=100, null=True)
    size_revenue_band = Varchar(length=50, null=True)
    headcount = Integer(null=True)
    it_status = Varchar(length=20)
    current_software = Varchar(length=200, null=True)
    source = Varchar(length=20, null=True)
    referrer = Varchar(length=200, null=True)
    referrer_customer_id = UUID(null=True)
    grade = Varchar(length=1)
    status = Varchar(length=10)
    territory_id = UUID()
    owner_membership_id = UUID(null=True)
    identity_key = Text()
    name_key = Text()
    search_text = Text()
    last_followup_at = Timestamptz(null=True)
    owner_changed_at = Timestamptz()
    next_followup_at = Timestamptz(null=True)
    created_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CustomerGradeChange(Table, tablename="customer_grade_changes", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    from_grade = Varchar(length=1, null=True)
    to_grade = Varchar(length=1)
    changed_by = UUID(null=True)
    reason = Text(null=True)
    changed_at = Timestamptz()


class CustomerContact(Table, tablename="customer_contacts", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    name = Varchar(length=100)
    title = Varchar(length=100, null=True)
    phone = Varchar(length=40, null=True)
    email = Varchar(length=320, null=True)
    decision_role = Varchar(length=20)
    influence = SmallInt(null=True)
    support = SmallInt(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CustomerFollowup(Table, tablename="customer_followups", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    author_membership_id = UUID(null=True)
    kind = Varchar(length=10)
    happened_at = Timestamptz()
    summary = Text()
    outcome = Text(null=True)
    next_followup_at = Timestamptz(null=True)
    created_at = Timestamptz()


class CustomerConflict(Table, tablename="customer_conflicts", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    attempted_by = UUID(null=True)
    attempted_data = JSONB()
    territory_id = UUID()
    status = Varchar(length=10)
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True)
    resolved_by = UUID(null=True)
    resolution = Text(null=True)


class OwnershipEntry(Table, tablename="customer_ownership_history", db=DB):
    """Append-only and hash-chained: written only through ``ledger.append_ownership``."""

    id = BigSerial(primary_key=True)
    tenant = UUID(index=True)
    seq = BigInt()
    customer_id = UUID()
    from_membership_id = UUID(null=True)
    to_membership_id = UUID(null=True)
    cause = Varchar(length=10)
    actor = UUID(null=True)
    reason = Text(null=True)
    plan_id = UUID(null=True)
    at = Timestamptz()
    prev_hash = Bytea()
    hash = Bytea()


class PoolRuleSet(Table, tablename="pool_rules", db=DB):
    tenant = UUID(primary_key=True)
    rules = JSONB()
    updated_by = UUID(null=True)
    updated_at = Timestamptz()


class CrossTerritoryGrant(Table, tablename="cross_territory_grants", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    membership_id = UUID()
    customer_id = UUID(null=True)
    territory_id = UUID(null=True)
    reason = Text(null=True)
    granted_by = UUID(null=True)
    until = Timestamptz()
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True)
