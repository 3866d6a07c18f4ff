"""The one writer of webhook events: :func:`emit`, called by each domain in the transaction of the
change it tells about. An event is stored (with one delivery per subscribed active endpoint, and one
outbox job per delivery) only while some endpoint of the company subscribes to its type, so a company
without webhooks pays one index probe. Delivery then runs from the outbox (``app.outbound.delivery``):
nothing is lost when Redis or the receiver is down."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, get_args

from app import outbox
from app.db import Tx

EventType = Literal[
    "customer.created",
    "customer.claimed",
    "customer.released",
    "customer.reclaimed",
    "customer.handed_over",
    "customer.merged",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "quote.approved",
    "envelope.sent",
    "envelope.completed",
    "envelope.declined",
    "collection.overdue",
    "collection.paid",
]
EVENT_TYPES: Final[tuple[str, ...]] = get_args(EventType)
DELIVER_JOB: Final = "deliver_webhook"  # one attempt of one delivery (retries, re-enabled endpoints)
EVENT_JOB: Final = "deliver_event"  # the first attempt of all of an event's deliveries, side by side

# an ownership change's cause (app.customers.ledger.CAUSES) -> the event it is
OWNER_CHANGE_EVENTS: Final = {
    "create": "customer.created",
    "import": "customer.created",
    "claim": "customer.claimed",
    "release": "customer.released",
    "reclaim": "customer.reclaimed",
    "handover": "customer.handed_over",
    "assign": "customer.handed_over",
    "merge": "customer.merged",
}

_EMIT = f"""
WITH ep AS (
    SELECT id FROM webhook_endpoints WHERE tenant = $1 AND active AND $2::text = ANY (event_types)
), ev AS (
    INSERT INTO webhook_events (tenant, type, data)
    SELECT $1, $2, d::jsonb FROM unnest($3::text[]) AS d WHERE EXISTS (SELECT 1 FROM ep)
    RETURNING id
), dl AS (
    INSERT INTO webhook_deliveries (tenant, event_id, endpoint_id)
    SELECT $1, ev.id, ep.id FROM ev CROSS JOIN ep
    RETURNING id
), job AS (
    INSERT INTO outbox (tenant, job, args, job_id)
    SELECT $1, '{EVENT_JOB}', jsonb_build_array($1::text, ev.id::text), '{EVENT_JOB}:' || ev.id::text
    FROM ev
    RETURNING 1
)
SELECT (SELECT count(*) FROM dl) FROM job LIMIT 1
"""


async def emit(tx: Tx, event_type: str, items: Iterable[Mapping[str, Any]]) -> int:
    """Write one ``event_type`` event per item of ``items`` (its ``data``, JSON; values that are not
    JSON types as their ``str``) in ``tx``, fanned out to the subscribed endpoints (one
    ``deliver_event`` job per event makes their first attempts side by side); returns the number of
    deliveries queued. ``ValueError`` for an unknown type."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type: {event_type!r}")
    data = [json.dumps(dict(item), default=str, ensure_ascii=False) for item in items]
    if not data:
        return 0
    queued = int(await tx.fetchval(_EMIT, tx.tenant_id, event_type, data) or 0)
    if queued:
        outbox.wake_after_commit(tx)
    return queued


def envelope_event(env: Mapping[str, Any]) -> dict[str, Any]:
    """The data of an ``envelope.*`` event, from an ``envelopes`` row."""
    return {
        "envelope_id": env["id"],
        "title": env["title"],
        "status": env["status"],
        "customer_id": env["customer_id"],
        "document_id": env["document_id"],
        "subject_type": env["subject_type"],
        "subject_id": env["subject_id"],
    }
