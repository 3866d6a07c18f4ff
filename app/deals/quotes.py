"""Quotes: lines from the tenant's price list, up to three rounds per deal (list → discount → final),
each round's total at most the previous round's. A quote needs the manager's approval before it can
be sent when it is formal or any line's net unit price is under the product's floor price:
draft → submit → pending → approve | reject; approved (or a draft needing none) → send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.deals import approvals
from app.deals.lookup import load_deal
from app.deals.money import LineMath, below_floor, check_money, check_percent, line_math, quote_totals
from app.deals.schemas import ApprovalRead, QuoteCreate, QuoteLineRead, QuoteRead
from app.deals.stages import TERMINAL
from app.errors import Conflict, NotFound, ValidationFailed
from app.rows import to_struct, to_structs
from app.sql import Params
from tenants.access import deal_access
from tenants.scope import TenantScope

MAX_ROUNDS = 3
ROUND_NAMES = {1: "list", 2: "discount", 3: "final"}
MAX_QUANTITY = Decimal("9999999999.99")
_LINE_COLUMNS = (
    "line_no, product_id, sku, name, edition, unit, quantity, list_price, floor_price, unit_price,"
    " discount_percent, amount, below_floor"
)


def _quantity(field: str, value: Decimal) -> Decimal:
    try:
        ok = (
            value.is_finite()
            and Decimal(0) < value <= MAX_QUANTITY
            and value == value.quantize(Decimal("0.01"))
        )
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValidationFailed.field(field, "Use a quantity above 0 with at most two decimals")
    return value


async def _read(tx: Tx, row: asyncpg.Record) -> QuoteRead:
    lines = await tx.fetch(
        f"SELECT {_LINE_COLUMNS} FROM quote_lines WHERE tenant = $1 AND quote_id = $2 ORDER BY line_no",
        row["tenant"],
        row["id"],
    )
    return to_struct(
        QuoteRead, row, round_name=ROUND_NAMES[row["round"]], lines=to_structs(QuoteLineRead, lines)
    )


async def load_quote(tx: Tx, scope: TenantScope, quote_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    """The quote if the caller sees its deal, else 404."""
    access = await deal_access(tx, scope)
    p = Params(scope.tenant_id, quote_id)
    row = await tx.fetchrow(
        "SELECT q.*, c.territory_id FROM quotes q JOIN deals d ON d.tenant = q.tenant AND d.id = q.deal_id"
        " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
        f" WHERE q.tenant = $1 AND q.id = $2 AND {access.visible_sql(p)}"
        + (" FOR UPDATE OF q" if lock else ""),
        *p.values,
    )
    if row is None:
        raise NotFound("No quote with this id")
    return row


async def create_quote(scope: TenantScope, deal_id: UUID, data: QuoteCreate) -> QuoteRead:
    tax_rate = check_percent("tax_rate", data.tax_rate)
    async with scope.tx() as tx:
        deal, _ = await load_deal(tx, scope, deal_id, lock=True)
        if deal["stage"] in TERMINAL:
            raise Conflict("This deal is closed; its stage cannot change")
        if data.valid_until < datetime.now(UTC).date():
            raise ValidationFailed.field("valid_until", "The validity date is in the past")
        previous = await tx.fetchrow(
            "SELECT round, total FROM quotes WHERE tenant = $1 AND deal_id = $2 ORDER BY round DESC LIMIT 1",
            scope.tenant_id,
            deal_id,
        )
        round_no = (previous["round"] if previous else 0) + 1
        if round_no > MAX_ROUNDS:
            raise Conflict("A deal has at most three quote rounds")
        products = {
            r["id"]: r
            for r in await tx.fetch(
                "SELECT id, sku, name, edition, unit, list_price, floor_price, currency, active FROM products"
                " WHERE tenant = $1 AND id = ANY($2::uuid[])",
                scope.tenant_id,
                [line.product_id for line in data.lines],
            )
        }
        rows: list[tuple[object, ...]] = []
        maths: list[LineMath] = []
        for i, line in enumerate(data.lines):
            field = f"lines[{i}]"
            product = products.get(line.product_id)
            if product is None:
                raise ValidationFailed.field(f"{field}.product_id", "No product with this id")
            if not product["active"]:
                raise ValidationFailed.field(f"{field}.product_id", "This product is not active")
            if product["currency"] != deal["currency"]:
                raise ValidationFailed.field(
                    f"{field}.product_id", "This product is priced in another currency"
                )
            quantity = _quantity(f"{field}.quantity", line.quantity)
            discount = check_percent(f"{field}.discount_percent", line.discount_percent)
            unit_price = check_money(
                f"{field}.unit_price",
                line.unit_price if line.unit_price is not None else product["list_price"],
            )
            math = line_math(quantity, unit_price, discount)
            maths.append(math)
            rows.append(
                (
                    i + 1,
                    product["id"],
                    product["sku"],
                    product["name"],
                    product["edition"],
                    product["unit"],
                    quantity,
                    product["list_price"],
                    product["floor_price"],
                    unit_price,
                    discount,
                    math.amount,
                    below_floor(math, product["floor_price"]),
                )
            )
        totals = quote_totals(maths, tax_rate)
        if previous is not None and totals.total > previous["total"]:
            raise ValidationFailed.field(
                "lines",
                "A later round cannot total more than the previous round ({total})",
                total=previous["total"],
            )
        needs_approval = data.formal or any(r[-1] for r in rows)
        quote = await tx.fetchrow(
            "INSERT INTO quotes (tenant, deal_id, round, formal, currency, tax_rate, valid_until,"
            " needs_approval,"
            " subtotal, discount, tax, total, note, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *",
            scope.tenant_id,
            deal_id,
            round_no,
            data.formal,
            deal["currency"],
            tax_rate,
            data.valid_until,
            needs_approval,
            totals.subtotal,
            totals.discount,
            totals.tax,
            totals.total,
            data.note,
            scope.membership_id,
        )
        assert quote is not None
        columns = list(zip(*rows, strict=True))
        await tx.execute(
            f"INSERT INTO quote_lines (tenant, quote_id, {_LINE_COLUMNS}) SELECT $1, $2, * FROM unnest("
            "$3::smallint[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::numeric[],"
            " $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[],"
            " $15::boolean[])",
            scope.tenant_id,
            quote["id"],
            *[list(c) for c in columns],
        )
        await audit.record(
            tx,
            scope.user_id,
            "quote.created",
            "quote",
            quote["id"],
            data={"deal_id": deal_id, "round": round_no, "total": totals.total},
        )
        return await _read(tx, quote)


async def list_quotes(scope: TenantScope, deal_id: UUID) -> list[QuoteRead]:
    async with scope.tx() as tx:
        await load_deal(tx, scope, deal_id)
        rows = await tx.fetch(
            "SELECT * FROM quotes WHERE tenant = $1 AND deal_id = $2 ORDER BY round", scope.tenant_id, deal_id
        )
        return [await _read(tx, r) for r in rows]


async def get_quote(scope: TenantScope, quote_id: UUID) -> QuoteRead:
    async with scope.tx() as tx:
        return await _read(tx, await load_quote(tx, scope, quote_id))


async def submit_quote(scope: TenantScope, quote_id: UUID) -> ApprovalRead:
    """Ask for approval (a draft only; 409 otherwise)."""
    async with scope.tx() as tx:
        quote = await load_quote(tx, scope, quote_id, lock=True)
        if quote["status"] != "draft":
            raise Conflict("Only a draft quote can be submitted")
        deal, _ = await load_deal(tx, scope, quote["deal_id"])
        await tx.execute(
            "UPDATE quotes SET status = 'pending', updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            quote_id,
        )
        reasons = ["formal"] if quote["formal"] else []
        if await tx.fetchval(
            "SELECT bool_or(below_floor) FROM quote_lines WHERE tenant = $1 AND quote_id = $2",
            scope.tenant_id,
            quote_id,
        ):
            reasons.append("below_floor")
        return await approvals.request_approval(
            tx,
            scope,
            "quote",
            quote_id,
            deal,
            {
                "round": quote["round"],
                "total": quote["total"],
                "currency": quote["currency"],
                "reasons": reasons,
            },
        )


async def decide_quote(
    scope: TenantScope, quote_id: UUID, approve: bool, comment: str | None
) -> ApprovalRead:
    async with scope.tx() as tx:
        await load_quote(tx, scope, quote_id)
        approval_id = await approvals.pending_for(tx, scope, "quote", quote_id)
        return await approvals.decide_in(tx, scope, approval_id, approve, comment)


async def send_quote(scope: TenantScope, quote_id: UUID) -> QuoteRead:
    """Mark the quote sent: approved ones, and drafts that need no approval; else 409."""
    async with scope.tx() as tx:
        quote = await load_quote(tx, scope, quote_id, lock=True)
        if quote["status"] == "sent":
            raise Conflict("This quote was sent already")
        if not (
            quote["status"] == "approved" or (quote["status"] == "draft" and not quote["needs_approval"])
        ):
            raise Conflict("This quote needs the manager's approval before it is sent")
        row = await tx.fetchrow(
            "UPDATE quotes SET status = 'sent', sent_at = now(), updated_at = now()"
            " WHERE tenant = $1 AND id = $2"
            " RETURNING *",
            scope.tenant_id,
            quote_id,
        )
        assert row is not None
        await audit.record(tx, scope.user_id, "quote.sent", "quote", quote_id)
        return await _read(tx, row)
