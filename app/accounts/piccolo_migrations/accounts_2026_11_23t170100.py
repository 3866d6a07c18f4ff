"""Accounts: users and sessions."""

from app.migrating import sql_migration

ID = "2026-11-23T17:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts: users, sessions"

SQL = """
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email varchar(320) NOT NULL,
    name varchar(200) NOT NULL,
    password_hash text NOT NULL,
    locale varchar(10),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- Sessions are global: the token is resolved before the tenant is known (see acre_session()).
CREATE TABLE sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    ip varchar(64),
    user_agent text
);
CREATE INDEX sessions_user ON sessions (user_id);
"""

forwards = sql_migration(ID, "accounts", DESCRIPTION, SQL)
