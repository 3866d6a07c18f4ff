"""In-app notifications for one member (a tenant table under RLS; the schema is the SQL migration)."""

from piccolo.columns import JSONB, UUID, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class Notification(Table, tablename="notifications", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    membership_id = UUID()
    kind = Varchar(length=40)
    subject_type = Varchar(length=40, null=True)
    subject_id = UUID(null=True)
    params = JSONB()
    dedupe_key = Varchar(length=200, null=True)
    created_at = Timestamptz()
    read_at = Timestamptz(null=True)
