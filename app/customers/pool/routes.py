"""HTTP routes of the pool (公海): list, claim, release, pool status, ownership history and its
verification, pool rules, cross-territory grants and the requests for them. Thin: parse, call one
service, return."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.customers import access_requests, export, grants, ownership, tabular
from app.customers.pool import manage, reclaim, release_reasons, simulate
from app.customers.pool import rules as pool_rules
from app.customers.pool import service as pool
from app.customers.pool import status as pool_status
from app.customers.pool.release_reasons import ReleaseReasonsRead, ReleaseReasonsWrite
from app.customers.pool.rules import PoolRulesRead, PoolRulesWrite
from app.customers.pool.schemas import (
    AccessDecision,
    AccessRequestCreate,
    AccessRequestRead,
    GrantCreate,
    GrantRead,
    OwnershipEntryRead,
    PoolItem,
    PoolStatusRead,
    ReclaimsDueRead,
    ReleaseBody,
    VerifyRead,
)
from app.customers.schemas import CustomerRead
from app.openapi import file_operation
from app.pagination import PAGED, Page, PageParams, page_name
from tenants.scope import SCOPED, TenantScope

# The OpenAPI component names of these pages were fixed while the item types lived in
# ``pool_schemas``; they are part of the API, so they stay as they were.
_WAS = "app.customers.pool_schemas"
PoolPage = Annotated[Page[PoolItem], page_name(_WAS, PoolItem)]
OwnershipPage = Annotated[Page[OwnershipEntryRead], page_name(_WAS, OwnershipEntryRead)]
GrantPage = Annotated[Page[GrantRead], page_name(_WAS, GrantRead)]
AccessRequestPage = Page[AccessRequestRead]


class PoolController(Controller):
    path = "/api/v1/pool"
    tags = ("pool",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Unowned customers in the pools you work, never or longest not followed up first",
        dependencies=PAGED,
    )
    async def list_pool(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        territory_id: UUID | None = Parameter(default=None, description="this territory and its subtree"),
        pool_id: UUID | None = Parameter(default=None, description="this pool only (one you may claim from)"),
        grade: FromQuery[str | None] = None,
        industry: str | None = Parameter(default=None, max_length=100),
        source: FromQuery[str | None] = None,
        followup_before: str | None = Parameter(default=None, description="ISO time; includes never"),
        followup_after: str | None = Parameter(default=None, description="ISO time"),
    ) -> PoolPage:
        return await pool.list_pool(
            tenant_scope,
            territory_id=territory_id,
            pool_id=pool_id,
            grade=grade,
            industry=industry,
            source=source,
            followup_before=followup_before,
            followup_after=followup_after,
            limit=page.limit,
            cursor=page.cursor,
        )


class CustomerPoolController(Controller):
    path = "/api/v1/customers/{customer_id:uuid}"
    tags = ("pool",)
    dependencies = SCOPED

    @post("/claim", status_code=HTTP_200_OK, summary="Claim from the pool (409 names the rule that refuses)")
    async def claim(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> CustomerRead:
        return await pool.claim_customer(tenant_scope, customer_id)

    @post("/release", status_code=HTTP_200_OK, summary="Release back to the pool, with a reason")
    async def release(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        data: JSONBody[ReleaseBody],
    ) -> CustomerRead:
        return await pool.release_customer(
            tenant_scope, customer_id, data.reason, pool_id=data.pool_id, note=data.note
        )

    @post(
        "/lock", status_code=HTTP_200_OK, summary="Lock an own customer against auto-reclaim (锁定; lock cap)"
    )
    async def lock(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> CustomerRead:
        return await pool.set_lock(tenant_scope, customer_id, True)

    @delete("/lock", status_code=HTTP_200_OK, summary="Unlock: auto-reclaim applies again")
    async def unlock(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> CustomerRead:
        return await pool.set_lock(tenant_scope, customer_id, False)

    @get("/pool-status", summary="Why a claim would be refused; when and why it returns to the pool")
    async def status(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> PoolStatusRead:
        return await pool_status.pool_status(tenant_scope, customer_id)

    @get("/ownership", summary="The customer's ownership history, oldest first", dependencies=PAGED)
    async def ownership(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        customer_id: FromPath[UUID],
    ) -> OwnershipPage:
        return await ownership.list_ownership(tenant_scope, customer_id, limit=page.limit, cursor=page.cursor)


class OwnershipController(Controller):
    path = "/api/v1/ownership"
    tags = ("pool",)
    dependencies = SCOPED

    @get("/verify", summary="Recompute the ownership history's hash chain (owner/admin)")
    async def verify(self, tenant_scope: NamedDependency[TenantScope]) -> VerifyRead:
        return await ownership.verify(tenant_scope)


class PoolsController(Controller):
    path = "/api/v1/pools"
    tags = ("pool",)
    dependencies = SCOPED

    @get("/", summary="The pools you may claim from or administer (owner/admin: all), territories' first")
    async def list_pools(self, tenant_scope: NamedDependency[TenantScope]) -> list[manage.PoolRead]:
        return await manage.list_pools(tenant_scope)

    @post("/", status_code=HTTP_201_CREATED, summary="Add a pool (owner/admin): scope, admins, rules")
    async def create_pool(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[manage.PoolWrite]
    ) -> manage.PoolRead:
        return await manage.create_pool(tenant_scope, data)

    @get("/release-reasons", summary="The reasons a release picks from (the tenant's, else the built-in)")
    async def release_reasons(self, tenant_scope: NamedDependency[TenantScope]) -> ReleaseReasonsRead:
        return await release_reasons.list_release_reasons(tenant_scope)

    @put("/release-reasons", summary="Replace the tenant's release reasons (owner/admin; empty: built-in)")
    async def put_release_reasons(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[ReleaseReasonsWrite]
    ) -> ReleaseReasonsRead:
        return await release_reasons.put_release_reasons(tenant_scope, data)

    @get("/{pool_id:uuid}", summary="One pool: scope, admins, rule overrides")
    async def get_pool(
        self, tenant_scope: NamedDependency[TenantScope], pool_id: FromPath[UUID]
    ) -> manage.PoolRead:
        return await manage.get_pool(tenant_scope, pool_id)

    @put("/{pool_id:uuid}", summary="Replace a pool's scope, admins, rules (and name, kind) (owner/admin)")
    async def put_pool(
        self,
        tenant_scope: NamedDependency[TenantScope],
        pool_id: FromPath[UUID],
        data: JSONBody[manage.PoolWrite],
    ) -> manage.PoolRead:
        return await manage.update_pool(tenant_scope, pool_id, data)

    @delete(
        "/{pool_id:uuid}", status_code=HTTP_200_OK, summary="Delete a pool of the tenant's own (owner/admin)"
    )
    async def delete_pool(
        self, tenant_scope: NamedDependency[TenantScope], pool_id: FromPath[UUID]
    ) -> manage.MovedRead:
        return await manage.delete_pool(tenant_scope, pool_id)

    @post(
        "/{pool_id:uuid}/assign", status_code=HTTP_200_OK, summary="Assign customers of the pool (its admins)"
    )
    async def assign(
        self,
        tenant_scope: NamedDependency[TenantScope],
        pool_id: FromPath[UUID],
        data: JSONBody[manage.AssignBody],
    ) -> manage.MovedRead:
        return await manage.assign(tenant_scope, pool_id, data)

    @post(
        "/{pool_id:uuid}/move", status_code=HTTP_200_OK, summary="Move customers to another pool (its admins)"
    )
    async def move(
        self,
        tenant_scope: NamedDependency[TenantScope],
        pool_id: FromPath[UUID],
        data: JSONBody[manage.MoveBody],
    ) -> manage.MovedRead:
        return await manage.move(tenant_scope, pool_id, data)

    @get(
        "/{pool_id:uuid}/export",
        summary="Download the pool's customers as CSV or XLSX (its admins)",
        operation_class=file_operation("text/csv", tabular.CONTENT_TYPES["xlsx"]),
    )
    async def export(
        self,
        tenant_scope: NamedDependency[TenantScope],
        pool_id: FromPath[UUID],
        format: FromQuery[str] = "csv",
    ) -> Response[Any]:
        await manage.check_export(tenant_scope, pool_id)
        result = await export.export_customers(tenant_scope, format, export.ExportFilters(pool_id=pool_id))
        headers = {"content-disposition": result.disposition}
        media_type = result.content_type.split(";")[0]
        if isinstance(result.body, bytes):
            return Response(result.body, media_type=media_type, headers=headers)
        return Stream(result.body, media_type=media_type, headers=headers)


class PoolCapsController(Controller):
    path = "/api/v1/pool-caps"
    tags = ("pool",)
    dependencies = SCOPED

    @get("/", summary="The caps overridden per territory and per member (owner/admin)")
    async def list_caps(self, tenant_scope: NamedDependency[TenantScope]) -> list[manage.CapOverrideRead]:
        return await manage.list_caps(tenant_scope)

    @put("/", summary="Set one territory's or member's caps (owner/admin); all null removes them")
    async def put_caps(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[manage.CapOverrideWrite]
    ) -> manage.CapOverrideRead:
        return await manage.put_caps(tenant_scope, data)


class PoolRulesController(Controller):
    path = "/api/v1/pool-rules"
    tags = ("pool",)
    dependencies = SCOPED

    @get("/", summary="The tenant's pool rules (owner/admin)")
    async def get_rules(self, tenant_scope: NamedDependency[TenantScope]) -> PoolRulesRead:
        return await pool_rules.get_pool_rules(tenant_scope)

    @put("/", summary="Replace the pool rules (owner/admin); 422 names the wrong field")
    async def put_rules(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[PoolRulesWrite]
    ) -> PoolRulesRead:
        return await pool_rules.put_pool_rules(tenant_scope, data)

    @post(
        "/simulate",
        status_code=HTTP_200_OK,
        summary="Try rules before saving them: who would be reclaimed or warned in the next 30 days, per rep"
        " and day, against the rules in force (owner/admin; read only)",
    )
    async def simulate_rules(
        self,
        tenant_scope: NamedDependency[TenantScope],
        data: JSONBody[PoolRulesWrite],
        pool_id: UUID | None = Parameter(default=None, description="try them as this pool's rules"),
    ) -> simulate.SimulationRead:
        return await simulate.simulate_rules(tenant_scope, data, pool_id=pool_id)


class GrantController(Controller):
    path = "/api/v1/cross-territory-grants"
    tags = ("pool",)
    dependencies = SCOPED

    @post("/", status_code=HTTP_201_CREATED, summary="Let a member work a customer or territory (跨区)")
    async def create_grant(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[GrantCreate]
    ) -> GrantRead:
        return await grants.create_grant(tenant_scope, data)

    @get("/", summary="Grants you gave (in your territories) or received", dependencies=PAGED)
    async def list_grants(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
    ) -> GrantPage:
        return await grants.list_grants(tenant_scope, limit=page.limit, cursor=page.cursor)

    @delete("/{grant_id:uuid}", status_code=HTTP_200_OK, summary="Revoke a grant now")
    async def revoke_grant(
        self, tenant_scope: NamedDependency[TenantScope], grant_id: FromPath[UUID]
    ) -> GrantRead:
        return await grants.revoke_grant(tenant_scope, grant_id)


class AccessRequestController(Controller):
    path = "/api/v1/cross-territory-requests"
    tags = ("pool",)
    dependencies = SCOPED

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Ask to work a customer or territory outside your own (跨区申请); its managers decide",
    )
    async def create_request(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[AccessRequestCreate]
    ) -> AccessRequestRead:
        return await access_requests.create_request(tenant_scope, data)

    @get("/mine", summary="Your own cross-territory requests, newest first", dependencies=PAGED)
    async def list_mine(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str | None] = None,
    ) -> AccessRequestPage:
        return await access_requests.list_mine(
            tenant_scope, status=status, limit=page.limit, cursor=page.cursor
        )

    @get(
        "/to-decide",
        summary="Others' requests for the territories you manage (pending unless `status` says; managers)",
        dependencies=PAGED,
    )
    async def list_to_decide(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str | None] = "pending",
    ) -> AccessRequestPage:
        return await access_requests.list_to_decide(
            tenant_scope, status=status, limit=page.limit, cursor=page.cursor
        )

    @get("/{request_id:uuid}", summary="One cross-territory request (its requester, or who decides it)")
    async def read_request(
        self, tenant_scope: NamedDependency[TenantScope], request_id: FromPath[UUID]
    ) -> AccessRequestRead:
        return await access_requests.get_request(tenant_scope, request_id)

    @post(
        "/{request_id:uuid}/approve",
        status_code=HTTP_200_OK,
        summary="Approve: the grant is made until the date asked (a manager of the territory asked for)",
    )
    async def approve_request(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request_id: FromPath[UUID],
        data: JSONBody[AccessDecision],
    ) -> AccessRequestRead:
        return await access_requests.decide(tenant_scope, request_id, True, data)

    @post(
        "/{request_id:uuid}/reject",
        status_code=HTTP_200_OK,
        summary="Reject, with a comment for the requester",
    )
    async def reject_request(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request_id: FromPath[UUID],
        data: JSONBody[AccessDecision],
    ) -> AccessRequestRead:
        return await access_requests.decide(tenant_scope, request_id, False, data)


class ReclaimsDueController(Controller):
    path = "/api/v1/reclaims-due"
    tags = ("pool",)
    dependencies = SCOPED

    @get("/", summary="The team's customers the auto-reclaim takes within `days`, soonest first (managers)")
    async def reclaims_due(
        self,
        tenant_scope: NamedDependency[TenantScope],
        territory_id: UUID | None = Parameter(default=None, description="this territory and its subtree"),
        days: int = Parameter(default=7, ge=1, le=reclaim.TEAM_DAYS_MAX),
        limit: int = Parameter(default=50, ge=1, le=200),
    ) -> ReclaimsDueRead:
        return await reclaim.team_reclaims_due(
            tenant_scope, territory_id=territory_id, days=days, limit=limit
        )


ROUTES = [
    PoolController,
    CustomerPoolController,
    OwnershipController,
    PoolRulesController,
    PoolsController,
    PoolCapsController,
    GrantController,
    AccessRequestController,
    ReclaimsDueController,
]
