"""Release reasons (释放原因): the list a release picks its reason from.

A tenant without a list of its own has the built-in one (codes, translated into the member's
language); an owner/admin replaces it with their own labels (``pool_release_reasons``, in order),
whose codes are their ids. The ownership history records the label (and the note, if any).
"""

from __future__ import annotations

from typing import Final

import msgspec

from app.audit import record
from app.db import Tx
from app.errors import ValidationFailed
from app.i18n import N_, translate
from tenants.scope import TenantScope

BUILT_IN: Final = {
    "no_need": N_("No need for now"),
    "unreachable": N_("Cannot reach the customer"),
    "competitor": N_("Chose a competitor"),
    "no_budget": N_("No budget"),
    "closed": N_("Business closed"),
    "wrong_data": N_("Wrong or duplicate data"),
    "other": N_("Other"),
}
MAX_REASONS = 50


class ReleaseReason(msgspec.Struct):
    code: str
    label: str


class ReleaseReasonsRead(msgspec.Struct):
    items: list[ReleaseReason]
    customized: bool


class ReleaseReasonsWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The tenant's list, in order (an empty list: back to the built-in one)."""

    labels: list[str]


async def reasons(tx: Tx, scope: TenantScope) -> ReleaseReasonsRead:
    rows = await tx.fetch(
        "SELECT id, label FROM pool_release_reasons WHERE tenant = $1 ORDER BY position, id", scope.tenant_id
    )
    if rows:
        return ReleaseReasonsRead([ReleaseReason(str(r["id"]), r["label"]) for r in rows], True)
    return ReleaseReasonsRead(
        [ReleaseReason(code, translate(scope.locale, label)) for code, label in BUILT_IN.items()], False
    )


async def label_of(tx: Tx, scope: TenantScope, code: str) -> str:
    """The label of a reason on the tenant's list (in the tenant's language for a built-in one:
    the history is read by everyone), or 422 on ``reason``."""
    code = (code or "").strip()
    if not code:
        raise ValidationFailed.field("reason", "Required")
    listed = await reasons(tx, scope)
    for item in listed.items:
        if code == item.code:
            return translate(scope.tenant_locale, BUILT_IN[code]) if not listed.customized else item.label
    raise ValidationFailed.field("reason", "Pick a reason from the list")


async def list_release_reasons(scope: TenantScope) -> ReleaseReasonsRead:
    async with scope.tx() as tx:
        return await reasons(tx, scope)


async def put_release_reasons(scope: TenantScope, data: ReleaseReasonsWrite) -> ReleaseReasonsRead:
    """Replace the tenant's list (owner/admin); 422 for an empty or too long label, a label twice, or
    more than ``MAX_REASONS``."""
    scope.require("admin")
    labels = [label.strip() for label in data.labels]
    if len(labels) > MAX_REASONS:
        raise ValidationFailed.field("labels", "At most {n} reasons", n=MAX_REASONS)
    for i, label in enumerate(labels):
        if not label or len(label) > 100:
            raise ValidationFailed.field(f"labels.{i}", "Use 1 to 100 characters")
        if label in labels[:i]:
            raise ValidationFailed.field(f"labels.{i}", "This reason is listed twice")
    async with scope.tx() as tx:
        await tx.execute("DELETE FROM pool_release_reasons WHERE tenant = $1", scope.tenant_id)
        await tx.execute(
            "INSERT INTO pool_release_reasons (tenant, label, position)"
            " SELECT $1, l, o FROM unnest($2::text[]) WITH ORDINALITY AS x (l, o)",
            scope.tenant_id,
            labels,
        )
        await record(
            tx,
            scope.membership_id,
            "pool.release_reasons",
            "tenant",
            scope.tenant_id,
            data={"labels": labels},
        )
        return await reasons(tx, scope)
