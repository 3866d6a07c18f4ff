"""Merging two records of one company from the pages (managers): the customer page's "merge another
record into this one" — its likely duplicates and a search — and the duplicate conflict view's
"merge it into this customer". The merge service decides (``app.customers.merge``): an invisible
customer is its 404, a member who does not manage both territories its 403, an envelope out its 409,
each answered inline."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers.merge import likely_duplicates, merge_customers
from app.customers.schemas import MergeBody
from app.customers.search import list_customers
from app.customers.service import get_customer
from app.errors import ValidationFailed
from app.i18n import N_, translate
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope

DEFAULT_REASON = N_("The same company entered twice")
MOVED = {
    "customer_contacts": N_("contacts"),
    "customer_followups": N_("follow-ups"),
    "deals": N_("deals"),
    "envelopes": N_("envelopes"),
    "documents": N_("documents"),
    "sales_tasks": N_("tasks"),
    "return_visits": N_("return visits"),
    "visit_plan_items": N_("visit plan items"),
}


class MergeForm(msgspec.Struct):
    absorb_id: str = ""
    reason: str = ""
    comment: str = ""
    conflict_id: str = ""


def _uuid(value: str, field: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationFailed.field(field, "No customer with this id") from None


@get("/customers/{customer_id:uuid}/merge-options")
async def merge_options(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    """The records to merge into this customer: its likely duplicates, or those matching ``merge_q``."""
    q = request.query_params.get("merge_q", "").strip()[:200]
    if q:
        await get_customer(tenant_scope, customer_id)  # 404 for a customer the member does not see
        found = [c for c in (await list_customers(tenant_scope, q=q, limit=10)).items if c.id != customer_id]
        options = [(c.id, c.full_name, c.territory_name, c.owner_name) for c in found]
    else:
        options = [
            (c.id, c.full_name, c.territory_name, c.owner_name)
            for c in await likely_duplicates(tenant_scope, customer_id)
        ]
    return await render(request, tenant_scope, "app/_merge_options.html", options=options, q=q)


@post("/customers/{customer_id:uuid}/merge")
async def merge(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[MergeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """Merge the picked record into this customer; the result (or the refusal) inline."""
    absorb_id = _uuid(data.absorb_id.strip(), "absorb_id")
    if absorb_id is None:
        raise ValidationFailed.field("absorb_id", "Pick the record to merge into this one")
    reason = (data.reason or data.comment).strip()[:1000] or translate(tenant_scope.locale, DEFAULT_REASON)
    done = await merge_customers(
        tenant_scope,
        customer_id,
        MergeBody(
            absorb_id=absorb_id, reason=reason, conflict_id=_uuid(data.conflict_id.strip(), "conflict_id")
        ),
    )
    moved = [(MOVED[table], n) for table, n in done.moved.items() if table in MOVED]
    return await render(request, tenant_scope, "app/_merged.html", customer=done.customer, moved=moved)


ROUTER = Router(
    path="/",
    route_handlers=[merge_options, merge],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
