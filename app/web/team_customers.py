"""Team customers (``/customers?view=team``, managers and up): every customer the member sees, the
customer services' visibility deciding which. Reached through ``customers.customers_page``."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from app.customers.search import list_customers
from app.web.shell import is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20


async def page(request: Request[Any, Any, Any], scope: TenantScope) -> Template:
    q = request.query_params.get("q", "").strip() or None
    found = await list_customers(
        scope, owner=None, q=q, limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None
    )
    context: dict[str, Any] = {
        "page": found,
        "team": True,
        "q": q or "",
        "more_query": "view=team&" + (f"q={q}&" if q else ""),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, scope, "app/_customer_items.html", **context)
    return await render(request, scope, "app/customers.html", **context)
