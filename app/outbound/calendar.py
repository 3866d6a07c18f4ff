"""A member's private calendar feed (ICS, RFC 5545): their visit-plan items, open follow-up tasks and
scheduled return visits, from 30 days back to 90 days ahead, for phones' calendars to subscribe to.

The feed's address is a secret (``/calendar/<token>.ics``; the token starts with the company's id, so
the feed is found without a session, and only its sha256 is kept). The member makes it, sees it once,
and revokes or replaces it from their own settings page. Visits are timed events in UTC (``…Z``: the
plan's time is in the company's zone); tasks and return visits are all-day events on their date."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from app import audit, db, pages
from app.errors import NotFound
from app.i18n import N_, translate
from app.outbound.schemas import CalendarFeedRead
from tenants.scope import TenantScope

PAST_DAYS = 30
AHEAD_DAYS = 90
VISIT_MINUTES = 60
M_VISIT = N_("Visit: {customer}")
M_CALL = N_("Call: {customer}")
M_TASK_VISIT = N_("Visit (follow-up): {customer}")
M_RETURN = N_("Return visit: {customer}")
M_CALENDAR = N_("Acre: {member}")
PURPOSES = {
    "development": N_("development"),
    "research": N_("research"),
    "collection": N_("collection"),
    "service": N_("service"),
    "complaint": N_("complaint"),
    "order": N_("order"),
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    url = pages.url(pages.CALENDAR_FEED, feed=f"{token}.ics")
    assert url is not None  # the feed is always served
    return url


async def feed_status(scope: TenantScope) -> CalendarFeedRead:
    async with scope.tx() as tx:
        made = await tx.fetchval(
            "SELECT created_at FROM calendar_feeds WHERE tenant = $1 AND membership_id = $2",
            scope.tenant_id,
            scope.membership_id,
        )
    return CalendarFeedRead(active=made is not None, url=None, created_at=made)


async def make_feed(scope: TenantScope) -> CalendarFeedRead:
    """A new secret address for the caller's feed (an older one stops working); shown this once."""
    member = scope.membership_id
    if member is None:
        raise NotFound("No calendar feed without a membership")
    token = scope.tenant_id.hex + secrets.token_urlsafe(24)
    async with scope.tx() as tx:
        made = await tx.fetchval(
            "INSERT INTO calendar_feeds (tenant, membership_id, token_hash) VALUES ($1, $2, $3)"
            " ON CONFLICT (tenant, membership_id) DO UPDATE SET token_hash = excluded.token_hash,"
            " created_at = now() RETURNING created_at",
            scope.tenant_id,
            scope.membership_id,
            token_hash(token),
        )
        await audit.record(tx, scope.user_id, "calendar_feed.made", "membership", member)
    return CalendarFeedRead(active=True, url=feed_url(token), created_at=made)


async def revoke_feed(scope: TenantScope) -> None:
    async with scope.tx() as tx:
        await tx.execute(
            "DELETE FROM calendar_feeds WHERE tenant = $1 AND membership_id = $2",
            scope.tenant_id,
            scope.membership_id,
        )
        await audit.record(tx, scope.user_id, "calendar_feed.revoked", "membership", str(scope.membership_id))


# -- the feed ------------------------------------------------------------------------------------

_OWNER = """
SELECT f.membership_id, u.name AS member, coalesce(u.locale, t.locale) AS locale, t.time_zone,
       t.name AS company
FROM calendar_feeds f
JOIN memberships m ON m.tenant = f.tenant AND m.id = f.membership_id AND m.active
JOIN users u ON u.id = m.user_id
JOIN tenants t ON t.id = f.tenant
WHERE f.tenant = $1 AND f.token_hash = $2
"""
_VISITS = """
SELECT i.id, p.plan_date, i.planned_time, i.purpose, i.note, i.done_at, c.id AS customer_id, c.full_name,
       p.status
FROM visit_plans p
JOIN visit_plan_items i ON i.tenant = p.tenant AND i.plan_id = p.id
JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
WHERE p.tenant = $1 AND p.membership_id = $2 AND p.plan_date BETWEEN $3 AND $4
ORDER BY p.plan_date, i.position
"""
_TASKS = """
SELECT t.id, t.kind, t.due_on, t.note, c.id AS customer_id, c.full_name
FROM sales_tasks t JOIN customers c ON c.tenant = t.tenant AND c.id = t.customer_id
WHERE t.tenant = $1 AND t.assignee_membership_id = $2 AND t.status = 'open' AND t.due_on BETWEEN $3 AND $4
ORDER BY t.due_on, t.id
"""
_RETURNS = """
SELECT r.id, r.due_on, c.id AS customer_id, c.full_name
FROM return_visits r JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id
WHERE r.tenant = $1 AND r.assignee_membership_id = $2 AND r.status = 'scheduled'
  AND r.due_on BETWEEN $3 AND $4
ORDER BY r.due_on, r.id
"""


def escape(text: str) -> str:
    """An RFC 5545 TEXT value (backslash, semicolon, comma and newlines escaped)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """One content line folded at 75 octets (continuations start with a space), never inside a
    UTF-8 character."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte: back off
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, 74  # the leading space takes one octet
    return "\r\n ".join(parts)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _event(
    uid: str, stamp: str, start: list[str], summary: str, description: str, link: str | None
) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}", *start, f"SUMMARY:{escape(summary)}"]
    if description:
        lines.append(f"DESCRIPTION:{escape(description)}")
    if link:
        lines.append(f"URL:{link}")
    lines.append("END:VEVENT")
    return lines


def _all_day(on: date) -> list[str]:
    return [f"DTSTART;VALUE=DATE:{_day(on)}", f"DTEND;VALUE=DATE:{_day(on + timedelta(days=1))}"]


async def render_feed(token: str) -> bytes:
    """The ICS document of the feed whose secret is ``token``; 404 for an unknown, revoked or
    malformed one (or a deactivated member's)."""
    try:
        tenant = UUID(hex=token[:32])
    except ValueError:
        raise NotFound("No calendar feed here") from None
    async with db.transaction(tenant) as tx:
        owner = await tx.fetchrow(_OWNER, tenant, token_hash(token))
        if owner is None:
            raise NotFound("No calendar feed here")
        zone = ZoneInfo(owner["time_zone"])
        today = datetime.now(zone).date()
        window = (
            tenant,
            owner["membership_id"],
            today - timedelta(days=PAST_DAYS),
            today + timedelta(days=AHEAD_DAYS),
        )
        visits = await tx.fetch(_VISITS, *window)
        tasks = await tx.fetch(_TASKS, *window)
        returns = await tx.fetch(_RETURNS, *window)
    locale, host = owner["locale"], urlsplit(pages.url(pages.HOME) or "").netloc or "acre"
    stamp = _utc(datetime.now(UTC))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Acre//Calendar feed//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(translate(locale, M_CALENDAR, member=owner['member']))}",
        f"X-WR-TIMEZONE:{owner['time_zone']}",
    ]

    def link(customer_id: UUID) -> str | None:
        return pages.url(pages.CUSTOMER, customer_id=customer_id)

    for v in visits:
        start = datetime.combine(v["plan_date"], v["planned_time"] or time(9), tzinfo=zone)
        summary = translate(locale, M_VISIT, customer=v["full_name"])
        purpose = translate(locale, PURPOSES.get(v["purpose"], v["purpose"]))
        description = "\n".join(x for x in (purpose, v["note"] or "") if x)
        lines += _event(
            f"visit-{v['id']}@{host}",
            stamp,
            [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(start + timedelta(minutes=VISIT_MINUTES))}"],
            summary,
            description,
            link(v["customer_id"]),
        )
    for t in tasks:
        message = M_CALL if t["kind"] == "call" else M_TASK_VISIT
        lines += _event(
            f"task-{t['id']}@{host}",
            stamp,
            _all_day(t["due_on"]),
            translate(locale, message, customer=t["full_name"]),
            t["note"] or "",
            link(t["customer_id"]),
        )
    for r in returns:
        lines += _event(
            f"return-visit-{r['id']}@{host}",
            stamp,
            _all_day(r["due_on"]),
            translate(locale, M_RETURN, customer=r["full_name"]),
            "",
            link(r["customer_id"]),
        )
    lines.append("END:VCALENDAR")
    return _join(lines)


def _join(lines: Iterable[str]) -> bytes:
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
