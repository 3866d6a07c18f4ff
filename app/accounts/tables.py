"""Users (one per email, across tenants) and their sessions.

Global tables: they are looked up before a tenant is known."""

from piccolo.columns import UUID, Bytea, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db import DB


class User(Table, tablename="users", db=DB):
    id = UUID(primary_key=True)
    email = Varchar(length=320)
    name = Varchar(length=200)
    password_hash = Text()
    locale = Varchar(length=10, null=True)
    created_at = Timestamptz()


class Session(Table, tablename="sessions", db=DB):
    id = UUID(primary_key=True)
    token_hash = Bytea()
    user_id = UUID()
    tenant = UUID()
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True)
    ip = Varchar(length=64, null=True)
    user_agent = Text(null=True)
