"""The pool page (``/pool``, 公海): the unowned customers of the pools the member may claim from —
one of them picked (``pool_id``: a territory's, or a pool the tenant added), or all — filtered by
territory, grade, source, industry and never-followed-up; claiming in place, with the member's
"x of cap, y today" counter; a refused claim shows the rule and its numbers where the button was, and
"why" (``pool-status``) one tap away; "more" appends the next page in place. A territory chosen whose
pool the member does not work offers the cross-territory request (跨区申请) for it.

Everything is the pool services' (``list_pool``, ``claim_customer``, ``pool_status``,
``claim_counter``): this module only reads the query and renders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers import access_requests
from app.customers.pool import pools
from app.customers.pool import service as pool
from app.customers.pool import status as pool_status
from app.errors import Conflict
from app.web import list_rows
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, page_size, render
from tenants.scope import TenantScope

NEVER = "1970-01-01T00:00:00+00:00"  # followup_before this: only customers never followed up
PAGE_SIZE = 20
_FILTERS = ("pool_id", "territory_id", "grade", "source", "industry", "never", "limit")


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    chosen = {k: v for k in _FILTERS if (v := request.query_params.get(k, "").strip())}
    if "pool_id" in chosen:
        try:
            UUID(chosen["pool_id"])
        except ValueError:
            chosen.pop("pool_id")
    return chosen


async def _outside(scope: TenantScope, chosen: str | None) -> UUID | None:
    """The chosen territory when the member does not work its pool (else ``None``)."""
    if not chosen:
        return None
    worked = await access_requests.worked_territories(scope)
    territory_id = UUID(chosen)
    return territory_id if worked is not None and territory_id not in worked else None


async def _pools(scope: TenantScope) -> list[pools.PoolRef]:
    async with scope.tx() as tx:
        return await pools.claimable_pools(tx, scope)


@get("/pool")
async def pool_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    chosen = _filters(request)
    territory = chosen.get("territory_id")
    page = await pool.list_pool(
        tenant_scope,
        territory_id=UUID(territory) if territory else None,
        pool_id=UUID(chosen["pool_id"]) if "pool_id" in chosen else None,
        grade=chosen.get("grade"),
        source=chosen.get("source"),
        industry=chosen.get("industry"),
        followup_before=NEVER if chosen.get("never") else None,
        limit=page_size(request, PAGE_SIZE),
        cursor=request.query_params.get("cursor") or None,
    )
    more_query = "&".join(f"{k}={v}" for k, v in chosen.items())
    context: dict[str, Any] = {
        "page": page,
        "chosen": chosen,
        "more_query": more_query,
        "pool_rows": list_rows.pool_rows,
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_pool_items.html", **context)
    outside = await _outside(tenant_scope, territory)
    return await render(
        request,
        tenant_scope,
        "app/pool.html",
        with_picker=True,
        with_counter=True,
        sources=pool.SOURCES,
        pools=await _pools(tenant_scope),
        outside=outside,
        asks=not tenant_scope.at_least("admin"),
        **context,
    )


@post("/customers/{customer_id:uuid}/claim")
async def claim(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    """The claim button's answer (htmx): the claimed row and the new counter, or the refusal."""
    try:
        customer = await pool.claim_customer(tenant_scope, customer_id)
    except Conflict as exc:
        return await render(
            request,
            tenant_scope,
            "app/_claim_refused.html",
            status_code=409,
            customer_id=customer_id,
            message=error_text(tenant_scope.locale, exc),
            rule=exc.extra.get("rule"),
            registration_id=(exc.extra.get("params") or {}).get("registration_id"),
        )
    counter = await pool.claim_counter(tenant_scope)
    return await render(request, tenant_scope, "app/_claimed.html", customer=customer, counter=counter)


@get("/customers/{customer_id:uuid}/pool-status")
async def why(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    """ "Why": the pool-status explanation, in the member's words."""
    status = await pool_status.pool_status(tenant_scope, customer_id)
    return await render(request, tenant_scope, "app/_pool_status.html", status=status)


ROUTER = Router(
    path="/",
    route_handlers=[pool_page, claim, why],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
