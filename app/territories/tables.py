"""Territories (a tree per tenant, materialized path) and their members. Both under RLS."""

from piccolo.columns import UUID, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class Territory(Table, tablename="territories", db=DB):
    id = UUID(primary_key=True)
    tenant = UUID(index=True)
    parent_id = UUID(null=True)
    name = Varchar(length=200)
    level = Varchar(length=20)
    path = Text()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class TerritoryMember(Table, tablename="territory_members", db=DB):
    tenant = UUID(index=True)
    territory_id = UUID()
    membership_id = UUID()
    role = Varchar(length=10)
    created_at = Timestamptz()
