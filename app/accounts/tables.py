"""Users (one per email, across tenants), their sessions and password resets.

Global tables: they are looked up before a tenant is known."""

from piccolo.columns import UUID, Bytea, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnUpdate
from piccolo.table import Table

from app.db import DB
from app.table_schema import Index, References


class User(Table, tablename="users", db=DB):
    id = UUID(primary_key=True)
    email = Varchar(length=320, default=None)
    name = Varchar(length=200, default=None)
    password_hash = Text(default=None)
    locale = Varchar(length=10, null=True, default=None)
    created_at = Timestamptz()

    users_email = Index("(lower(email))", unique=True)


class Session(Table, tablename="sessions", db=DB):
    id = UUID(primary_key=True)
    token_hash = Bytea(default=None, unique=True)
    user_id = ForeignKey(User, null=False, on_update=OnUpdate.no_action)
    tenant = UUID(default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz(default=None)
    revoked_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, null=True, default=None)
    user_agent = Text(null=True, default=None)

    sessions_tenant_fk = References([tenant], "tenants", ["id"], on_delete="CASCADE")
    sessions_user = Index("(user_id)")


class PasswordReset(Table, tablename="password_resets", db=DB):
    id = UUID(primary_key=True)
    user_id = ForeignKey(User, null=False, on_update=OnUpdate.no_action)
    token_hash = Bytea(default=None, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(default=None)
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    ip = Varchar(length=64, null=True, default=None)

    password_resets_user = Index("(user_id, created_at DESC)")
