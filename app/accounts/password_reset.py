"""Password reset by email: a request mails a one-time link, the link sets a new password.

The request answers the same whether or not an account uses the email, and the route runs it after the
answer is sent, so that neither the answer nor its timing tells. A token is 32 random bytes, stored as
its sha256; it works once, expires after ``password_reset_ttl_minutes``, and a newer request revokes
the older link. An account gets at most one mail a minute (a further request within the minute mails
nothing). Setting the new password ends every session of the user (they sign in again) and lifts the
per-account lock on password attempts (``lockout``). The mail is account mail (``app.mail``): it
belongs to the user, not to any company."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

import asyncpg
import structlog

from app import db, i18n, mail, pages
from app.accounts import lockout
from app.accounts import service as accounts
from app.errors import Gone, NotFound
from app.settings import get_settings

log = structlog.get_logger(__name__)
Status = Literal["pending", "used", "expired", "revoked", "invalid"]
_MAIL_INTERVAL = "1 minute"
REQUESTED = i18n.N_("If an account uses this email, a link to choose a new password is on its way.")


def _status(row: asyncpg.Record | None) -> Status:
    if row is None:
        return "invalid"
    if row["used_at"]:
        return "used"
    if row["revoked_at"]:
        return "revoked"
    return "expired" if row["expires_at"] <= datetime.now(UTC) else "pending"


async def request_reset(email: str, locale: str, ip: str | None) -> None:
    """Mail a reset link to the account with this email, if there is one; nothing else either way.
    ``locale`` is the mail's language when the user has none of their own."""
    async with db.transaction(None) as tx:
        user = await accounts.find_user_by_email(tx, email)
    if user is None:
        return
    user_id = UUID(str(user["id"]))
    ttl = get_settings().password_reset_ttl_minutes
    token = secrets.token_urlsafe(32)
    async with db.transaction(None, user_id) as tx:
        # The user's row lock orders concurrent requests, so that the one-a-minute check holds.
        await tx.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
        if await tx.fetchval(
            "SELECT 1 FROM password_resets WHERE user_id = $1"
            f" AND created_at > now() - interval '{_MAIL_INTERVAL}'",
            user_id,
        ):
            log.info("password reset not mailed again within the minute", user_id=str(user_id))
            return
        await tx.execute(
            "UPDATE password_resets SET revoked_at = now()"
            " WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
            user_id,
        )
        reset_id = await tx.fetchval(
            "INSERT INTO password_resets (user_id, token_hash, expires_at, ip)"
            " VALUES ($1, $2, now() + make_interval(mins => $3), $4) RETURNING id",
            user_id,
            accounts.token_hash(token),
            ttl,
            ip,
        )
        await mail.queue_email(
            tx,
            to=str(user["email"]),
            template="password_reset",
            locale=i18n.normalize(str(user["locale"] or locale)),
            key=f"password-reset:{reset_id}",
            name=user["name"],
            link=pages.url(pages.PASSWORD_RESET, token=token),
            minutes=ttl,
        )
    log.info("password reset requested", user_id=str(user_id))


async def link(token: str) -> tuple[Status, str | None]:
    """What a reset link is now (pending: usable; used, expired, revoked; invalid: unknown) and the
    language of its user (None when unknown or unset)."""
    async with db.transaction(None) as tx:
        row = await tx.fetchrow(
            "SELECT r.used_at, r.revoked_at, r.expires_at, u.locale"
            " FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = $1",
            accounts.token_hash(token),
        )
    return _status(row), (row["locale"] if row else None)


async def reset_password(token: str, password: str) -> str:
    """Set the new password through a reset link and return the account's email. A weak password
    answers 422 (the link stays usable); an unknown link 404; a used, expired or revoked one 410."""
    accounts.check_password_strength(password)
    password_hash = accounts.hash_password(password)
    async with db.transaction(None) as tx:
        row = await tx.fetchrow(
            "SELECT r.id, r.user_id, r.used_at, r.revoked_at, r.expires_at, u.email"
            " FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = $1"
            " FOR UPDATE OF r",
            accounts.token_hash(token),
        )
        status = _status(row)
        if row is None:
            raise NotFound("This password reset link is not valid")
        if status != "pending":
            raise Gone(
                "This password reset link was used, has expired or was replaced; ask for a new one",
                extra={"status": status},
            )
        user_id: UUID = row["user_id"]
        await tx.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)
        await tx.execute("UPDATE password_resets SET used_at = now() WHERE id = $1", row["id"])
        await tx.execute(
            "UPDATE password_resets SET revoked_at = now()"
            " WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
            user_id,
        )
        ended = await accounts.revoke_user_sessions(tx, user_id)
    await lockout.clear(str(row["email"]))
    log.info("password reset", user_id=str(user_id), sessions_ended=ended)
    return str(row["email"])
