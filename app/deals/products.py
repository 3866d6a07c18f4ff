"""The tenant's price list (one per tenant, so quotes inside a territory follow one price list).
Everyone reads it; owner/admin write. SKUs are unique per tenant; floor price ≤ list price."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from msgspec import UnsetType

from app import audit
from app.deals.money import check_money
from app.deals.schemas import ProductCreate, ProductRead, ProductUpdate
from app.errors import Conflict, NotFound, ValidationFailed
from app.pagination import Page, check_limit, decode_cursor
from app.pagination import encode_cursor as _encode
from app.rows import to_struct, to_structs
from tenants.scope import TenantScope

_COLUMNS = "id, sku, name, edition, unit, list_price, floor_price, currency, active, created_at, updated_at"


def _check_prices(list_price: Any, floor_price: Any) -> None:
    check_money("list_price", list_price)
    check_money("floor_price", floor_price)
    if floor_price > list_price:
        raise ValidationFailed.field("floor_price", "The floor price cannot be above the list price")


def _sku_conflict(sku: str) -> Conflict:
    return Conflict("A product with SKU {sku} already exists", sku=sku, extra={"field": "sku"})


async def list_products(
    scope: TenantScope, *, active: bool | None = None, limit: int = 100, cursor: str | None = None
) -> Page[ProductRead]:
    check_limit(limit)
    after = decode_cursor(cursor, 1)
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM products WHERE tenant = $1 AND ($2::boolean IS NULL OR active = $2)"
            " AND ($3::text IS NULL OR sku > $3) ORDER BY sku LIMIT $4",
            scope.tenant_id,
            active,
            after[0] if after else None,
            limit + 1,
        )
    items = to_structs(ProductRead, rows[:limit])
    return Page(items=items, next_cursor=_encode(items[-1].sku) if len(rows) > limit else None)


async def get_product(scope: TenantScope, product_id: UUID) -> ProductRead:
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            f"SELECT {_COLUMNS} FROM products WHERE tenant = $1 AND id = $2", scope.tenant_id, product_id
        )
    if row is None:
        raise NotFound("No product with this id")
    return to_struct(ProductRead, row)


async def create_product(scope: TenantScope, data: ProductCreate) -> ProductRead:
    scope.require("admin")
    _check_prices(data.list_price, data.floor_price)
    try:
        async with scope.tx() as tx:
            row = await tx.fetchrow(
                "INSERT INTO products"
                " (tenant, sku, name, edition, unit, list_price, floor_price, currency, active)"
                f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_COLUMNS}",
                scope.tenant_id,
                data.sku.strip(),
                data.name.strip(),
                data.edition,
                data.unit,
                data.list_price,
                data.floor_price,
                data.currency or scope.currency,
                data.active,
            )
            assert row is not None
            await audit.record(
                tx, scope.user_id, "product.created", "product", row["id"], data={"sku": data.sku}
            )
            return to_struct(ProductRead, row)
    except asyncpg.UniqueViolationError:
        raise _sku_conflict(data.sku) from None


async def update_product(scope: TenantScope, product_id: UUID, data: ProductUpdate) -> ProductRead:
    changes = {
        f: getattr(data, f) for f in data.__struct_fields__ if not isinstance(getattr(data, f), UnsetType)
    }
    try:
        async with scope.tx() as tx:
            current = await tx.fetchrow(
                f"SELECT {_COLUMNS} FROM products WHERE tenant = $1 AND id = $2 FOR UPDATE",
                scope.tenant_id,
                product_id,
            )
            if current is None:
                raise NotFound("No product with this id")
            scope.require("admin")
            merged = {**dict(current), **changes}
            _check_prices(merged["list_price"], merged["floor_price"])
            row = await tx.fetchrow(
                "UPDATE products SET sku = $3, name = $4, edition = $5, unit = $6, list_price = $7,"
                " floor_price = $8, currency = $9, active = $10, updated_at = now()"
                f" WHERE tenant = $1 AND id = $2 RETURNING {_COLUMNS}",
                scope.tenant_id,
                product_id,
                merged["sku"],
                merged["name"],
                merged["edition"],
                merged["unit"],
                merged["list_price"],
                merged["floor_price"],
                merged["currency"],
                merged["active"],
            )
            assert row is not None
            await audit.record(
                tx,
                scope.user_id,
                "product.updated",
                "product",
                product_id,
                data={k: str(v) for k, v in changes.items()},
            )
            return to_struct(ProductRead, row)
    except asyncpg.UniqueViolationError:
        raise _sku_conflict(str(changes.get("sku"))) from None
