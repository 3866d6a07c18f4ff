"""Users, password hashing and session tokens. Knows nothing of tenants beyond an id."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.db import Tx
from app.errors import ValidationFailed
from app.settings import get_settings

_hasher = PasswordHash((Argon2Hasher(),))
# A hash of a random password, verified against when the email is unknown, so that timing does not
# reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_COMMON = {"password", "12345678", "123456789", "1234567890", "qwertyuiop", "iloveyou", "admin123", "acre"}


def normalize_email(email: str, field: str = "email") -> str:
    email = email.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise ValidationFailed.field(field, "Enter a valid email address")
    return email.lower()


def check_password_strength(password: str, field: str = "password") -> None:
    """Raise 422 for a password that is too short, too simple or too common."""
    if len(password) < 10:
        raise ValidationFailed.field(field, "Use at least {n} characters", n=10)
    if len(password) > 256:
        raise ValidationFailed.field(field, "Use at most {n} characters", n=256)
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    if classes < 2 or len(set(password)) < 5 or password.lower() in _COMMON:
        raise ValidationFailed.field(field, "This password is too easy to guess")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a cookie session: derived from it, so nothing more is stored."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, b"csrf:" + token_hash(session_token), hashlib.sha256).hexdigest()


async def find_user_by_email(tx: Tx, email: str) -> dict[str, object] | None:
    row = await tx.fetchrow(
        "SELECT id, email, name, password_hash, locale FROM users WHERE lower(email) = lower($1)", email
    )
    return dict(row) if row else None


async def create_user(tx: Tx, email: str, name: str, password: str, locale: str | None = None) -> UUID:
    """Insert a user; the caller has checked the email is free (a race ends in a unique violation)."""
    check_password_strength(password)
    user_id: UUID = await tx.fetchval(
        "INSERT INTO users (email, name, password_hash, locale) VALUES ($1, $2, $3, $4) RETURNING id",
        email,
        name,
        hash_password(password),
        locale,
    )
    return user_id


async def create_session(
    tx: Tx, user_id: UUID, tenant_id: UUID, ip: str | None, user_agent: str | None
) -> tuple[str, datetime]:
    """Create a session and return its token (shown once; only its hash is stored) and expiry."""
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=get_settings().session_ttl_hours)
    await tx.execute(
        "INSERT INTO sessions (token_hash, user_id, tenant, expires_at, ip, user_agent)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        token_hash(token),
        user_id,
        tenant_id,
        expires,
        ip,
        (user_agent or "")[:500],
    )
    return token, expires


async def revoke_session(tx: Tx, token: str) -> None:
    await tx.execute(
        "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash(token),
    )


async def revoke_user_sessions(tx: Tx, user_id: UUID) -> int:
    """End every session of the user, in every tenant; returns how many were open."""
    status = await tx.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", user_id
    )
    return int(status.split()[-1])
