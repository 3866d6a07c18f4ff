"""HTTP routes for the price list, deals, stage moves and rules, quotes, approvals, contract terms
and collections. Thin: parse, call one service, return."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from app.deals import approvals, pipeline, products, quotes, service, stage_moves
from app.deals.aftersales.routes import ROUTES as AFTERSALES_ROUTES
from app.deals.collections import contracts, items, payments, terms
from app.deals.collections.schemas import (
    CollectionItemRead,
    CollectionPaid,
    CollectionRead,
    ContractTermsRead,
    ContractTermsWrite,
    DealContractRead,
    MilestonesWrite,
    OverdueGroupRead,
    PaymentRead,
)
from app.deals.commission_routes import ROUTES as COMMISSION_ROUTES
from app.deals.registrations.routes import ROUTES as REGISTRATION_ROUTES
from app.deals.schemas import (
    ApprovalRead,
    DealCreate,
    DealRead,
    DealUpdate,
    Decision,
    PipelineRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    QuoteCreate,
    QuoteRead,
    StageChangeRead,
    StageMove,
    StageRulesRead,
)
from app.deals.stages import StageRules
from app.pagination import PAGED, Page, PageParams, page_name, paged
from tenants.key_scopes import needs
from tenants.scope import SCOPED, TenantScope

# The item type moved out of app.deals.schemas; its page keeps its published component name.
CollectionPage = Annotated[Page[CollectionItemRead], page_name("app.deals.schemas", CollectionItemRead)]


class ProductController(Controller):
    path = "/api/v1/products"
    tags = ("products",)
    dependencies = SCOPED

    @get("/", summary="The price list, by SKU (active=true: only active products)", dependencies=paged(100))
    async def list_products(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        active: FromQuery[bool | None] = None,
    ) -> Page[ProductRead]:
        return await products.list_products(tenant_scope, active=active, limit=page.limit, cursor=page.cursor)

    @post("/", status_code=HTTP_201_CREATED, summary="Add a product (owner/admin)")
    async def create_product(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[ProductCreate]
    ) -> ProductRead:
        return await products.create_product(tenant_scope, data)

    @get("/{product_id:uuid}", summary="One product")
    async def get_product(
        self, tenant_scope: NamedDependency[TenantScope], product_id: FromPath[UUID]
    ) -> ProductRead:
        return await products.get_product(tenant_scope, product_id)

    @patch("/{product_id:uuid}", summary="Change a product (owner/admin)")
    async def update_product(
        self,
        tenant_scope: NamedDependency[TenantScope],
        product_id: FromPath[UUID],
        data: JSONBody[ProductUpdate],
    ) -> ProductRead:
        return await products.update_product(tenant_scope, product_id, data)


class DealController(Controller):
    path = "/api/v1/deals"
    tags = ("deals",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Visible deals, newest first; filter by customer, stage, owner, territory (subtree),"
        " expected close date from/to",
        dependencies=PAGED,
        opt=needs("deals:read"),
    )
    async def list_deals(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        customer_id: FromQuery[UUID | None] = None,
        stage: FromQuery[str | None] = None,
        owner: FromQuery[UUID | None] = None,
        territory_id: FromQuery[UUID | None] = None,
        close_from: FromQuery[date | None] = None,
        close_to: FromQuery[date | None] = None,
    ) -> Page[DealRead]:
        return await service.list_deals(
            tenant_scope,
            customer_id=customer_id,
            stage=stage,
            owner=owner,
            territory_id=territory_id,
            close_from=close_from,
            close_to=close_to,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="Open a deal for a visible customer")
    async def create_deal(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[DealCreate]
    ) -> DealRead:
        return await service.create_deal(tenant_scope, data)

    @get("/stage-rules", summary="The stage matrix (owner/admin)")
    async def get_stage_rules(self, tenant_scope: NamedDependency[TenantScope]) -> StageRulesRead:
        return await stage_moves.get_stage_rules(tenant_scope)

    @put("/stage-rules", summary="Replace the stage matrix (owner/admin); cells left out take the defaults")
    async def put_stage_rules(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[StageRules]
    ) -> StageRulesRead:
        return await stage_moves.put_stage_rules(tenant_scope, data)

    @get("/{deal_id:uuid}", summary="One deal", opt=needs("deals:read"))
    async def get_deal(self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]) -> DealRead:
        return await service.get_deal(tenant_scope, deal_id)

    @patch("/{deal_id:uuid}", summary="Change a deal's fields (not its stage)")
    async def update_deal(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID], data: JSONBody[DealUpdate]
    ) -> DealRead:
        return await service.update_deal(tenant_scope, deal_id, data)

    @post(
        "/{deal_id:uuid}/stage",
        status_code=HTTP_200_OK,
        summary="Move the deal: 200 applied, 202 an approval request was opened",
        responses={
            HTTP_200_OK: ResponseSpec(DealRead, description="The move is applied", generate_examples=False),
            HTTP_202_ACCEPTED: ResponseSpec(
                ApprovalRead, description="The move needs approval: its request", generate_examples=False
            ),
        },
    )
    async def move_stage(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID], data: JSONBody[StageMove]
    ) -> Response[DealRead | ApprovalRead]:
        result = await stage_moves.move_stage(tenant_scope, deal_id, data)
        status = HTTP_202_ACCEPTED if isinstance(result, ApprovalRead) else HTTP_200_OK
        return Response(result, status_code=status)

    @get("/{deal_id:uuid}/stage-history", summary="The deal's stage changes, oldest first")
    async def stage_history(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> list[StageChangeRead]:
        return await service.stage_history(tenant_scope, deal_id)

    @get("/{deal_id:uuid}/quotes", summary="The deal's quotes by round")
    async def list_quotes(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> list[QuoteRead]:
        return await quotes.list_quotes(tenant_scope, deal_id)

    @post("/{deal_id:uuid}/quotes", status_code=HTTP_201_CREATED, summary="The next quote round (at most 3)")
    async def create_quote(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID], data: JSONBody[QuoteCreate]
    ) -> QuoteRead:
        return await quotes.create_quote(tenant_scope, deal_id, data)

    @get("/{deal_id:uuid}/contract-terms", summary="Contract terms (defaults until saved) and milestones")
    async def get_terms(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> ContractTermsRead:
        return await terms.get_terms(tenant_scope, deal_id)

    @put("/{deal_id:uuid}/contract-terms", summary="Save the contract terms")
    async def put_terms(
        self,
        tenant_scope: NamedDependency[TenantScope],
        deal_id: FromPath[UUID],
        data: JSONBody[ContractTermsWrite],
    ) -> ContractTermsRead:
        return await terms.put_terms(tenant_scope, deal_id, data)

    @put(
        "/{deal_id:uuid}/milestones",
        summary="Edit the payment milestones (adding up to the contract total; empty: the rule's)",
    )
    async def put_milestones(
        self,
        tenant_scope: NamedDependency[TenantScope],
        deal_id: FromPath[UUID],
        data: JSONBody[MilestonesWrite],
    ) -> ContractTermsRead:
        return await terms.put_milestones(tenant_scope, deal_id, data)

    @get(
        "/{deal_id:uuid}/contracts",
        summary="The deal's contracts, newest first: the money each was rendered with, the signed one",
    )
    async def list_contracts(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> list[DealContractRead]:
        return await contracts.list_contracts(tenant_scope, deal_id)

    @get("/{deal_id:uuid}/collections", summary="The deal's collection items (回款)")
    async def list_collections(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> list[CollectionRead]:
        return await items.list_deal_collections(tenant_scope, deal_id)


class QuoteController(Controller):
    path = "/api/v1/quotes"
    tags = ("quotes",)
    dependencies = SCOPED

    @get("/{quote_id:uuid}", summary="One quote with its lines")
    async def get_quote(
        self, tenant_scope: NamedDependency[TenantScope], quote_id: FromPath[UUID]
    ) -> QuoteRead:
        return await quotes.get_quote(tenant_scope, quote_id)

    @post("/{quote_id:uuid}/submit", status_code=HTTP_202_ACCEPTED, summary="Ask the manager to approve")
    async def submit(
        self, tenant_scope: NamedDependency[TenantScope], quote_id: FromPath[UUID]
    ) -> ApprovalRead:
        return await quotes.submit_quote(tenant_scope, quote_id)

    @post("/{quote_id:uuid}/approve", status_code=HTTP_200_OK, summary="Approve (a manager of the territory)")
    async def approve(
        self,
        tenant_scope: NamedDependency[TenantScope],
        quote_id: FromPath[UUID],
        data: JSONBody[Decision | None] = None,
    ) -> ApprovalRead:
        return await quotes.decide_quote(tenant_scope, quote_id, True, data.comment if data else None)

    @post("/{quote_id:uuid}/reject", status_code=HTTP_200_OK, summary="Reject with a comment")
    async def reject(
        self,
        tenant_scope: NamedDependency[TenantScope],
        quote_id: FromPath[UUID],
        data: JSONBody[Decision | None] = None,
    ) -> ApprovalRead:
        return await quotes.decide_quote(tenant_scope, quote_id, False, data.comment if data else None)

    @post(
        "/{quote_id:uuid}/send",
        status_code=HTTP_200_OK,
        summary="Mark sent (approved, or needing no approval)",
    )
    async def send(self, tenant_scope: NamedDependency[TenantScope], quote_id: FromPath[UUID]) -> QuoteRead:
        return await quotes.send_quote(tenant_scope, quote_id)


class ApprovalController(Controller):
    path = "/api/v1/approvals"
    tags = ("approvals",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Requests you may decide (your subtrees; admins all) and your own; pending by default",
        dependencies=PAGED,
    )
    async def list_approvals(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str | None] = "pending",
        kind: FromQuery[str | None] = None,
    ) -> Page[ApprovalRead]:
        return await approvals.list_approvals(
            tenant_scope,
            status=None if status == "all" else status,
            kind=kind,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/{approval_id:uuid}/approve", status_code=HTTP_200_OK, summary="Approve a request")
    async def approve(
        self,
        tenant_scope: NamedDependency[TenantScope],
        approval_id: FromPath[UUID],
        data: JSONBody[Decision | None] = None,
    ) -> ApprovalRead:
        return await approvals.decide(tenant_scope, approval_id, True, data.comment if data else None)

    @post("/{approval_id:uuid}/reject", status_code=HTTP_200_OK, summary="Reject a request with a comment")
    async def reject(
        self,
        tenant_scope: NamedDependency[TenantScope],
        approval_id: FromPath[UUID],
        data: JSONBody[Decision | None] = None,
    ) -> ApprovalRead:
        return await approvals.decide(tenant_scope, approval_id, False, data.comment if data else None)


class CollectionController(Controller):
    path = "/api/v1/collections"
    tags = ("collections",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Visible collection items by due date; filter by status, owner, territory, due date",
        dependencies=PAGED,
    )
    async def list_collections(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str | None] = None,
        owner: FromQuery[UUID | None] = None,
        territory_id: FromQuery[UUID | None] = None,
        due_before: FromQuery[date | None] = None,
        due_after: FromQuery[date | None] = None,
    ) -> CollectionPage:
        return await items.list_collections(
            tenant_scope,
            status=status,
            owner=owner,
            territory_id=territory_id,
            due_before=due_before,
            due_after=due_after,
            limit=page.limit,
            cursor=page.cursor,
        )

    @get("/overdue", summary="Overdue items by rep and territory, per currency")
    async def overdue(
        self,
        tenant_scope: NamedDependency[TenantScope],
        owner: FromQuery[UUID | None] = None,
        territory_id: FromQuery[UUID | None] = None,
    ) -> list[OverdueGroupRead]:
        return await items.overdue_groups(tenant_scope, owner=owner, territory_id=territory_id)

    @post(
        "/{collection_id:uuid}/paid",
        status_code=HTTP_200_OK,
        summary="Record a payment (partial payments add up; left out: the outstanding amount)",
    )
    async def paid(
        self,
        tenant_scope: NamedDependency[TenantScope],
        collection_id: FromPath[UUID],
        data: JSONBody[CollectionPaid],
    ) -> CollectionRead:
        return await payments.mark_paid(tenant_scope, collection_id, data)

    @get("/{collection_id:uuid}/payments", summary="The item's payments, oldest first")
    async def payments(
        self, tenant_scope: NamedDependency[TenantScope], collection_id: FromPath[UUID]
    ) -> list[PaymentRead]:
        return await payments.list_payments(tenant_scope, collection_id)


class PipelineController(Controller):
    path = "/api/v1/pipeline"
    tags = ("pipeline",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Pipeline by stage and by rep (count, amount, weighted) per currency;"
        " territory subtree, expected close date from/to or a named period",
        opt=needs("deals:read"),
    )
    async def summary(
        self,
        tenant_scope: NamedDependency[TenantScope],
        territory_id: FromQuery[UUID | None] = None,
        from_date: Annotated[date | None, QueryParameter(name="from")] = None,
        to_date: Annotated[date | None, QueryParameter(name="to")] = None,
        period: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
        closed: FromQuery[bool] = False,
    ) -> PipelineRead:
        return await pipeline.summary(
            tenant_scope,
            territory_id=territory_id,
            from_date=from_date,
            to_date=to_date,
            period=period,
            currency=currency,
            closed=closed,
        )


ROUTES: list[type[Controller]] = [
    ProductController,
    DealController,
    QuoteController,
    ApprovalController,
    CollectionController,
    PipelineController,
    *REGISTRATION_ROUTES,
    *COMMISSION_ROUTES,
    *AFTERSALES_ROUTES,
]
