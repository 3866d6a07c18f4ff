"""The deal page's quote builder: lines from the price list (seats, licences, modules, service days,
maintenance years), a live preview that flags a price under the floor *before* the round is created
(``money.line_math`` and ``money.below_floor``, the functions ``quotes.create_quote`` uses), then
create the round, submit it for approval and send it — each through the quote services.

Addresses: ``POST /deals/{id}/quotes`` (create), ``POST /deals/{id}/quotes/preview`` and
``GET /deals/{id}/quotes/line`` (the builder's own: a preview, one more line),
``POST /quotes/{id}/submit`` and ``POST /quotes/{id}/send``. The deal is read first everywhere, so an
invisible or another tenant's deal or quote is the services' 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.deals import products, quotes, service
from app.deals.money import LineMath, Totals, below_floor, line_math, quote_totals
from app.deals.schemas import DealRead, ProductRead, QuoteCreate, QuoteRead
from app.errors import ValidationFailed
from app.web.deal_words import convert, form_value, words
from app.web.shell import render
from tenants.scope import TenantScope

MAX_LINES = 500
VALID_DAYS = 30
DEFAULT_TAX = Decimal("13")


@dataclass
class Line:
    """One row of the builder as entered, and what it comes to (``math`` None while incomplete)."""

    n: int
    product_id: str = ""
    quantity: str = "1"
    unit_price: str = ""
    discount_percent: str = "0"
    product: ProductRead | None = None
    math: LineMath | None = None
    below_floor: bool = False


@dataclass
class Preview:
    lines: list[Line]
    totals: Totals | None
    previous_total: Decimal | None
    currency: str

    @property
    def below_floor(self) -> bool:
        return any(line.below_floor for line in self.lines)

    @property
    def above_previous(self) -> bool:
        return bool(
            self.totals and self.previous_total is not None and self.totals.total > self.previous_total
        )


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def compute(
    lines: list[Line],
    price_list: dict[str, ProductRead],
    tax_rate: str,
    previous: Decimal | None,
    currency: str,
) -> Preview:
    """Each complete line's amount and floor flag, and the totals, as ``create_quote`` will compute
    them; the service still checks everything again when the round is created."""
    maths: list[LineMath] = []
    for line in lines:
        line.product = price_list.get(line.product_id)
        quantity = _decimal(line.quantity)
        discount = _decimal(line.discount_percent or "0")
        price = (
            _decimal(line.unit_price)
            if line.unit_price
            else (line.product.list_price if line.product else None)
        )
        if line.product is None or quantity is None or quantity <= 0 or discount is None or price is None:
            continue
        line.math = line_math(quantity, price, discount)
        line.below_floor = below_floor(line.math, line.product.floor_price)
        maths.append(line.math)
    rate = _decimal(tax_rate) if tax_rate else DEFAULT_TAX
    totals = quote_totals(maths, rate) if maths and rate is not None else None
    return Preview(lines, totals, previous, currency)


def _from_quote(quote: QuoteRead) -> list[Line]:
    return [
        Line(
            i,
            str(line.product_id),
            f"{line.quantity.normalize():f}",
            f"{line.unit_price:f}",
            f"{line.discount_percent.normalize():f}",
        )
        for i, line in enumerate(quote.lines)
    ]


def builder(deal: DealRead, rounds: list[QuoteRead], price_list: list[ProductRead]) -> dict[str, Any]:
    """The builder for the next round: its lines start from the latest round's (or one empty line)."""
    latest = rounds[-1] if rounds else None
    lines = _from_quote(latest) if latest else [Line(0)]
    offered = {str(p.id): p for p in price_list if p.currency == deal.currency}
    return {
        "round": len(rounds) + 1,
        "products": list(offered.values()),
        "preview": compute(lines, offered, str(DEFAULT_TAX), latest.total if latest else None, deal.currency),
        "next_line": len(lines),
        "valid_until": (datetime.now(UTC).date() + timedelta(days=VALID_DAYS)).isoformat(),
        "tax_rate": str(DEFAULT_TAX),
    }


def _form_lines(form: FormMultiDict) -> list[Line]:
    lines = []
    for n in range(MAX_LINES):
        product = form_value(form, f"line-{n}-product_id")
        if f"line-{n}-product_id" not in form:
            continue
        lines.append(
            Line(
                n,
                product,
                form_value(form, f"line-{n}-quantity"),
                form_value(form, f"line-{n}-unit_price"),
                form_value(form, f"line-{n}-discount_percent"),
            )
        )
    return lines


async def _price_list(scope: TenantScope, deal: DealRead) -> dict[str, ProductRead]:
    page = await products.list_products(scope, active=True, limit=200)
    return {str(p.id): p for p in page.items if p.currency == deal.currency}


@post("/deals/{deal_id:uuid}/quotes/preview")
async def preview(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template:
    deal = await service.get_deal(tenant_scope, deal_id)
    rounds = await quotes.list_quotes(tenant_scope, deal_id)
    form = await request.form()
    result = compute(
        _form_lines(form),
        await _price_list(tenant_scope, deal),
        form_value(form, "tax_rate"),
        rounds[-1].total if rounds else None,
        deal.currency,
    )
    return await render(request, tenant_scope, "app/_quote_preview.html", preview=result, **words())


@get("/deals/{deal_id:uuid}/quotes/line")
async def new_line(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template:
    """One more empty line (``n``: its number) and the "add a line" button for the one after."""
    deal = await service.get_deal(tenant_scope, deal_id)
    try:
        n = min(max(int(request.query_params.get("n", "0")), 0), MAX_LINES - 1)
    except ValueError:
        n = 0
    return await render(
        request,
        tenant_scope,
        "app/_quote_line.html",
        deal=deal,
        line=Line(n),
        products=list((await _price_list(tenant_scope, deal)).values()),
        next_line=n + 1,
        add_oob=True,
        **words(),
    )


@post("/deals/{deal_id:uuid}/quotes")
async def create_quote(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Response[Any]:
    form = await request.form()
    lines = []
    for line in _form_lines(form):
        if not line.product_id:
            continue
        entry: dict[str, Any] = {"product_id": line.product_id, "quantity": line.quantity or "0"}
        if line.unit_price:
            entry["unit_price"] = line.unit_price
        if line.discount_percent:
            entry["discount_percent"] = line.discount_percent
        lines.append(entry)
    if not lines:
        await service.get_deal(tenant_scope, deal_id)  # another tenant's deal: 404 before anything else
        raise ValidationFailed.field("lines", "Add at least one line")
    body: dict[str, Any] = {
        "lines": lines,
        "valid_until": form_value(form, "valid_until"),
        "formal": form_value(form, "formal") == "1",
    }
    if tax := form_value(form, "tax_rate"):
        body["tax_rate"] = tax
    if note := form_value(form, "note"):
        body["note"] = note
    await quotes.create_quote(tenant_scope, deal_id, convert(body, QuoteCreate))
    return Response("", status_code=201, headers={"HX-Refresh": "true"})


@post("/quotes/{quote_id:uuid}/submit")
async def submit(tenant_scope: NamedDependency[TenantScope], quote_id: FromPath[UUID]) -> Response[Any]:
    await quotes.submit_quote(tenant_scope, quote_id)
    return Response("", status_code=202, headers={"HX-Refresh": "true"})


@post("/quotes/{quote_id:uuid}/send")
async def send(tenant_scope: NamedDependency[TenantScope], quote_id: FromPath[UUID]) -> Response[Any]:
    await quotes.send_quote(tenant_scope, quote_id)
    return Response("", status_code=200, headers={"HX-Refresh": "true"})


ROUTES = [preview, new_line, create_quote, submit, send]
