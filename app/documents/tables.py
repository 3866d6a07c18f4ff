"""Documents' tables (tenant tables under RLS; the schema is the SQL migration)."""

from piccolo.columns import JSONB, UUID, Boolean, Char, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class DocumentTemplate(Table, tablename="document_templates", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    kind = Varchar(length=40, default=None)
    locale = Varchar(length=10, default=None)
    version = Integer(default=None)
    filename = Varchar(length=255, default=None)
    storage_key = Varchar(length=300, default=None)
    sha256 = Char(length=64, default=None)
    size_bytes = Integer(default=None)
    active = Boolean()
    uploaded_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    activated_at = Timestamptz(null=True, default=None)
    needs = JSONB(null=True, default=None)

    document_templates_tenant_kind_locale_version_key = Unique([tenant, kind, locale, version])
    document_templates_tenant_uploaded_by_fkey = References(
        [tenant, uploaded_by], "memberships", ["tenant", "id"]
    )
    document_templates_active = Index("(tenant, kind, locale) WHERE active", unique=True)
    document_templates_recent = Index("(tenant, created_at DESC, id DESC)")


class Document(Table, tablename="documents", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    idempotency_key = Varchar(length=200, default=None)
    kind = Varchar(length=40, default=None)
    locale = Varchar(length=10, default=None)
    subject_type = Varchar(length=40, default=None)
    subject_id = Varchar(length=100, default=None)
    template_id = UUID(null=True, default=None)
    template_version = Integer(null=True, default=None)
    template_sha256 = Char(length=64, null=True, default=None)
    status = Varchar(length=10, default="queued")
    failure_reason = Text(null=True, default=None)
    last_error = Text(null=True, default=None)
    data = JSONB(null=True, default=None)
    data_sha256 = Char(length=64, null=True, default=None)
    docx_key = Varchar(length=300, null=True, default=None)
    docx_sha256 = Char(length=64, null=True, default=None)
    docx_size = Integer(null=True, default=None)
    pdf_key = Varchar(length=300, null=True, default=None)
    pdf_sha256 = Char(length=64, null=True, default=None)
    pdf_size = Integer(null=True, default=None)
    pdf_note = Text(null=True, default=None)
    converter = Varchar(length=20, null=True, default=None)
    timings = JSONB()
    attempts = Integer()
    claimed_by = Varchar(length=200, null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    generated_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    profile_version_id = UUID(null=True, default=None)
    rendered_template_sha256 = Char(length=64, null=True, default=None)

    documents_tenant_idempotency_key_key = Unique([tenant, idempotency_key])
    documents_tenant_generated_by_fkey = References([tenant, generated_by], "memberships", ["tenant", "id"])
    documents_tenant_profile_version_id_fkey = References(
        [tenant, profile_version_id], "company_profile_versions", ["tenant", "id"]
    )
    documents_tenant_template_id_fkey = References(
        [tenant, template_id], "document_templates", ["tenant", "id"]
    )
    documents_recent = Index("(tenant, created_at DESC, id DESC)")
    documents_subject = Index("(tenant, subject_type, subject_id, created_at DESC, id DESC)")
