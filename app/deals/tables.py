"""Deals and what hangs off them. All tenant tables under RLS; the schema is the SQL migration."""

from piccolo.columns import JSONB, UUID, Boolean, Date, Numeric, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class Product(Table, tablename="products", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    sku = Varchar(length=64)
    name = Varchar(length=200)
    edition = Varchar(length=100, null=True)
    unit = Varchar(length=20)
    list_price = Numeric(digits=(14, 2))
    floor_price = Numeric(digits=(14, 2))
    currency = Varchar(length=3)
    active = Boolean()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Deal(Table, tablename="deals", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    customer_id = UUID()
    owner_membership_id = UUID()
    title = Varchar(length=200)
    amount = Numeric(digits=(14, 2))
    currency = Varchar(length=3)
    expected_close_date = Date(null=True)
    stage = Varchar(length=20)
    probability = SmallInt()
    lost_reason = Text(null=True)
    key_info = JSONB()
    decision_people = JSONB()
    created_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    closed_at = Timestamptz(null=True)


class DealStageChange(Table, tablename="deal_stage_changes", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    deal_id = UUID()
    from_stage = Varchar(length=20, null=True)
    to_stage = Varchar(length=20)
    reason = Text(null=True)
    actor = UUID(null=True)
    approval_id = UUID(null=True)
    at = Timestamptz()


class DealStageRules(Table, tablename="deal_stage_rules", db=DB):
    tenant = UUID(primary_key=True)
    rules = JSONB()
    updated_by = UUID(null=True)
    updated_at = Timestamptz()


class Quote(Table, tablename="quotes", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    deal_id = UUID()
    round = SmallInt()
    formal = Boolean()
    currency = Varchar(length=3)
    tax_rate = Numeric(digits=(5, 2))
    valid_until = Date()
    status = Varchar(length=10)
    needs_approval = Boolean()
    subtotal = Numeric(digits=(14, 2))
    discount = Numeric(digits=(14, 2))
    tax = Numeric(digits=(14, 2))
    total = Numeric(digits=(14, 2))
    note = Text(null=True)
    created_by = UUID(null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    sent_at = Timestamptz(null=True)


class QuoteLine(Table, tablename="quote_lines", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    quote_id = UUID()
    line_no = SmallInt()
    product_id = UUID()
    sku = Varchar(length=64)
    name = Varchar(length=200)
    edition = Varchar(length=100, null=True)
    unit = Varchar(length=20)
    quantity = Numeric(digits=(12, 2))
    list_price = Numeric(digits=(14, 2))
    floor_price = Numeric(digits=(14, 2))
    unit_price = Numeric(digits=(14, 2))
    discount_percent = Numeric(digits=(5, 2))
    amount = Numeric(digits=(14, 2))
    below_floor = Boolean()


class Approval(Table, tablename="approvals", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    kind = Varchar(length=20)
    subject_id = UUID()
    deal_id = UUID(null=True)
    territory_id = UUID(null=True)
    requested_by = UUID(null=True)
    status = Varchar(length=10)
    payload = JSONB()
    comment = Text(null=True)
    decided_by = UUID(null=True)
    decided_at = Timestamptz(null=True)
    created_at = Timestamptz()


class ContractTerms(Table, tablename="contract_terms", db=DB):
    tenant = UUID(primary_key=True)  # the real key is (tenant, deal_id)
    deal_id = UUID()
    quote_id = UUID(null=True)
    party_a_full_name = Varchar(length=200, null=True)
    party_a_address = Varchar(length=500, null=True)
    party_a_contact = Varchar(length=100, null=True)
    party_a_phone = Varchar(length=40, null=True)
    free_upgrade_years = SmallInt()
    onsite_service_chargeable = Boolean()
    onsite_fee_per_day = Numeric(digits=(14, 2), null=True)
    delivery_percent = SmallInt()
    stable_weeks = SmallInt()
    installation_days = SmallInt()
    milestones = JSONB(null=True)
    updated_by = UUID(null=True)
    updated_at = Timestamptz()


class Collection(Table, tablename="collections", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    deal_id = UUID()
    seq = SmallInt()
    code = Varchar(length=10)
    percent = SmallInt()
    amount = Numeric(digits=(14, 2))
    currency = Varchar(length=3)
    due_date = Date()
    paid_at = Timestamptz(null=True)
    paid_amount = Numeric(digits=(14, 2), null=True)
    paid_by = UUID(null=True)
    created_at = Timestamptz()


class CollectionPayment(Table, tablename="collection_payments", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    collection_id = UUID()
    amount = Numeric(digits=(14, 2))
    currency = Varchar(length=3)
    paid_on = Date()
    note = Text(null=True)
    actor = UUID(null=True)
    created_at = Timestamptz()
