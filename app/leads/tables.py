"""Inbound leads: inquiry forms, intake idempotency records, the lead log (tenant tables, under RLS)."""

from piccolo.columns import JSONB, UUID, Boolean, Bytea, Timestamptz, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References


class LeadForm(Table, tablename="lead_forms", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    slug = Varchar(length=40, default=None)
    name = Varchar(length=100, default=None)
    territory_id = UUID(null=True, default=None)
    fields = JSONB(default="[]")
    thank_you = Varchar(length=1000, default="")
    active = Boolean(default=True)
    created_by = UUID(default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    lead_forms_tenant_fkey = References([tenant], "tenants", ["id"])
    lead_forms_tenant_slug_key = Unique([tenant, slug])
    lead_forms_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="SET NULL (territory_id)"
    )
    lead_forms_tenant_created_by_fkey = References([tenant, created_by], "memberships", ["tenant", "id"])


class LeadRequest(Table, tablename="lead_requests", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    client = Varchar(length=60, default=None)
    idempotency_key = Varchar(length=200, default=None)
    body_hash = Bytea(default=None)
    response = JSONB(null=True, default=None)
    created_at = Timestamptz()

    lead_requests_tenant_fkey = References([tenant], "tenants", ["id"])
    lead_requests_tenant_client_idempotency_key_key = Unique([tenant, client, idempotency_key])
    lead_requests_age = Index("(tenant, created_at)")


class Lead(Table, tablename="leads", db=DB):
    tenant = UUID(primary_key=True, default=None)
    id = UUID(primary_key=True)
    channel = Varchar(length=10, default=None)
    form_id = UUID(null=True, default=None)
    api_key_id = UUID(null=True, default=None)
    customer_id = UUID(default=None)
    outcome = Varchar(length=10, default=None)
    contact_name = Varchar(length=100, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    message = Varchar(length=2000, null=True, default=None)
    created_at = Timestamptz()

    leads_tenant_fkey = References([tenant], "tenants", ["id"])
    leads_tenant_customer_id_fkey = References(
        [tenant, customer_id], "customers", ["tenant", "id"], on_delete="CASCADE"
    )
    leads_tenant_form_id_fkey = References(
        [tenant, form_id], "lead_forms", ["tenant", "id"], on_delete="SET NULL (form_id)"
    )
    leads_tenant_api_key_id_fkey = References([tenant, api_key_id], "api_keys", ["tenant", "id"])
    leads_customer = Index("(tenant, customer_id, created_at)")
    leads_recent = Index("(tenant, created_at DESC)")
