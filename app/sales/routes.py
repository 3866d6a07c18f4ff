"""HTTP routes of sales management: field work (plans, reports, targets) and growth (tasks, funnel,
referrals, return visits)."""

from litestar import Controller

from app.sales.field_routes import ROUTES as FIELD_ROUTES
from app.sales.growth_routes import ROUTES as GROWTH_ROUTES

ROUTES: list[type[Controller]] = [*FIELD_ROUTES, *GROWTH_ROUTES]
