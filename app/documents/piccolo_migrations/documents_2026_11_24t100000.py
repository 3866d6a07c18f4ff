"""Documents: tenants' template versions and generated documents (DOCX + PDF in object storage)."""

from app.migrating import sql_migration

ID = "2026-11-24T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents: template versions, generated documents"

SQL = """
-- One row per uploaded template version. The file is in object storage under a key fixed by
-- (tenant, kind, locale, version); sha256 detects a changed object. At most one active version per
-- kind and locale; with none active the built-in default in doc_templates/ is used.
CREATE TABLE document_templates (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    kind varchar(40) NOT NULL,
    locale varchar(10) NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    version integer NOT NULL CHECK (version > 0),
    filename varchar(255) NOT NULL,
    storage_key varchar(300) NOT NULL,
    sha256 char(64) NOT NULL,
    size_bytes integer NOT NULL,
    active boolean NOT NULL DEFAULT false,
    uploaded_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    UNIQUE (tenant, id),
    UNIQUE (tenant, kind, locale, version),
    FOREIGN KEY (tenant, uploaded_by) REFERENCES memberships (tenant, id)
);
CREATE UNIQUE INDEX document_templates_active ON document_templates (tenant, kind, locale) WHERE active;
CREATE INDEX document_templates_recent ON document_templates (tenant, created_at DESC, id DESC);
SELECT acre_enable_rls('document_templates');

-- A generated document. The render job moves it queued -> rendering -> ready | failed; the data it
-- was rendered from is kept as a JSON snapshot with its sha256, and each stored file with its sha256.
CREATE TABLE documents (
    tenant uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    idempotency_key varchar(200) NOT NULL,
    kind varchar(40) NOT NULL,
    locale varchar(10) NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    subject_type varchar(40) NOT NULL,
    subject_id varchar(100) NOT NULL,
    template_id uuid,
    template_version integer,
    template_sha256 char(64),
    status varchar(10) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'rendering', 'ready', 'failed')),
    failure_reason text,
    last_error text,
    data jsonb,
    data_sha256 char(64),
    docx_key varchar(300),
    docx_sha256 char(64),
    docx_size integer,
    pdf_key varchar(300),
    pdf_sha256 char(64),
    pdf_size integer,
    pdf_note text,
    converter varchar(20),
    timings jsonb NOT NULL DEFAULT '{}',
    attempts integer NOT NULL DEFAULT 0,
    claimed_by varchar(200),
    claimed_at timestamptz,
    generated_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    UNIQUE (tenant, id),
    UNIQUE (tenant, idempotency_key),
    FOREIGN KEY (tenant, template_id) REFERENCES document_templates (tenant, id),
    FOREIGN KEY (tenant, generated_by) REFERENCES memberships (tenant, id)
);
CREATE INDEX documents_subject ON documents (tenant, subject_type, subject_id, created_at DESC, id DESC);
CREATE INDEX documents_recent ON documents (tenant, created_at DESC, id DESC);
SELECT acre_enable_rls('documents');
"""

forwards = sql_migration(ID, "documents", DESCRIPTION, SQL)
