"""The onboarding checklist, ``/onboarding`` (owners and admins): the six steps a new company takes
before its team starts — company profile (乙方 details for contracts), territories, invite the team,
pool rules, price list, document templates — each linking to its page and ticked when the data says
it is done (never a flag kept on the side): the profile has its legal name and credit code, a
territory exists, someone was invited or joined, the pool rules were saved, a product is on the
price list, a template is active.

Every read is a service's (the ones the API calls), so a rep gets their 403."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from app.customers.pool.rules import get_pool_rules
from app.deals.products import list_products
from app.documents.templates import list_templates
from app.i18n import N_
from app.territories.service import list_territories
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants import invitations, members, profile
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str  # message ids, translated when shown
    why: str
    path: str
    done: bool


async def steps(request: Request[Any, Any, Any], scope: TenantScope) -> list[Step]:
    """The checklist, each step ticked from the tenant's data."""
    scope.require("admin")  # the first read below would refuse too; refuse before six reads
    company = await profile.get_profile(scope, request.app.state.storage)
    territories = await list_territories(scope, limit=1)
    invited = await invitations.list_invitations(scope, limit=1)
    team = await members.list_members(scope, limit=2)
    rules = await get_pool_rules(scope)
    products = await list_products(scope, limit=1)
    templates = await list_templates(scope, limit=50)
    return [
        Step(
            "company",
            N_("Company profile"),
            N_("Your legal name, credit code, address and bank: Party B (乙方) of every contract."),
            "/settings/company",
            bool(company.legal_name and company.credit_code),
        ),
        Step(
            "territories",
            N_("Territories"),
            N_("The regions your team works: each customer belongs to one."),
            "/territories",
            bool(territories.items),
        ),
        Step(
            "team",
            N_("Invite the team"),
            N_("Your managers and reps, each with a role."),
            "/members",
            bool(invited.items) or len(team.items) > 1,
        ),
        Step(
            "pool",
            N_("Pool rules"),
            N_("How many customers a rep may hold, and when an idle one goes back to the pool."),
            "/settings/pool-rules",
            rules.customized,
        ),
        Step(
            "prices",
            N_("Price list"),
            N_("Your products with list and floor prices: quotes are built from them."),
            "/settings/price-list",
            bool(products.items),
        ),
        Step(
            "templates",
            N_("Templates"),
            N_("Your contract and proposal templates (DOCX)."),
            "/settings/templates",
            any(t.active for t in templates.items),
        ),
    ]


@get("/onboarding")
async def onboarding_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    checklist = await steps(request, tenant_scope)
    done = sum(s.done for s in checklist)
    return await render(
        request, tenant_scope, "app/onboarding.html", steps=checklist, done=done, total=len(checklist)
    )


ROUTER = Router(
    path="/",
    route_handlers=[onboarding_page],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
