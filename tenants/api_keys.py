"""API keys for integrations (owners and admins): create one (the secret is answered once and kept
only as its sha256), list them with their last use, revoke one. Authenticating with a key and what it
may reach is ``tenants.scope`` (``resolve_api_key``) and ``tenants.key_scopes``."""

from __future__ import annotations

from uuid import UUID

from app import audit
from app.errors import NotFound
from app.rows import to_struct
from tenants import key_scopes
from tenants.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from tenants.scope import TenantScope

_SELECT = (
    "SELECT k.id, k.name, k.prefix, k.scopes, k.created_at, u.name AS created_by_name, k.last_used_at,"
    " k.revoked_at FROM api_keys k"
    " JOIN memberships m ON m.tenant = k.tenant AND m.id = k.created_by"
    " JOIN users u ON u.id = m.user_id WHERE k.tenant = $1"
)


async def create_key(scope: TenantScope, data: ApiKeyCreate) -> ApiKeyCreated:
    scope.require("admin")
    scope.require_person()
    secret, prefix = key_scopes.new_key(scope.tenant_id)
    async with scope.tx() as tx:
        key_id: UUID = await tx.fetchval(
            "INSERT INTO api_keys (tenant, prefix, secret_hash, name, scopes, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            scope.tenant_id,
            prefix,
            key_scopes.digest(secret),
            data.name.strip() or data.name,
            sorted(set(data.scopes)),
            scope.membership_id,
        )
        await audit.record(
            tx, scope.user_id, "api_key.created", "api_key", key_id, data={"scopes": sorted(set(data.scopes))}
        )
        row = await tx.fetchrow(_SELECT + " AND k.id = $2", scope.tenant_id, key_id)
    assert row is not None
    return ApiKeyCreated(key=to_struct(ApiKeyRead, row), secret=secret)


async def list_keys(scope: TenantScope) -> list[ApiKeyRead]:
    """Every key of the company, live ones first, newest first (a company has a handful)."""
    scope.require("admin")
    async with scope.tx() as tx:
        rows = await tx.fetch(
            _SELECT + " ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id", scope.tenant_id
        )
    return [to_struct(ApiKeyRead, r) for r in rows]


async def revoke_key(scope: TenantScope, key_id: UUID) -> ApiKeyRead:
    """Revoke a key (idempotent: the first revocation's time stays); its next request is 401."""
    scope.require("admin")
    scope.require_person()
    async with scope.tx() as tx:
        done = await tx.fetchval(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()),"
            " revoked_by = coalesce(revoked_by, $3) WHERE tenant = $1 AND id = $2 RETURNING id",
            scope.tenant_id,
            key_id,
            scope.membership_id,
        )
        if done is None:
            raise NotFound("No API key with this id")
        await audit.record(tx, scope.user_id, "api_key.revoked", "api_key", key_id)
        row = await tx.fetchrow(_SELECT + " AND k.id = $2", scope.tenant_id, key_id)
    assert row is not None
    return to_struct(ApiKeyRead, row)
