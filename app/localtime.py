"""Local time of a tenant: its zone (UTC when the name is unknown), now and today there."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def local_now(time_zone: str) -> datetime:
    return datetime.now(zone(time_zone))


def local_today(time_zone: str) -> date:
    """Today's date in ``time_zone`` (the tenant's); UTC's when the zone is unknown."""
    return local_now(time_zone).date()
