"""Documents, with the company profile: a document records the profile version it is made with, and
a template version the values it cannot do without."""

from app.migrating import sql_migration

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents: company profile version, template needs"

SQL = """
-- The company profile version (Party B) a document is made with: the newest at request time; NULL
-- when the tenant had saved none.
ALTER TABLE documents ADD COLUMN profile_version_id uuid;
ALTER TABLE documents ADD CONSTRAINT documents_tenant_profile_version_id_fkey
    FOREIGN KEY (tenant, profile_version_id) REFERENCES company_profile_versions (tenant, id);

-- The variable paths the template prints unguarded (a JSON array), found at upload: a document
-- leaving one blank is refused. NULL for versions uploaded before this was recorded (the render job
-- still checks them).
ALTER TABLE document_templates ADD COLUMN needs jsonb;
"""

forwards = sql_migration(ID, "documents", DESCRIPTION, SQL)
