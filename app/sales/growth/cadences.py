"""Contact cadences (养单): how often each customer is called and visited, by tier, and the grade →
tier map. Defaults from the handbook: priority customers called monthly and visited quarterly,
normal ones every 3 / 6 months, the last tier every 6 / 12 months; grade A customers are in active
selling, worked at the deal's pace (weekly call, monthly visit by default).

The daily job (``jobs.cadence_tasks``) turns these into ``sales_tasks``; return visits after
a win use ``return_visit_days``."""

from __future__ import annotations

from typing import Final

import msgspec

from app import audit
from app.db import Tx
from app.errors import ValidationFailed
from app.sales.growth import settings as growth_settings
from app.sales.growth.schemas import CadencesRead, CadencesWrite, TierCadence
from tenants.scope import TenantScope

NAME: Final = "cadences"
TIERS: Final = ("active", "priority", "normal", "last")
GRADES: Final = ("A", "B", "C", "D")
KINDS: Final = ("call", "visit")
MAX_DAYS: Final = 3650
DEFAULT_TIERS: Final = {
    "active": (7, 30),
    "priority": (30, 90),
    "normal": (90, 180),
    "last": (180, 365),
}
DEFAULT_GRADE_TIERS: Final = {"A": "active", "B": "priority", "C": "normal", "D": "last"}
DEFAULT_RETURN_VISIT_DAYS: Final = (7, 30, 90)


class Cadences(msgspec.Struct):
    tiers: dict[str, TierCadence]
    grade_tiers: dict[str, str]
    return_visit_days: list[int]

    def rule_arrays(self) -> tuple[list[str], list[str], list[int]]:
        """(grade, kind, days) of every cadence that is on, for ``unnest(text[], text[], int[])``."""
        grades: list[str] = []
        kinds: list[str] = []
        days: list[int] = []
        for grade in GRADES:
            tier = self.tiers[self.grade_tiers[grade]]
            for kind, every in (("call", tier.call_days), ("visit", tier.visit_days)):
                if every is not None:
                    grades.append(grade)
                    kinds.append(kind)
                    days.append(every)
        return grades, kinds, days


def _merge(data: CadencesWrite) -> Cadences:
    tiers = {t: TierCadence(call_days=c, visit_days=v) for t, (c, v) in DEFAULT_TIERS.items()}
    tiers.update(data.tiers)
    grade_tiers = {**DEFAULT_GRADE_TIERS, **data.grade_tiers}
    days = data.return_visit_days if data.return_visit_days is not None else DEFAULT_RETURN_VISIT_DAYS
    return Cadences(tiers, grade_tiers, sorted(days))


def validate(data: CadencesWrite) -> Cadences:
    """The effective cadences, or 422 naming the first wrong field (``tiers.normal.call_days`` …)."""
    for tier, cadence in data.tiers.items():
        if tier not in TIERS:
            raise ValidationFailed.field("tiers", "Use active, priority, normal or last")
        for kind in KINDS:
            days = getattr(cadence, f"{kind}_days")
            if days is not None and not 1 <= days <= MAX_DAYS:
                raise ValidationFailed.field(
                    f"tiers.{tier}.{kind}_days", "Use a number from {low} to {high}", low=1, high=MAX_DAYS
                )
    for grade, tier in data.grade_tiers.items():
        if grade not in GRADES:
            raise ValidationFailed.field("grade_tiers", "Use A, B, C or D")
        if tier not in TIERS:
            raise ValidationFailed.field(f"grade_tiers.{grade}", "Use active, priority, normal or last")
    if data.return_visit_days is not None:
        days = data.return_visit_days
        if len(days) > 10:
            raise ValidationFailed.field("return_visit_days", "Use at most {n} return visits", n=10)
        for i, d in enumerate(days):
            if not 1 <= d <= MAX_DAYS:
                raise ValidationFailed.field(
                    f"return_visit_days[{i}]", "Use a number from {low} to {high}", low=1, high=MAX_DAYS
                )
        if len(set(days)) != len(days):
            raise ValidationFailed.field("return_visit_days", "Each offset may appear only once")
    return _merge(data)


async def load_cadences(tx: Tx) -> Cadences:
    raw = await growth_settings.load(tx, NAME)
    return _merge(msgspec.json.decode(raw, type=CadencesWrite)) if raw else _merge(CadencesWrite())


async def _read(tx: Tx) -> CadencesRead:
    raw = await growth_settings.load(tx, NAME)
    c = await load_cadences(tx)
    return CadencesRead(
        tiers=c.tiers, grade_tiers=c.grade_tiers, return_visit_days=c.return_visit_days, customized=bool(raw)
    )


async def get_cadences(scope: TenantScope) -> CadencesRead:
    scope.require("admin")
    async with scope.tx() as tx:
        return await _read(tx)


async def put_cadences(scope: TenantScope, data: CadencesWrite) -> CadencesRead:
    """Replace the tenant's cadences (owner/admin); 422 naming the first wrong field."""
    scope.require("admin")
    validate(data)
    async with scope.tx() as tx:
        await growth_settings.save(tx, NAME, msgspec.json.encode(data), scope.membership_id)
        await audit.record(tx, scope.user_id, "cadences.updated", "tenant", scope.tenant_id)
        return await _read(tx)
