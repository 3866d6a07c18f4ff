"""Duplicate-claim conflicts (撞单): ``/customer-conflicts`` — each open conflict with both claimants
(the customer's owner and the member who tried to enter it again, with what they entered) and the
customer's ownership ledger; resolved by

- keeping it with its owner (``resolve_conflict``),
- handing it over to the other rep — a one-customer handover plan (``create_plan``), previewed and
  executed on ``/handovers/{id}?conflict=…``, whose execution resolves the conflict, or
- merging: what the other rep entered fills the customer's empty fields (``update_customer``), then
  resolved; or, when the company is in the system twice (another record with its name key, credit
  code or phone), that record merged into it (``app.web.customer_merge``, the merge service), which
  resolves the conflict too.

The services decide: another tenant's or an unmanaged conflict is their 404, a rep their 403."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers.duplicates import list_conflicts, resolve_conflict
from app.customers.imports import columns
from app.customers.merge import likely_duplicates
from app.customers.ownership import list_ownership
from app.customers.schemas import ConflictRead, CustomerUpdate
from app.customers.service import get_customer, update_customer
from app.errors import NotFound, ValidationFailed
from app.handover.plan import create_plan
from app.handover.schemas import HandoverCreate, HandoverSelection, HandoverTarget
from app.i18n import N_, translate
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
# what the other rep entered that may fill an empty field of the customer (a merge)
MERGED_FIELDS = (
    "short_name",
    "tax_id",
    "phone",
    "address",
    "industry",
    "size_revenue_band",
    "headcount",
    "current_software",
    "referrer",
)
RESOLUTIONS = {"kept": N_("Kept with its owner"), "merged": N_("Merged"), "handed over": N_("Handed over")}
HANDOVER_REASON = N_("Duplicate claim: handed over to {name}")


async def _find(scope: TenantScope, conflict_id: UUID) -> ConflictRead:
    """The open conflict (the list service's visibility), else its 404."""
    cursor = None
    while True:
        page = await list_conflicts(scope, status="open", limit=200, cursor=cursor)
        for item in page.items:
            if item.id == conflict_id:
                return item
        if not page.next_cursor:
            raise NotFound("No conflict with this id")
        cursor = page.next_cursor


def _resolution(text: str | None) -> tuple[str, str]:
    """A stored resolution as (its kind's words id, the rest)."""
    if not text:
        return "", ""
    for key, words in RESOLUTIONS.items():
        if text.startswith(key):
            return words, text[len(key) :].lstrip(":— ").strip()
    return "", text


async def _view(scope: TenantScope, item: ConflictRead) -> dict[str, Any]:
    customer = await get_customer(scope, item.customer_id)
    ledger = await list_ownership(scope, item.customer_id, limit=50)
    entered = {
        f: item.attempted_data.get(f) for f in MERGED_FIELDS if item.attempted_data.get(f) not in (None, "")
    }
    fills = [f for f in entered if getattr(customer, f, None) in (None, "")]
    duplicates = await likely_duplicates(scope, item.customer_id)
    return {
        "c": item,
        "customer": customer,
        "ledger": ledger.items,
        "entered": entered,
        "fills": fills,
        "duplicates": duplicates,
    }


@get("/customer-conflicts")
async def conflicts_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    status = request.query_params.get("status") or "open"
    found = await list_conflicts(
        tenant_scope, status=status, limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None
    )
    views = [await _view(tenant_scope, item) for item in found.items]
    context: dict[str, Any] = {
        "page": found,
        "views": views,
        "status": status,
        "labels": dict(zip(columns.FIELDS, columns.headers(tenant_scope.locale), strict=True)),
        "resolution": _resolution,
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_conflict_items.html", **context)
    return await render(request, tenant_scope, "app/conflicts.html", **context)


async def _comment(request: Request[Any, Any, Any]) -> str:
    form = await request.form()
    return (form.get("comment") or "").strip()[:1000]


async def _resolved(request: Request[Any, Any, Any], scope: TenantScope, item: ConflictRead) -> Template:
    return await render(request, scope, "app/_conflict_resolved.html", c=item, resolution=_resolution)


@post("/customer-conflicts/{conflict_id:uuid}/keep")
async def keep(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], conflict_id: FromPath[UUID]
) -> Template:
    comment = await _comment(request)
    item = await resolve_conflict(tenant_scope, conflict_id, "kept" + (f": {comment}" if comment else ""))
    return await _resolved(request, tenant_scope, item)


@post("/customer-conflicts/{conflict_id:uuid}/merge")
async def merge(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], conflict_id: FromPath[UUID]
) -> Template:
    """The other rep's entries fill the customer's empty fields; then resolved."""
    comment = await _comment(request)
    view = await _view(tenant_scope, await _find(tenant_scope, conflict_id))
    if view["fills"]:
        try:
            changes = msgspec.convert({f: view["entered"][f] for f in view["fills"]}, CustomerUpdate)
        except msgspec.ValidationError:
            raise ValidationFailed.field("merge", "The entered data cannot be merged") from None
        await update_customer(tenant_scope, view["customer"].id, changes)
    item = await resolve_conflict(tenant_scope, conflict_id, "merged" + (f": {comment}" if comment else ""))
    return await _resolved(request, tenant_scope, item)


@post("/customer-conflicts/{conflict_id:uuid}/hand-over")
async def hand_over(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], conflict_id: FromPath[UUID]
) -> Response[Any]:
    """A handover plan of this one customer to the member who tried to enter it: its preview next."""
    comment = await _comment(request)
    item = await _find(tenant_scope, conflict_id)
    if item.attempted_by is None:
        raise ValidationFailed.field("attempted_by", "No other rep to hand it over to")
    reason = comment or translate(tenant_scope.locale, HANDOVER_REASON, name=item.attempted_by_name or "")
    read = await create_plan(
        tenant_scope,
        HandoverCreate(
            reason=reason,
            selection=HandoverSelection(customer_ids=[item.customer_id]),
            targets=[HandoverTarget(item.attempted_by)],
            mode="single",
        ),
    )
    return Response(
        "", status_code=200, headers={"HX-Redirect": f"/handovers/{read.id}?conflict={conflict_id}"}
    )


ROUTER = Router(
    path="/",
    route_handlers=[conflicts_page, keep, merge, hand_over],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
