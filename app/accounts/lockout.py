"""The per-account limit on password attempts, against credential stuffing: the per-address limit
(``app.rate_limits``) does not stop one account being tried from many addresses.

Failed attempts are counted per email (normalised, then keyed in Redis by an HMAC of it: the address
itself is never stored there) in a window of ``login_account_lock_seconds`` that opens at the first
failure. The ``login_account_max_failures``-th failure locks the account for a full window from then:
every attempt answers 429 (with ``Retry-After``) without the password being checked, the right one
included, so that the attacker learns nothing more. The lock ends with the window, or when the password
is reset (``clear``); a right password before the lock clears the count. An unknown email is counted the
same, so that the answers do not tell which emails have accounts.

Every password check of an existing account goes through ``verify``: login, signup of a further company
by an existing user, and invitation acceptance by one. Redis is reached through ``_redis`` only, which
fails open: while Redis cannot be reached an attempt is neither counted nor refused (a warning each
time), so that signing in keeps working; the per-address limit still holds then, in memory."""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app import redis_conn
from app.accounts import service as accounts
from app.errors import RateLimited
from app.settings import get_settings

log = structlog.get_logger(__name__)
_client: Redis | None = None
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS[1] the account's counter; ARGV: max failures, window seconds. While locked, returns the seconds
# the lock has left (at least 1); else counts this attempt and returns 0. Counting before the password is
# checked (a right one then clears it) is what makes concurrent attempts unable to overshoot the limit.
_ATTEMPT = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
    local ttl = redis.call('TTL', KEYS[1])
    if ttl < 1 then return 1 end
    return ttl
end
n = redis.call('INCR', KEYS[1])
if n == 1 or n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


async def _redis(command: str, *args: Any, unreachable: Any = None) -> Any:
    """The one call to Redis this module makes; ``unreachable`` is the answer while Redis is down."""
    global _client
    if _client is None:
        _client = redis_conn.client(get_settings(), Redis, socket_connect_timeout=1, socket_timeout=1)
    try:
        return await _client.execute_command(command, *args)
    except _REDIS_DOWN as exc:
        log.warning("account lockout is off while redis is unreachable", error=repr(exc))
        return unreachable


async def close() -> None:
    """Close the connection (the API's shutdown); a later call opens a new one."""
    global _client
    client, _client = _client, None
    if client is not None:
        await client.aclose()  # type: ignore[attr-defined]  # redis 5 has it; the stubs are older


def _key(email: str) -> str:
    secret = get_settings().secret_key.encode()
    digest = hmac.new(secret, b"login:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"acre:login-failures:{digest}"


async def _attempt(email: str) -> int:
    """Count one attempt; returns 0, or (locked: nothing counted) the seconds the lock has left."""
    s = get_settings()
    return int(
        await _redis(
            "EVAL",
            _ATTEMPT,
            1,
            _key(email),
            s.login_account_max_failures,
            s.login_account_lock_seconds,
            unreachable=0,  # not locked, not counted
        )
    )


async def clear(email: str) -> None:
    """Forget the failures (a right password, a password reset): lifts a lock."""
    await _redis("DEL", _key(email))


async def verify(email: str, password: str, password_hash: str | None) -> bool:
    """``accounts.verify_password`` under the per-account limit. Raises ``RateLimited`` while the
    account is locked (the password is not checked then); else the attempt counts as a failure unless
    the password is right, which clears the count. ``password_hash`` None: an unknown email, counted
    the same."""
    wait = await _attempt(email)
    if wait:
        raise RateLimited(
            "Too many failed sign-ins for this account; try again in {minutes} min or reset your password",
            minutes=math.ceil(wait / 60),
            retry_after=wait,
        )
    if accounts.verify_password(password, password_hash):
        await clear(email)
        return True
    return False
