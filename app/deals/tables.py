"""Deals and what hangs off them. All tenant tables under RLS; the schema is the SQL migration."""

from piccolo.columns import (
    JSONB,
    UUID,
    Boolean,
    Char,
    Date,
    ForeignKey,
    Numeric,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class Product(Table, tablename="products", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    sku = Varchar(length=64, default=None)
    name = Varchar(length=200, default=None)
    edition = Varchar(length=100, null=True, default=None)
    unit = Varchar(length=20, default=None)
    list_price = Numeric(digits=(14, 2), default=None)
    floor_price = Numeric(digits=(14, 2), default=None)
    currency = Char(length=3, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    products_tenant_sku_key = Unique([tenant, sku])
    products_list = Index("(tenant, sku)")


class Deal(Table, tablename="deals", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    owner_membership_id = UUID(default=None)
    title = Varchar(length=200, default=None)
    amount = Numeric(digits=(14, 2), default=None)
    currency = Char(length=3, default=None)
    expected_close_date = Date(null=True, default=None)
    stage = Varchar(length=20, default="prospect_list")
    probability = SmallInt(default=None)
    lost_reason = Text(null=True, default=None)
    key_info = JSONB()
    decision_people = JSONB(default="[]")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)

    deals_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    deals_tenant_customer_id_fkey = References([tenant, customer_id], "customers", ["tenant", "id"])
    deals_tenant_owner_membership_id_fkey = References(
        [tenant, owner_membership_id], "memberships", ["tenant", "id"]
    )
    deals_customer = Index("(tenant, customer_id)")
    deals_open = Index("(tenant, customer_id, stage) WHERE stage NOT IN ('won', 'lost')")
    deals_owner = Index("(tenant, owner_membership_id, created_at DESC, id DESC)")
    deals_pipeline = Index(
        "(tenant, expected_close_date)"
        " INCLUDE (stage, owner_membership_id, customer_id, currency, amount, probability)"
    )
    deals_recent = Index("(tenant, created_at DESC, id DESC)")


class DealStageChange(Table, tablename="deal_stage_changes", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    deal_id = UUID(default=None)
    from_stage = Varchar(length=20, null=True, default=None)
    to_stage = Varchar(length=20, default=None)
    reason = Text(null=True, default=None)
    actor = UUID(null=True, default=None)
    approval_id = UUID(null=True, default=None)
    at = Timestamptz()

    deal_stage_changes_tenant_actor_fkey = References([tenant, actor], "memberships", ["tenant", "id"])
    deal_stage_changes_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    deal_stage_changes_closing = Index("(tenant, at) INCLUDE (deal_id) WHERE to_stage IN ('signed', 'won')")
    deal_stage_changes_deal = Index("(tenant, deal_id, at, id)")
    deal_stage_changes_field_closing = Index(
        "(tenant, at) INCLUDE (deal_id, to_stage) WHERE to_stage IN ('signed', 'won', 'lost')"
    )


class DealStageRules(Table, tablename="deal_stage_rules", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    rules = JSONB(default=None)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz()


class Quote(Table, tablename="quotes", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    deal_id = UUID(default=None)
    round = SmallInt(default=None)
    formal = Boolean(default=True)
    currency = Char(length=3, default=None)
    tax_rate = Numeric(digits=(5, 2), default=None)
    valid_until = Date(default=None)
    status = Varchar(length=10, default="draft")
    needs_approval = Boolean(default=None)
    subtotal = Numeric(digits=(14, 2), default=None)
    discount = Numeric(digits=(14, 2), default=None)
    tax = Numeric(digits=(14, 2), default=None)
    total = Numeric(digits=(14, 2), default=None)
    note = Text(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)

    quotes_tenant_deal_id_round_key = Unique([tenant, deal_id, round])
    quotes_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    quotes_tenant_deal_id_fkey = References([tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE")


class QuoteLine(Table, tablename="quote_lines", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    quote_id = UUID(default=None)
    line_no = SmallInt(default=None)
    product_id = UUID(default=None)
    sku = Varchar(length=64, default=None)
    name = Varchar(length=200, default=None)
    edition = Varchar(length=100, null=True, default=None)
    unit = Varchar(length=20, default=None)
    quantity = Numeric(digits=(12, 2), default=None)
    list_price = Numeric(digits=(14, 2), default=None)
    floor_price = Numeric(digits=(14, 2), default=None)
    unit_price = Numeric(digits=(14, 2), default=None)
    discount_percent = Numeric(digits=(5, 2), default=None)
    amount = Numeric(digits=(14, 2), default=None)
    below_floor = Boolean(default=None)

    quote_lines_tenant_quote_id_line_no_key = Unique([tenant, quote_id, line_no])
    quote_lines_tenant_product_id_fkey = References([tenant, product_id], "products", ["tenant", "id"])
    quote_lines_tenant_quote_id_fkey = References(
        [tenant, quote_id], "quotes", ["tenant", "id"], on_delete="CASCADE"
    )


class Approval(Table, tablename="approvals", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    kind = Varchar(length=20, default=None)
    subject_id = UUID(default=None)
    deal_id = UUID(null=True, default=None)
    territory_id = UUID(null=True, default=None)
    requested_by = UUID(null=True, default=None)
    status = Varchar(length=10, default="pending")
    payload = JSONB()
    comment = Text(null=True, default=None)
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    approvals_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    approvals_tenant_decided_by_fkey = References([tenant, decided_by], "memberships", ["tenant", "id"])
    approvals_tenant_requested_by_fkey = References([tenant, requested_by], "memberships", ["tenant", "id"])
    approvals_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="SET NULL (territory_id)"
    )
    approvals_inbox = Index("(tenant, status, created_at DESC, id DESC)")
    approvals_one_pending = Index("(tenant, kind, subject_id) WHERE status = 'pending'", unique=True)


class ContractTerms(Table, tablename="contract_terms", db=DB):
    tenant = UUID(primary_key=True, default=None)
    deal_id = UUID(primary_key=True, default=None)
    quote_id = UUID(null=True, default=None)
    party_a_full_name = Varchar(length=200, null=True, default=None)
    party_a_address = Varchar(length=500, null=True, default=None)
    party_a_contact = Varchar(length=100, null=True, default=None)
    party_a_phone = Varchar(length=40, null=True, default=None)
    free_upgrade_years = SmallInt(default=1)
    onsite_service_chargeable = Boolean(default=True)
    onsite_fee_per_day = Numeric(digits=(14, 2), null=True, default=None)
    delivery_percent = SmallInt(default=60)
    stable_weeks = SmallInt(default=2)
    installation_days = SmallInt(default=30)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz()
    milestones = JSONB(null=True, default=None)

    contract_terms_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    contract_terms_tenant_quote_id_fkey = References(
        [tenant, quote_id], "quotes", ["tenant", "id"], on_delete="SET NULL (quote_id)"
    )


class DealContract(Table, tablename="deal_contracts", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    deal_id = UUID(default=None)
    document_id = UUID(null=True, default=None)
    quote_id = UUID(null=True, default=None)
    total = Numeric(digits=(14, 2), default=None)
    currency = Char(length=3, default=None)
    milestones = JSONB(default=None)
    status = Varchar(length=10, default="rendered")
    envelope_id = UUID(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    voided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    deal_contracts_tenant_document_id_key = Unique([tenant, document_id])
    deal_contracts_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    deal_contracts_tenant_document_id_fkey = References([tenant, document_id], "documents", ["tenant", "id"])
    deal_contracts_tenant_quote_id_fkey = References([tenant, quote_id], "quotes", ["tenant", "id"])
    deal_contracts_deal = Index("(tenant, deal_id, created_at DESC, id DESC)")
    deal_contracts_one_signed = Index("(tenant, deal_id) WHERE status = 'signed'", unique=True)


class Collection(Table, tablename="collections", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    deal_id = UUID(default=None)
    seq = SmallInt(default=None)
    code = Varchar(length=10, default=None)
    percent = SmallInt(default=None)
    amount = Numeric(digits=(14, 2), default=None)
    currency = Char(length=3, default=None)
    due_date = Date(default=None)
    paid_at = Timestamptz(null=True, default=None)
    paid_amount = Numeric(digits=(14, 2), null=True, default=None)
    paid_by = UUID(null=True, default=None)
    created_at = Timestamptz()

    collections_tenant_deal_id_seq_key = Unique([tenant, deal_id, seq])
    collections_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    collections_tenant_paid_by_fkey = References([tenant, paid_by], "memberships", ["tenant", "id"])
    collections_deal_due = Index("(tenant, deal_id, due_date)")
    collections_due = Index("(tenant, due_date) WHERE paid_at IS NULL")
    collections_list = Index("(tenant, due_date, id)")
    collections_paid_at_field = Index(
        "(tenant, paid_at) INCLUDE (deal_id, paid_amount, currency) WHERE paid_at IS NOT NULL"
    )


class CollectionPayment(Table, tablename="collection_payments", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    collection_id = UUID(default=None)
    amount = Numeric(digits=(14, 2), default=None)
    currency = Char(length=3, default=None)
    paid_on = Date(default=None)
    note = Text(null=True, default=None)
    actor = UUID(null=True, default=None)
    created_at = Timestamptz()

    collection_payments_tenant_actor_fkey = References([tenant, actor], "memberships", ["tenant", "id"])
    collection_payments_tenant_collection_id_fkey = References(
        [tenant, collection_id], "collections", ["tenant", "id"], on_delete="CASCADE"
    )
    collection_payments_field_paid_on = Index("(tenant, paid_on) INCLUDE (collection_id, amount, currency)")
    collection_payments_item = Index("(tenant, collection_id, created_at, id)")


class VendorRegistration(Table, tablename="vendor_registrations", db=DB):
    """A deal's project registration with the software vendor (项目报备)."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    deal_id = UUID(default=None)
    customer_id = UUID(default=None)
    territory_id = UUID(null=True, default=None)
    vendor = Varchar(length=100, default=None)
    registration_no = Varchar(length=100, default=None)
    registered_on = Date(default=None)
    protected_until = Date(default=None)
    status = Varchar(length=10, default="active")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    vendor_registrations_tenant_deal_id_key = Unique([tenant, deal_id])
    vendor_registrations_tenant_vendor_registration_no_key = Unique([tenant, vendor, registration_no])
    vendor_registrations_tenant_fkey = References([tenant], "tenants", ["id"])
    vendor_registrations_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    vendor_registrations_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    vendor_registrations_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="SET NULL (territory_id)"
    )
    vendor_registrations_tenant_created_by_fkey = References(
        [tenant, created_by], "memberships", ["tenant", "id"]
    )
    vendor_registrations_expiry = Index("(tenant, vendor, protected_until, id)")
    vendor_registrations_live = Index("(tenant, customer_id) WHERE status = 'active'")


class CommissionRules(Table, tablename="commission_rules", db=DB):
    """The tenant's commission split rule (``app.deals.commission``)."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    ownership_weight = SmallInt(default=None)
    stages_weight = SmallInt(default=None)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz()

    commission_rules_tenant_updated_by_fkey = References(
        [tenant, updated_by], "memberships", ["tenant", "id"]
    )


class CommissionSplit(Table, tablename="commission_splits", db=DB):
    """A won deal's confirmed commission split."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    deal_id = UUID(default=None)
    rule = JSONB(default=None)
    suggested = JSONB(default=None)
    confirmed_by = UUID(default=None)
    confirmed_at = Timestamptz()

    commission_splits_tenant_deal_id_key = Unique([tenant, deal_id])
    commission_splits_tenant_confirmed_by_fkey = References(
        [tenant, confirmed_by], "memberships", ["tenant", "id"]
    )
    commission_splits_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    commission_splits_recent = Index("(tenant, confirmed_at DESC, id DESC)")


class CommissionSplitShare(Table, tablename="commission_split_shares", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    split_id = UUID(primary_key=True, default=None)
    membership_id = UUID(primary_key=True, default=None)
    percent = Numeric(digits=(5, 2), default=None)

    commission_split_shares_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"]
    )
    commission_split_shares_tenant_split_id_fkey = References(
        [tenant, split_id], "commission_splits", ["tenant", "id"], on_delete="CASCADE"
    )


class DealServicePeriod(Table, tablename="deal_service_periods", db=DB):
    """A won deal's free-upgrade and maintenance period, its acceptance and its renewal."""

    tenant = UUID(primary_key=True, default=None)
    deal_id = UUID(primary_key=True, default=None)
    starts_on = Date(default=None)
    months = SmallInt(default=None)
    accepted_at = Timestamptz(null=True, default=None)
    acceptance_document_id = UUID(null=True, default=None)
    renewal_deal_id = UUID(null=True, default=None)
    return_visit_id = UUID(null=True, default=None)
    renewed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()

    deal_service_periods_tenant_fkey = References([tenant], "tenants", ["id"])
    deal_service_periods_tenant_deal_id_fkey = References(
        [tenant, deal_id], "deals", ["tenant", "id"], on_delete="CASCADE"
    )
    deal_service_periods_tenant_renewal_deal_id_fkey = References(
        [tenant, renewal_deal_id], "deals", ["tenant", "id"], on_delete="SET NULL (renewal_deal_id)"
    )
    deal_service_periods_tenant_acceptance_document_id_fkey = References(
        [tenant, acceptance_document_id], "documents", ["tenant", "id"]
    )
    deal_service_periods_due = Index("(tenant, starts_on) WHERE renewal_deal_id IS NULL")
