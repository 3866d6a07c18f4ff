"""The webhook signature, Stripe's scheme: each delivery carries

    Acre-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>

A receiver recomputes the HMAC over the raw body it got, compares it in constant time, and refuses a
timestamp further than ``TOLERANCE_SECONDS`` (5 minutes) from its own clock, so a captured delivery
cannot be replayed later. :func:`verify` does exactly that (a receiver in Python can copy it: it needs
only the standard library)."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Acre-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, wrong, or too old (or from the future)."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Acre-Signature`` value for ``body`` signed now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={sign(secret, t, body)}"


def verify(
    secret: str,
    value: str | None,
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check an ``Acre-Signature`` header value against the raw ``body``; returns its timestamp.
    Raises :class:`SignatureError` when it is missing or malformed, when no ``v1`` matches, or when
    the timestamp is more than ``tolerance`` seconds away from ``now`` (a replay)."""
    if not value:
        raise SignatureError("no signature header")
    parts: dict[str, list[str]] = {}
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(val)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp in the signature header") from None
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise SignatureError("the signature does not match")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("the timestamp is outside the tolerance (a replay?)")
    return timestamp
