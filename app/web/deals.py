"""The deal pages' router: the board and list (``deal_board``), a deal (``deal_page``) and its quote
builder (``quote_builder``). The rules are the deal services'; see each module."""

from __future__ import annotations

from litestar import Router

from app.web import deal_board, deal_page, quote_builder
from app.web.shell import PAGE, PAGE_ERRORS

ROUTER = Router(
    path="/",
    route_handlers=[*deal_board.ROUTES, *deal_page.ROUTES, *quote_builder.ROUTES],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
