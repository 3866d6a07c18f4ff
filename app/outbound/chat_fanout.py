"""From a notification to the team-chat robots: :func:`fan_out`, called by ``notify`` in the same
transaction, queues one ``post_chat`` job (an outbox row) per notification and per active robot of a
territory the recipient belongs to that posts that kind. A group hears of one thing once: several
members told the same (kind, subject) on the same day make one message per robot. No imports of the
notifications module (it imports this one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

from app import outbox
from app.db import Tx

CHAT_JOB: Final = "post_chat"

_FAN_OUT = f"""
WITH job AS (
    INSERT INTO outbox (tenant, job, args, job_id)
    SELECT DISTINCT ON (ch.id, n.kind, coalesce(n.subject::text, n.id::text))
           $1, '{CHAT_JOB}', jsonb_build_array($1::text, ch.id::text, n.id::text),
           '{CHAT_JOB}:' || ch.id::text || ':' || n.kind || ':' || coalesce(n.subject::text, n.id::text)
           || ':' || current_date::text
    FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::uuid[]) AS n (id, member, kind, subject)
    JOIN territory_members tm ON tm.tenant = $1 AND tm.membership_id = n.member
    JOIN chat_channels ch ON ch.tenant = $1 AND ch.territory_id = tm.territory_id AND ch.active
         AND n.kind = ANY (ch.kinds)
    ORDER BY ch.id, n.kind, coalesce(n.subject::text, n.id::text), n.id
    ON CONFLICT (job_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM job
"""


async def fan_out(tx: Tx, written: Sequence[Any]) -> int:
    """Queue the chat posts of the notifications just written (rows with ``id``, ``membership_id``,
    ``kind``, ``subject_id``); returns how many. Nothing while the company has no robot."""
    if not written:
        return 0
    if not await tx.fetchval(
        "SELECT EXISTS (SELECT 1 FROM chat_channels WHERE tenant = $1 AND active)", tx.tenant_id
    ):
        return 0
    ids: list[UUID] = [r["id"] for r in written]
    queued = int(
        await tx.fetchval(
            _FAN_OUT,
            tx.tenant_id,
            ids,
            [r["membership_id"] for r in written],
            [r["kind"] for r in written],
            [r["subject_id"] for r in written],
        )
    )
    if queued:
        outbox.wake_after_commit(tx)
    return queued
