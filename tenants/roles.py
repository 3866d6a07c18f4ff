"""Roles inside a tenant and what each may do. Plain functions, unit-tested."""

from __future__ import annotations

from typing import Literal

from app.i18n import N_

Role = Literal["owner", "admin", "manager", "rep"]
ROLES: tuple[Role, ...] = ("owner", "admin", "manager", "rep")
_RANK = {"rep": 0, "manager": 1, "admin": 2, "owner": 3}
# What each role is called where people read it (translate where shown).
LABELS: dict[str, str] = {
    "owner": N_("Owner"),
    "admin": N_("Administrator"),
    "manager": N_("Territory manager"),
    "rep": N_("Sales rep"),
}


def at_least(role: str, minimum: str) -> bool:
    """True when ``role`` is ``minimum`` or above (owner > admin > manager > rep)."""
    return _RANK.get(role, -1) >= _RANK[minimum]


def may_grant(actor_role: str, target_role: str) -> bool:
    """Admins grant up to admin; only an owner makes (or unmakes) an owner."""
    if not at_least(actor_role, "admin"):
        return False
    return actor_role == "owner" or target_role != "owner"
