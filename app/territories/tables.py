"""Territories (a tree per tenant, materialized path) and their members. Both under RLS."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References
from tenants.tables import Tenant


class Territory(Table, tablename="territories", db=DB):
    tenant = ForeignKey(
        Tenant, primary_key=True, null=False, on_delete=OnDelete.no_action, on_update=OnUpdate.no_action
    )
    id = UUID(primary_key=True, default=None)
    parent_id = UUID(null=True, default=None)
    name = Varchar(length=200, default=None)
    level = Varchar(length=20, default=None)
    path = Text(default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    territories_tenant_parent_id_fkey = References([tenant, parent_id], "territories", ["tenant", "id"])
    territories_path = Index("(tenant, path)", unique=True)
    territories_sibling_name = Index("(tenant, parent_id, name) NULLS NOT DISTINCT", unique=True)


class TerritoryMember(Table, tablename="territory_members", db=DB):
    tenant = UUID(primary_key=True, default=None)
    territory_id = UUID(primary_key=True, default=None)
    membership_id = UUID(primary_key=True, default=None)
    role = Varchar(length=10, default=None)
    created_at = Timestamptz()

    territory_members_tenant_membership_id_fkey = References(
        [tenant, membership_id], "memberships", ["tenant", "id"], on_delete="CASCADE"
    )
    territory_members_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    territory_members_member = Index("(tenant, membership_id, role)")


class InvitationTerritory(Table, tablename="invitation_territories", db=DB):
    """A territory an invitation carries, with the invitee's role there once they accept."""

    tenant = UUID(primary_key=True, default=None)
    invitation_id = UUID(primary_key=True, default=None)
    territory_id = UUID(primary_key=True, default=None)
    role = Varchar(length=10, default=None)

    invitation_territories_tenant_invitation_id_fkey = References(
        [tenant, invitation_id], "invitations", ["tenant", "id"], on_delete="CASCADE"
    )
    invitation_territories_tenant_territory_id_fkey = References(
        [tenant, territory_id], "territories", ["tenant", "id"], on_delete="CASCADE"
    )
    invitation_territories_territory = Index("(tenant, territory_id)")
