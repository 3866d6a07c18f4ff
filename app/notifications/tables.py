"""In-app notifications for one member (a tenant table under RLS; the schema is the SQL migration)."""

from piccolo.columns import JSONB, UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.constraints import Unique
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class Notification(Table, tablename="notifications", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True)
    membership_id = UUID(default=None)
    kind = Varchar(length=40, default=None)
    subject_type = Varchar(length=40, null=True, default=None)
    subject_id = UUID(null=True, default=None)
    params = JSONB()
    dedupe_key = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)

    notifications_tenant_dedupe_key_key = Unique([tenant, dedupe_key])
    notifications_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    notifications_member = Index("(tenant, membership_id, created_at DESC, id DESC)")
    notifications_unread = Index("(tenant, membership_id, created_at DESC, id DESC) WHERE read_at IS NULL")
