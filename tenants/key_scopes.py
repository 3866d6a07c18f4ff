"""API key scopes and the key's shape: what a key may be allowed, and how a route says which scope it
needs. The one rule (``tenants.scope.provide_tenant_scope``): a request made with a key reaches a route
only when the route declares a scope (``opt=needs("customers:read")``) and the key holds it; a route
that declares none refuses every key (403). Approvals are never declared: a key cannot decide them.

A key reads ``acre_<tenant hex>_<prefix>_<secret>``: the tenant and the prefix find its row (inside
the tenant, under row-level security), the sha256 of the whole key must match the stored one."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from uuid import UUID

from app.i18n import N_

OPT_KEY = "api_key_scope"  # the route handler ``opt`` entry naming the scope a key needs there

# scope -> what it allows (shown where keys are made)
SCOPES: dict[str, str] = {
    "leads:write": N_("Send leads (POST /api/v1/leads)"),
    "customers:read": N_("Read customers"),
    "deals:read": N_("Read deals and the pipeline"),
    "territories:read": N_("Read the territories (ids for leads)"),
}

_SHAPE = re.compile(r"^acre_([0-9a-f]{32})_([0-9a-f]{12})_([0-9a-f]{48})$")


def needs(scope: str) -> dict[str, str]:
    """The ``opt`` of a route that a key holding ``scope`` may call."""
    if scope not in SCOPES:
        raise ValueError(f"no API key scope {scope!r}")
    return {OPT_KEY: scope}


@dataclass(frozen=True, slots=True)
class KeyParts:
    tenant_id: UUID
    prefix: str
    digest: bytes


def looks_like_key(token: str) -> bool:
    """Whether a bearer token is an API key (a session token is 43 url-safe characters)."""
    return token.startswith("acre_")


def parse(token: str) -> KeyParts | None:
    """The tenant, prefix and digest of a well-formed key; ``None`` otherwise."""
    match = _SHAPE.match(token)
    if match is None:
        return None
    return KeyParts(UUID(hex=match[1]), match[2], digest(token))


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_key(tenant_id: UUID) -> tuple[str, str]:
    """A fresh key of ``tenant_id`` (192 random bits) and its prefix."""
    prefix = secrets.token_hex(6)
    return f"acre_{tenant_id.hex}_{prefix}_{secrets.token_hex(24)}", prefix
