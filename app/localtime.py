"""Local time of a tenant: its zone (UTC when the name is unknown), now and today there, and an
instant written as local time with its offset."""

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


def local_stamp(value: datetime, time_zone: str) -> str:
    """``value`` as local time in ``time_zone`` to the second, with its UTC offset:
    ``2026-12-03 18:42:07 UTC+08:00`` (the offset of that instant, so summer time shows)."""
    local = value.astimezone(zone(time_zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} UTC{offset[:3]}:{offset[3:]}"
