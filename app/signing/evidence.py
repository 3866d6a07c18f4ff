"""The envelope's evidence: an append-only, hash-chained audit trail, one chain per envelope.

``hash = sha256(canonical content || prev_hash)``; the content is the event's fields as JSON with
sorted keys and no spaces (version 1), the time as ISO-8601 UTC with microseconds. The first entry's
``prev_hash`` is 64 zeros. Appends lock the envelope row (``FOR UPDATE``) so a chain never forks; the
database refuses UPDATE/DELETE/TRUNCATE on the table (trigger) and the app role has no such grant.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.db import Tx

GENESIS = "0" * 64
EVENTS = (
    "created",
    "sent",
    "viewed",
    "consented",
    "signed",
    "declined",
    "reminded",
    "expired",
    "voided",
    "completed",
    "sender_changed",  # a handover gave the envelope to another member (the signers are not told)
)


def canonical(
    tenant: UUID,
    envelope_id: UUID,
    seq: int,
    event: str,
    signer_id: UUID | None,
    actor: UUID | None,
    at: datetime,
    ip: str | None,
    user_agent: str | None,
    data: dict[str, Any],
) -> bytes:
    body = {
        "v": 1,
        "tenant": str(tenant),
        "envelope": str(envelope_id),
        "seq": seq,
        "event": event,
        "signer": str(signer_id) if signer_id else None,
        "actor": str(actor) if actor else None,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "ip": ip,
        "user_agent": user_agent,
        "data": data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(content: bytes, prev_hash: str) -> str:
    return hashlib.sha256(content + bytes.fromhex(prev_hash)).hexdigest()


async def append_event(
    tx: Tx,
    envelope_id: UUID,
    event: str,
    *,
    signer_id: UUID | None = None,
    actor: UUID | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """Append one event to the envelope's chain; returns its hash. Raises ``ValueError`` for an
    unknown event and ``LookupError`` when the envelope is not visible in ``tx``."""
    if event not in EVENTS:
        raise ValueError(f"unknown envelope event: {event!r}")
    tenant = tx.tenant_id
    assert tenant is not None
    locked = await tx.fetchval(
        "SELECT id FROM envelopes WHERE tenant = $1 AND id = $2 FOR UPDATE", tenant, envelope_id
    )
    if locked is None:
        raise LookupError(envelope_id)
    head = await tx.fetchrow(
        "SELECT seq, hash FROM envelope_events WHERE tenant = $1 AND envelope_id = $2"
        " ORDER BY seq DESC LIMIT 1",
        tenant,
        envelope_id,
    )
    seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS)
    at = datetime.now(UTC)
    payload = data or {}
    ua = user_agent[:500] if user_agent else None
    digest = chain_hash(
        canonical(tenant, envelope_id, seq, event, signer_id, actor, at, ip, ua, payload), prev
    )
    await tx.execute(
        "INSERT INTO envelope_events (tenant, envelope_id, seq, event, signer_id, actor, at, ip, user_agent,"
        " data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)",
        tenant,
        envelope_id,
        seq,
        event,
        signer_id,
        actor,
        at,
        ip,
        ua,
        json.dumps(payload),
        prev,
        digest,
    )
    return digest


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_broken_seq: int | None
    head_hash: str | None


async def verify_chain(tx: Tx, envelope_id: UUID) -> ChainCheck:
    """Recompute every hash of the envelope's chain; the first entry whose content, link or position
    does not match breaks it (an edited field, a deleted or inserted entry)."""
    rows = await tx.fetch(
        "SELECT * FROM envelope_events WHERE tenant = $1 AND envelope_id = $2 ORDER BY seq",
        tx.tenant_id,
        envelope_id,
    )
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        content = canonical(
            row["tenant"],
            row["envelope_id"],
            row["seq"],
            row["event"],
            row["signer_id"],
            row["actor"],
            row["at"],
            row["ip"],
            row["user_agent"],
            json.loads(row["data"]),
        )
        if row["seq"] != expected_seq or row["prev_hash"] != prev or chain_hash(content, prev) != row["hash"]:
            return ChainCheck(False, expected_seq - 1, row["seq"], None)
        prev = row["hash"]
    return ChainCheck(True, len(rows), None, prev if rows else None)
