"""Customers and what hangs off them. All tenant tables under RLS; the schema is the SQL migration."""

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Char,
    ForeignKey,
    Integer,
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


class Customer(Table, tablename="customers", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    full_name = Varchar(length=200, default=None)
    short_name = Varchar(length=100, null=True, default=None)
    tax_id = Varchar(length=18, null=True, default=None)
    address = Varchar(length=500, null=True, default=None)
    phone = Varchar(length=40, null=True, default=None)
    phone_digits = Varchar(length=40, null=True, default=None)
    industry = Varchar(length=100, null=True, default=None)
    size_revenue_band = Varchar(length=50, null=True, default=None)
    headcount = Integer(null=True, default=None)
    it_status = Varchar(length=20, default="none")
    current_software = Varchar(length=200, null=True, default=None)
    source = Varchar(length=20, null=True, default=None)
    referrer = Varchar(length=200, null=True, default=None)
    referrer_customer_id = UUID(null=True, default=None)
    grade = Char(length=1, default=None)
    status = Varchar(length=10, default="prospect")
    territory_id = UUID(default=None)
    owner_membership_id = UUID(null=True, default=None)
    identity_key = Text(default=None)
    name_key = Text(default=None)
    search_text = Text(default=None)
    last_followup_at = Timestamptz(null=True, default=None)
    next_followup_at = Timestamptz(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    owner_changed_at = Timestamptz()
    referrer_contact = Varchar(length=200, null=True, default=None)
    pool_id = UUID(default=None)
    pooled_at = Timestamptz(null=True, default=None)
    locked_at = Timestamptz(null=True, default=None)
    code_territory_id = UUID(null=True, default=None)
    cross_territory = Boolean(default=False)

    customers_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    customers_tenant_owner_membership_id_fkey = References(
        [tenant, owner_membership_id], "memberships", ["tenant", "id"]
    )
    customers_tenant_referrer_customer_id_fkey = References(
        [tenant, referrer_customer_id],
        "customers",
        ["tenant", "id"],
        on_delete="SET NULL (referrer_customer_id)",
    )
    customers_tenant_territory_id_fkey = References([tenant, territory_id], "territories", ["tenant", "id"])
    customers_tenant_pool_id_fkey = References([tenant, pool_id], "pools", ["tenant", "id"])
    customers_tenant_code_territory_id_fkey = References(
        [tenant, code_territory_id], "territories", ["tenant", "id"], on_delete="SET NULL (code_territory_id)"
    )
    customers_code_territory = Index("(tenant, code_territory_id) WHERE code_territory_id IS NOT NULL")
    customers_cross_territory = Index("(tenant, created_at DESC, id DESC) WHERE cross_territory")
    customers_identity = Index("(tenant, identity_key)", unique=True)
    customers_name_key = Index("(tenant, name_key)")
    customers_owner = Index("(tenant, owner_membership_id, created_at DESC, id DESC)")
    customers_phone = Index("(tenant, phone_digits) WHERE phone_digits IS NOT NULL")
    customers_pool = Index(
        "(tenant, territory_id, grade, last_followup_at NULLS FIRST, id)"
        " WHERE owner_membership_id IS NULL AND status IN ('prospect', 'lost')"
    )
    customers_pool_order = Index(
        "(tenant, last_followup_at NULLS FIRST, id)"
        " WHERE owner_membership_id IS NULL AND status IN ('prospect', 'lost')"
    )
    customers_recent = Index("(tenant, created_at DESC, id DESC)")
    customers_reclaim_clock = Index(
        "(tenant, grade, (GREATEST(last_followup_at, owner_changed_at)))"
        " WHERE owner_membership_id IS NOT NULL AND status = 'prospect'"
    )
    customers_referrer = Index("(tenant, referrer_customer_id) WHERE referrer_customer_id IS NOT NULL")
    customers_search = Index("USING gin (acre_search_grams(tenant, search_text))")
    customers_tax_id = Index("(tenant, tax_id) WHERE tax_id IS NOT NULL")
    customers_in_pool = Index(
        "(tenant, pool_id, last_followup_at NULLS FIRST, id)"
        " WHERE owner_membership_id IS NULL AND status IN ('prospect', 'lost')"
    )
    customers_pool_id = Index("(tenant, pool_id)")
    customers_locked = Index("(tenant, owner_membership_id) WHERE locked_at IS NOT NULL")
    customers_territory = Index("(tenant, territory_id, created_at DESC, id DESC)")


class CustomerGradeChange(Table, tablename="customer_grade_changes", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    from_grade = Char(length=1, null=True, default=None)
    to_grade = Char(length=1, default=None)
    changed_by = UUID(null=True, default=None)
    reason = Text(null=True, default=None)
    changed_at = Timestamptz()

    customer_grade_changes_tenant_changed_by_fkey = References(
        [tenant, changed_by], "memberships", ["tenant", "id"]
    )
    customer_grade_changes_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    customer_grade_changes_customer = Index("(tenant, customer_id, changed_at, id)")


class CustomerContact(Table, tablename="customer_contacts", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    name = Varchar(length=100, default=None)
    title = Varchar(length=100, null=True, default=None)
    phone = Varchar(length=40, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    decision_role = Varchar(length=20, default="other")
    influence = SmallInt(null=True, default=None)
    support = SmallInt(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    customer_contacts_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    customer_contacts_customer = Index("(tenant, customer_id, created_at, id)")


class CustomerFollowup(Table, tablename="customer_followups", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    author_membership_id = UUID(null=True, default=None)
    kind = Varchar(length=10, default=None)
    happened_at = Timestamptz(default=None)
    summary = Text(default=None)
    outcome = Text(null=True, default=None)
    next_followup_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    result = Varchar(length=12, null=True, default=None)

    customer_followups_tenant_author_membership_id_fkey = References(
        [tenant, author_membership_id], "memberships", ["tenant", "id"]
    )
    customer_followups_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    customer_followups_author = Index(
        "(tenant, author_membership_id, happened_at) INCLUDE (customer_id, kind, result)"
    )
    customer_followups_customer = Index("(tenant, customer_id, happened_at DESC, id DESC)")
    customer_followups_period = Index(
        "(tenant, happened_at) INCLUDE (author_membership_id, customer_id, kind, result)"
    )


class CustomerConflict(Table, tablename="customer_conflicts", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    customer_id = UUID(default=None)
    attempted_by = UUID(null=True, default=None)
    attempted_data = JSONB(default=None)
    territory_id = UUID(default=None)
    status = Varchar(length=10, default="open")
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = UUID(null=True, default=None)
    resolution = Text(null=True, default=None)

    customer_conflicts_tenant_attempted_by_fkey = References(
        [tenant, attempted_by], "memberships", ["tenant", "id"]
    )
    customer_conflicts_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    customer_conflicts_tenant_resolved_by_fkey = References(
        [tenant, resolved_by], "memberships", ["tenant", "id"]
    )
    customer_conflicts_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    customer_conflicts_open = Index("(tenant, territory_id, created_at DESC, id DESC) WHERE status = 'open'")
    customer_conflicts_recent = Index("(tenant, status, created_at DESC, id DESC)")


class OwnershipEntry(Table, tablename="customer_ownership_history", db=DB):
    """Append-only and hash-chained: written only through ``owner_changes.change_owners``."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = BigSerial(primary_key=True)
    seq = BigInt(default=None)
    customer_id = UUID(default=None)
    from_membership_id = UUID(null=True, default=None)
    to_membership_id = UUID(null=True, default=None)
    cause = Varchar(length=10, default=None)
    actor = UUID(null=True, default=None)
    reason = Text(null=True, default=None)
    plan_id = UUID(null=True, default=None)
    at = Timestamptz()
    prev_hash = Bytea(default=None)
    hash = Bytea(default=None)
    pool_id = UUID(null=True, default=None)

    customer_ownership_history_tenant_seq_key = Unique([tenant, seq])
    customer_ownership_history_claims = Index("(tenant, to_membership_id, at) WHERE cause = 'claim'")
    customer_ownership_history_customer = Index("(tenant, customer_id, seq)")
    customer_ownership_history_from = Index("(tenant, from_membership_id, seq)")
    customer_ownership_history_to = Index("(tenant, to_membership_id, seq)")


class OwnershipAnchor(Table, tablename="ownership_anchors", db=DB):
    """An RFC 3161 timestamp of the ledger's head (append-only): ``app.customers.anchors``."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    head_seq = BigInt(default=None)
    head_hash = Bytea(default=None)
    prev_token_sha256 = Bytea(null=True, default=None)
    token = Bytea(default=None)
    tsa_url = Text(default=None)
    stamped_at = Timestamptz(default=None)
    created_at = Timestamptz()

    ownership_anchors_tenant_head_seq_key = Unique([tenant, head_seq])


class PoolRuleSet(Table, tablename="pool_rules", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    rules = JSONB(default=None)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz()

    pool_rules_tenant_updated_by_fkey = References([tenant, updated_by], "memberships", ["tenant", "id"])


class Pool(Table, tablename="pools", db=DB):
    """A territory's own pool (``territory_id``) or one the tenant added (``name``)."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    territory_id = UUID(null=True, default=None)
    name = Varchar(length=100, null=True, default=None)
    kind = Varchar(length=20, default="custom")
    rules = JSONB(null=True, default=None)
    hidden_fields = Array(Text(), default=[])
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    pools_tenant_fkey = References([tenant], "tenants", ["id"])
    pools_tenant_territory_id_key = Unique([tenant, territory_id])
    pools_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    pools_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])
    pools_name = Index("(tenant, lower((name)::text)) WHERE territory_id IS NULL", unique=True)


class PoolScope(Table, tablename="pool_scopes", db=DB):
    """Who may claim from a pool: the members working a territory (or one below it), or a member."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    pool_id = UUID(default=None)
    territory_id = UUID(null=True, default=None)
    membership_id = UUID(null=True, default=None)

    pool_scopes_tenant_fkey = References([tenant], "tenants", ["id"])
    pool_scopes_tenant_pool_id_territory_id_key = Unique([tenant, pool_id, territory_id])
    pool_scopes_tenant_pool_id_membership_id_key = Unique([tenant, pool_id, membership_id])
    pool_scopes_tenant_pool_id_fkey = References(
        [tenant, pool_id], "pools", ["tenant", "id"], on_delete="CASCADE"
    )
    pool_scopes_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    pool_scopes_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )


class PoolAdmin(Table, tablename="pool_admins", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    pool_id = UUID(default=None)
    membership_id = UUID(default=None)

    pool_admins_tenant_fkey = References([tenant], "tenants", ["id"])
    pool_admins_tenant_pool_id_membership_id_key = Unique([tenant, pool_id, membership_id])
    pool_admins_tenant_pool_id_fkey = References(
        [tenant, pool_id], "pools", ["tenant", "id"], on_delete="CASCADE"
    )
    pool_admins_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    pool_admins_member = Index("(tenant, membership_id)")


class PoolCapOverride(Table, tablename="pool_cap_overrides", db=DB):
    """Caps of one territory or one member, over the pool's and the tenant's."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    territory_id = UUID(null=True, default=None)
    membership_id = UUID(null=True, default=None)
    owned_cap = Integer(null=True, default=None)
    daily_claim_cap = Integer(null=True, default=None)
    lock_cap = Integer(null=True, default=None)
    updated_by = UUID(null=True, default=None)
    updated_at = Timestamptz()

    pool_cap_overrides_tenant_fkey = References([tenant], "tenants", ["id"])
    pool_cap_overrides_tenant_territory_id_key = Unique([tenant, territory_id])
    pool_cap_overrides_tenant_membership_id_key = Unique([tenant, membership_id])
    pool_cap_overrides_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    pool_cap_overrides_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    pool_cap_overrides_tenant_updated_by_fkey = References(
        [tenant, updated_by], "memberships", ["tenant", "id"]
    )


class PoolReleaseReason(Table, tablename="pool_release_reasons", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    label = Varchar(length=100, default=None)
    position = Integer(default=None)

    pool_release_reasons_tenant_fkey = References([tenant], "tenants", ["id"])
    pool_release_reasons_tenant_label_key = Unique([tenant, label])


class CrossTerritoryGrant(Table, tablename="cross_territory_grants", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    customer_id = UUID(null=True, default=None)
    territory_id = UUID(null=True, default=None)
    reason = Text(null=True, default=None)
    granted_by = UUID(null=True, default=None)
    until = Timestamptz(default=None)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)

    cross_territory_grants_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_grants_tenant_granted_by_fkey = References(
        [tenant, granted_by], "memberships", ["tenant", "id"]
    )
    cross_territory_grants_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_grants_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_grants_member = Index("(tenant, membership_id, until) WHERE revoked_at IS NULL")
    cross_territory_grants_recent = Index("(tenant, created_at DESC, id DESC)")


class CrossTerritoryRequest(Table, tablename="cross_territory_requests", db=DB):
    """A member's request to work a customer or territory outside their own (跨区申请)."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    customer_id = UUID(null=True, default=None)
    territory_id = UUID(null=True, default=None)
    reason = Text(default=None)
    until = Timestamptz(default=None)
    status = Varchar(length=10, default="pending")
    comment = Text(null=True, default=None)
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    grant_id = UUID(null=True, default=None)
    created_at = Timestamptz()

    cross_territory_requests_tenant_fkey = References([tenant], "tenants", ["id"])
    cross_territory_requests_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_requests_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_requests_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_requests_tenant_decided_by_fkey = References(
        [tenant, decided_by], "memberships", ["tenant", "id"]
    )
    cross_territory_requests_tenant_grant_id_fkey = References(
        [tenant, grant_id], "cross_territory_grants", ["tenant", "id"], on_delete="CASCADE"
    )
    cross_territory_requests_one_pending = Index(
        "(tenant, membership_id, (coalesce(customer_id, territory_id))) WHERE status = 'pending'", unique=True
    )
    cross_territory_requests_mine = Index("(tenant, membership_id, created_at DESC, id DESC)")
    cross_territory_requests_recent = Index("(tenant, status, created_at DESC, id DESC)")


class CustomerImport(Table, tablename="customer_imports", db=DB):
    """One uploaded spreadsheet: queued -> validating -> importing -> done (or failed), with progress."""

    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True, default=None)
    created_by = UUID(default=None)
    locale = Varchar(length=10, default="en")
    filename = Varchar(length=255, default=None)
    file_format = Varchar(length=4, default=None)
    size_bytes = BigInt(default=None)
    storage_key = Text(default=None)
    mode = Varchar(length=16, default=None)
    default_owner = Varchar(length=4, default=None)
    default_territory_id = UUID(null=True, default=None)
    status = Varchar(length=10, default="queued")
    rows_total = Integer(null=True, default=None)
    rows_done = Integer()
    rows_imported = Integer()
    rows_rejected = Integer()
    written_through = Integer()
    pool_id = UUID(null=True, default=None)
    columns = JSONB()
    ignored_columns = JSONB(default="[]")
    error = Text(null=True, default=None)
    error_params = JSONB(null=True, default=None)
    report_key = Text(null=True, default=None)
    attempts = Integer()
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()

    customer_imports_tenant_created_by_fkey = References(
        [tenant, created_by], "memberships", ["tenant", "id"]
    )
    customer_imports_tenant_default_territory_id_fkey = References(
        [tenant, default_territory_id],
        "territories",
        ["tenant", "id"],
        on_delete="SET NULL (default_territory_id)",
    )
    customer_imports_tenant_pool_id_fkey = References(
        [tenant, pool_id], "pools", ["tenant", "id"], on_delete="SET NULL (pool_id)"
    )
    customer_imports_recent = Index("(tenant, created_by, created_at DESC, id DESC)")


class CustomerImportRow(Table, tablename="customer_import_rows", db=DB):
    """An import's row, checked and normalised; the imported ones are deleted when the import ends."""

    tenant = UUID(primary_key=True, default=None)
    import_id = UUID(primary_key=True, default=None)
    row_no = Integer(primary_key=True, default=None)
    ok = Boolean(default=None)
    errors = JSONB(default="[]")
    full_name = Text(null=True, default=None)
    short_name = Text(null=True, default=None)
    tax_id = Text(null=True, default=None)
    address = Text(null=True, default=None)
    phone = Text(null=True, default=None)
    phone_digits = Text(null=True, default=None)
    industry = Text(null=True, default=None)
    size_revenue_band = Text(null=True, default=None)
    headcount = Integer(null=True, default=None)
    it_status = Text(null=True, default=None)
    current_software = Text(null=True, default=None)
    source = Text(null=True, default=None)
    referrer = Text(null=True, default=None)
    grade = Text(null=True, default=None)
    status = Text(null=True, default=None)
    territory_id = UUID(null=True, default=None)
    owner_membership_id = UUID(null=True, default=None)
    identity_key = Text(null=True, default=None)
    name_key = Text(null=True, default=None)
    search_text = Text(null=True, default=None)
    customer_id = UUID(null=True, default=None)

    customer_import_rows_tenant_import_id_fkey = References(
        [tenant, import_id], "customer_imports", ["tenant", "id"], on_delete="CASCADE"
    )
    customer_import_rows_identity = Index("(tenant, import_id, identity_key)")
    customer_import_rows_rejected = Index("(tenant, import_id, row_no) WHERE NOT ok")


class TerritoryDivision(Table, tablename="territory_divisions", db=DB):
    """A division code (GB/T 2260) mapped to a territory: customers whose credit code lies in it
    belong there (``app/territories/division_map.py``)."""

    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    territory_id = UUID(default=None)
    code = Char(length=6, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()

    territory_divisions_tenant_fkey = References([tenant], "tenants", ["id"])
    territory_divisions_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    territory_divisions_tenant_created_by_fkey = References(
        [tenant, created_by], "memberships", ["tenant", "id"], on_delete="SET NULL (created_by)"
    )
    territory_divisions_tenant_code_key = Unique([tenant, code])
    territory_divisions_territory = Index("(tenant, territory_id)")
