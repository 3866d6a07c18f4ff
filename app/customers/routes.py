"""HTTP routes for customers, their contacts, follow-ups and grade history, and duplicate-claim
conflicts. Thin: parse, call one service, return."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app import rate_limits
from app.customers import contacts, duplicates, followups, list_changes, masking, merge, search, service
from app.customers.schemas import (
    ConflictRead,
    ConflictResolve,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    DuplicateCheckRead,
    FollowupCreate,
    FollowupRead,
    GradeChangeRead,
    ListChangesRead,
    MergeBody,
    MergeRead,
)
from app.pagination import PAGED, Page, PageParams
from tenants.key_scopes import needs
from tenants.scope import SCOPED, TenantScope


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ("customers",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Visible customers, newest first or by next follow-up; filter by territory subtree, grade,"
        " status, owner, q, cross_territory",
        dependencies=PAGED,
        opt=needs("customers:read"),
    )
    async def list_customers(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        territory_id: FromQuery[UUID | None] = None,
        grade: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        owner: str | None = Parameter(default=None, description="a membership id, 'me' or 'none' (the pool)"),
        q: str | None = Parameter(
            default=None, max_length=200, description="name substring, phone or tax id"
        ),
        sort: str = Parameter(
            default="newest",
            description="newest (default) or next_followup (soonest next follow-up first, none last)",
        ),
        cross_territory: bool | None = Parameter(
            default=None,
            description="true: only customers whose credit code points to another territory (跨区)",
        ),
    ) -> Page[CustomerRead]:
        return await search.list_customers(
            tenant_scope,
            territory_id=territory_id,
            grade=grade,
            status=status,
            owner=owner,
            q=q,
            cross_territory=cross_territory,
            sort=sort,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="Enter a customer (409 if the company exists)")
    async def create_customer(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[CustomerCreate]
    ) -> CustomerRead:
        return await service.create_customer(tenant_scope, data)

    @get(
        "/duplicate-check",
        summary="Would this company collide with an existing customer (撞单)? Who owns the match",
        middleware=[rate_limits.bucket("lookup")],
    )
    async def duplicate_check(
        self,
        tenant_scope: NamedDependency[TenantScope],
        full_name: str | None = Parameter(default=None, max_length=200),
        tax_id: str | None = Parameter(default=None, max_length=40),
    ) -> DuplicateCheckRead:
        return await duplicates.check_duplicate(tenant_scope, full_name, tax_id)

    @get("/{customer_id:uuid}", opt=needs("customers:read"))
    async def get_customer(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> CustomerRead:
        return await service.get_customer(tenant_scope, customer_id)

    @patch("/{customer_id:uuid}")
    async def update_customer(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        data: JSONBody[CustomerUpdate],
    ) -> CustomerRead:
        return await service.update_customer(tenant_scope, customer_id, data)

    @delete("/{customer_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_customer(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> None:
        await service.delete_customer(tenant_scope, customer_id)

    @post(
        "/{customer_id:uuid}/merge",
        status_code=HTTP_200_OK,
        summary="Merge another record of the same company into this one (managers of both territories)",
    )
    async def merge_customer(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        data: JSONBody[MergeBody],
    ) -> MergeRead:
        return await merge.merge_customers(tenant_scope, customer_id, data)

    @get("/{customer_id:uuid}/grade-history")
    async def grade_history(
        self, tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
    ) -> list[GradeChangeRead]:
        return await service.grade_history(tenant_scope, customer_id)


class ContactController(Controller):
    path = "/api/v1/customers/{customer_id:uuid}/contacts"
    tags = ("customers",)
    dependencies = SCOPED

    @get("/", dependencies=PAGED)
    async def list_contacts(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        customer_id: FromPath[UUID],
    ) -> Page[ContactRead]:
        return await contacts.list_contacts(tenant_scope, customer_id, limit=page.limit, cursor=page.cursor)

    @post("/", status_code=HTTP_201_CREATED)
    async def create_contact(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        data: JSONBody[ContactCreate],
    ) -> ContactRead:
        return await contacts.create_contact(tenant_scope, customer_id, data)

    @get("/{contact_id:uuid}")
    async def get_contact(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        contact_id: FromPath[UUID],
    ) -> ContactRead:
        return await contacts.get_contact(tenant_scope, customer_id, contact_id)

    @patch("/{contact_id:uuid}")
    async def update_contact(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        contact_id: FromPath[UUID],
        data: JSONBody[ContactUpdate],
    ) -> ContactRead:
        return await contacts.update_contact(tenant_scope, customer_id, contact_id, data)

    @delete("/{contact_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_contact(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        contact_id: FromPath[UUID],
    ) -> None:
        await contacts.delete_contact(tenant_scope, customer_id, contact_id)


class FollowupController(Controller):
    path = "/api/v1/customers/{customer_id:uuid}/followups"
    tags = ("customers",)
    dependencies = SCOPED

    @get("/", dependencies=PAGED)
    async def list_followups(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        customer_id: FromPath[UUID],
    ) -> Page[FollowupRead]:
        return await followups.list_followups(tenant_scope, customer_id, limit=page.limit, cursor=page.cursor)

    @post("/", status_code=HTTP_201_CREATED, summary="Log a follow-up (updates last/next follow-up)")
    async def create_followup(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        data: JSONBody[FollowupCreate],
    ) -> FollowupRead:
        return await followups.create_followup(tenant_scope, customer_id, data)


class ConflictController(Controller):
    path = "/api/v1/customer-conflicts"
    tags = ("customers",)
    dependencies = SCOPED

    @get("/", summary="Duplicate-claim conflicts in the territories you manage", dependencies=PAGED)
    async def list_conflicts(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str] = "open",
    ) -> Page[ConflictRead]:
        return await duplicates.list_conflicts(
            tenant_scope, status=status, limit=page.limit, cursor=page.cursor
        )

    @post("/{conflict_id:uuid}/resolve", status_code=HTTP_200_OK)
    async def resolve_conflict(
        self,
        tenant_scope: NamedDependency[TenantScope],
        conflict_id: FromPath[UUID],
        data: JSONBody[ConflictResolve],
    ) -> ConflictRead:
        return await duplicates.resolve_conflict(tenant_scope, conflict_id, data.resolution)


class ListChangesController(Controller):
    path = "/api/v1/list-changes"
    tags = ("customers",)
    dependencies = SCOPED

    @get("/", summary="名单异动: customers won, lost, reclaimed, handed over, released, archived (managers)")
    async def get_list_changes(
        self,
        tenant_scope: NamedDependency[TenantScope],
        date_from: date | None = Parameter(default=None, description="first day (default: 1st of the month)"),
        date_to: date | None = Parameter(default=None, description="last day, included (default: today)"),
        territory_id: UUID | None = Parameter(default=None, description="this territory and its subtree"),
    ) -> ListChangesRead:
        return await list_changes.list_changes(
            tenant_scope, date_from=date_from, date_to=date_to, territory_id=territory_id
        )


class PoolHiddenFieldsController(Controller):
    path = "/api/v1/pools/{pool_id:uuid}/hidden-fields"
    tags = ("pool",)
    dependencies = SCOPED

    @get("/", summary="What a pool hides until claimed (phone, address, tax_id, contacts), shown masked")
    async def get_hidden_fields(
        self, tenant_scope: NamedDependency[TenantScope], pool_id: FromPath[UUID]
    ) -> masking.PoolHiddenFieldsRead:
        return await masking.get_hidden_fields(tenant_scope, pool_id)

    @put("/", summary="Set what a pool hides until claimed (owner/admin)")
    async def set_hidden_fields(
        self,
        tenant_scope: NamedDependency[TenantScope],
        pool_id: FromPath[UUID],
        data: JSONBody[masking.HiddenFields],
    ) -> masking.PoolHiddenFieldsRead:
        return await masking.set_hidden_fields(tenant_scope, pool_id, data)


ROUTES = [
    CustomerController,
    PoolHiddenFieldsController,
    ContactController,
    FollowupController,
    ConflictController,
    ListChangesController,
]
