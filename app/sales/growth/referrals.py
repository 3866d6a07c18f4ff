"""Referrals (转介绍): who referred a customer — another customer (``referrer_customer_id``) or a
person (``referrer`` name and ``referrer_contact``), stored on the customer — what became of the
referred customers, and the reward (points or an amount, per tenant) made when one is won.

The reward is made by a WON_HOOK in the winning transaction, once per referred customer (unique
index). Managers see and pay the rewards of customers in their territories; owner/admin all."""

from __future__ import annotations

from decimal import Decimal
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from app import audit
from app.customers.service import load_editable
from app.customers.won import CustomerWon
from app.db import Tx
from app.deals.money import check_money
from app.errors import Conflict, NotFound, ValidationFailed
from app.pagination import Page, check_limit, decode_time_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.sales.growth import settings as growth_settings
from app.sales.growth.schemas import (
    MoneyTotal,
    ReferralRead,
    ReferralWrite,
    RewardRead,
    RewardSettings,
    RewardSettingsRead,
)
from app.sql import Params
from tenants.access import customer_access, managed_territory_ids
from tenants.scope import TenantScope

NAME: Final = "referral_reward"
MAX_POINTS: Final = 1_000_000

_SELECT_REFERRAL: Final = (
    "SELECT c.id AS customer_id, c.full_name AS customer_name, c.status, c.grade, c.owner_membership_id,"
    " c.referrer_customer_id, rc.full_name AS referrer_customer_name, c.referrer AS referrer_name,"
    " c.referrer_contact, c.created_at, rw.id AS reward_id, rw.status AS reward_status,"
    " (SELECT count(*) FROM deals d WHERE d.tenant = c.tenant AND d.customer_id = c.id"
    "  AND d.stage IN ('signed', 'won'))"
    "  AS won_deals,"
    " (SELECT coalesce(json_agg(json_build_object('currency', x.currency, 'amount', x.amount::text)"
    "   ORDER BY x.currency), '[]') FROM (SELECT d.currency, sum(d.amount) AS amount FROM deals d"
    "   WHERE d.tenant = c.tenant AND d.customer_id = c.id AND d.stage IN ('signed', 'won')"
    "   GROUP BY d.currency) x)::text"
    "  AS won_amounts"
    " FROM customers c"
    " LEFT JOIN customers rc ON rc.tenant = c.tenant AND rc.id = c.referrer_customer_id"
    " LEFT JOIN referral_rewards rw ON rw.tenant = c.tenant AND rw.referred_customer_id = c.id"
)


def _read_referral(row: asyncpg.Record) -> ReferralRead:
    return to_struct(
        ReferralRead, row, won_amounts=msgspec.json.decode(row["won_amounts"], type=list[MoneyTotal])
    )


# --- recording who referred a customer --------------------------------------------------------------


async def set_referral(scope: TenantScope, customer_id: UUID, data: ReferralWrite) -> ReferralRead:
    """Record (or, all null, clear) who referred the customer. The referring customer must be one the
    caller sees, not the customer itself, and not one the customer referred; a person needs a name."""
    name = " ".join(data.referrer_name.split()) if data.referrer_name else None
    contact = data.referrer_contact.strip() if data.referrer_contact else None
    if contact and not name and data.referrer_customer_id is None:
        raise ValidationFailed.field("referrer_name", "Required")
    if data.referrer_customer_id == customer_id:
        raise ValidationFailed.field("referrer_customer_id", "A customer cannot refer itself")
    async with scope.tx() as tx:
        row, access = await load_editable(tx, scope, customer_id)
        if data.referrer_customer_id is not None:
            p = Params(scope.tenant_id, data.referrer_customer_id)
            referrer = await tx.fetchrow(
                "SELECT c.referrer_customer_id FROM customers c"
                f" WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}",
                *p.values,
            )
            if referrer is None:
                raise ValidationFailed.field("referrer_customer_id", "No customer with this id")
            if referrer["referrer_customer_id"] == customer_id:
                raise ValidationFailed.field(
                    "referrer_customer_id", "These customers cannot refer each other"
                )
        changed = (data.referrer_customer_id, name) != (row["referrer_customer_id"], row["referrer"])
        if changed and await tx.fetchval(
            "SELECT 1 FROM referral_rewards WHERE tenant = $1 AND referred_customer_id = $2",
            scope.tenant_id,
            customer_id,
        ):
            raise Conflict("The referral was already rewarded; its referrer cannot change")
        referred = data.referrer_customer_id is not None or name is not None
        await tx.execute(
            "UPDATE customers SET referrer_customer_id = $3, referrer = $4, referrer_contact = $5,"
            " source = CASE WHEN $6 AND source IS NULL THEN 'referral' ELSE source END, updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            customer_id,
            data.referrer_customer_id,
            name,
            contact or None,
            referred,
        )
        await audit.record(
            tx,
            scope.user_id,
            "customer.referral",
            "customer",
            customer_id,
            data={"referrer_customer_id": data.referrer_customer_id, "referrer_name": name},
        )
        found = await tx.fetchrow(
            _SELECT_REFERRAL + " WHERE c.tenant = $1 AND c.id = $2", scope.tenant_id, customer_id
        )
        assert found is not None
        return _read_referral(found)


async def list_referrals(
    scope: TenantScope,
    *,
    referrer_customer_id: UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ReferralRead]:
    """Referred customers the caller sees (newest first), with their status, won deals and reward;
    ``referrer_customer_id`` narrows to one referrer's (404 if the caller does not see it)."""
    check_limit(limit)
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
        if referrer_customer_id is not None:
            p = Params(scope.tenant_id, referrer_customer_id)
            if not await tx.fetchval(
                f"SELECT 1 FROM customers c WHERE c.tenant = $1 AND c.id = $2 AND {access.visible_sql(p)}",
                *p.values,
            ):
                raise NotFound("No customer with this id")
        p = Params(scope.tenant_id)
        sql = (
            _SELECT_REFERRAL
            + " WHERE c.tenant = $1 AND (c.referrer_customer_id IS NOT NULL OR c.referrer IS NOT NULL)"
            f" AND {access.visible_sql(p)}"
        )
        if referrer_customer_id is not None:
            sql += f" AND c.referrer_customer_id = {p(referrer_customer_id)}"
        if after:
            sql += f" AND (c.created_at, c.id) < ({p(after[0])}, {p(after[1])})"
        sql += f" ORDER BY c.created_at DESC, c.id DESC LIMIT {p(limit + 1)}"
        rows = await tx.fetch(sql, *p.values)
    items = [_read_referral(r) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if more else None
    return Page(items=items, next_cursor=encode_cursor(last.created_at, last.customer_id) if last else None)


# --- reward settings -------------------------------------------------------------------------------


def _validate(data: RewardSettings, currency: str) -> RewardSettings:
    if data.kind == "points":
        if data.points is None:
            raise ValidationFailed.field("points", "Required")
        if not 1 <= data.points <= MAX_POINTS:
            raise ValidationFailed.field(
                "points", "Use a number from {low} to {high}", low=1, high=MAX_POINTS
            )
        return RewardSettings(kind="points", points=data.points)
    if data.kind == "amount":
        if data.amount is None:
            raise ValidationFailed.field("amount", "Required")
        amount = check_money("amount", data.amount)
        if amount <= Decimal(0):
            raise ValidationFailed.field("amount", "Use an amount above 0")
        return RewardSettings(kind="amount", points=None, amount=amount, currency=data.currency or currency)
    return RewardSettings(kind="none", points=None)


async def load_reward_settings(tx: Tx) -> RewardSettings:
    raw = await growth_settings.load(tx, NAME)
    return msgspec.json.decode(raw, type=RewardSettings) if raw else RewardSettings()


async def _settings_read(tx: Tx) -> RewardSettingsRead:
    s = await load_reward_settings(tx)
    customized = await growth_settings.load(tx, NAME) is not None
    return RewardSettingsRead(s.kind, s.points, s.amount, s.currency, customized)


async def get_reward_settings(scope: TenantScope) -> RewardSettingsRead:
    scope.require("admin")
    async with scope.tx() as tx:
        return await _settings_read(tx)


async def put_reward_settings(scope: TenantScope, data: RewardSettings) -> RewardSettingsRead:
    """Replace the referral reward (owner/admin): points, an amount (tenant currency by default) or none.
    Applies to rewards made from now on; rewards already made keep their value."""
    scope.require("admin")
    clean = _validate(data, scope.currency)
    async with scope.tx() as tx:
        await growth_settings.save(tx, NAME, msgspec.json.encode(clean), scope.membership_id)
        await audit.record(tx, scope.user_id, "referral_reward.settings", "tenant", scope.tenant_id)
        return await _settings_read(tx)


# --- rewards ---------------------------------------------------------------------------------------


async def reward_on_win(tx: Tx, event: CustomerWon) -> None:
    """Won hook (``app.wiring``): the referral reward for a referred customer that is won (at most one
    per customer)."""
    settings = await load_reward_settings(tx)
    if settings.kind == "none":
        return
    reward_id = await tx.fetchval(
        "INSERT INTO referral_rewards (tenant, referred_customer_id, referrer_customer_id, referrer_name,"
        " deal_id, kind, points, amount, currency)"
        " SELECT c.tenant, c.id, c.referrer_customer_id, c.referrer, $3, $4, $5, $6, $7 FROM customers c"
        " WHERE c.tenant = $1 AND c.id = $2"
        " AND (c.referrer_customer_id IS NOT NULL OR c.referrer IS NOT NULL)"
        " ON CONFLICT (tenant, referred_customer_id) DO NOTHING RETURNING id",
        event.tenant_id,
        event.customer_id,
        event.deal_id,
        settings.kind,
        settings.points if settings.kind == "points" else None,
        settings.amount if settings.kind == "amount" else None,
        settings.currency if settings.kind == "amount" else None,
    )
    if reward_id is not None:
        await audit.record(
            tx,
            event.actor_user_id,
            "referral_reward.created",
            "referral_reward",
            reward_id,
            data={"customer_id": event.customer_id},
        )


_SELECT_REWARD: Final = (
    "SELECT rw.*, c.full_name AS referred_customer_name, c.territory_id,"
    " rc.full_name AS referrer_customer_name"
    " FROM referral_rewards rw JOIN customers c ON c.tenant = rw.tenant AND c.id = rw.referred_customer_id"
    " LEFT JOIN customers rc ON rc.tenant = rw.tenant AND rc.id = rw.referrer_customer_id"
)


async def _reward_scope(tx: Tx, scope: TenantScope, p: Params) -> str:
    if scope.at_least("admin"):
        return "TRUE"
    return f"c.territory_id = ANY({p(await managed_territory_ids(tx, scope))}::uuid[])"


async def list_rewards(
    scope: TenantScope, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[RewardRead]:
    """Rewards of referred customers in the manager's territories (owner/admin: all), newest first."""
    scope.require("manager")
    check_limit(limit)
    if status is not None and status not in ("pending", "paid"):
        raise ValidationFailed.field("status", "Use pending or paid")
    after = decode_time_id_cursor(cursor)
    async with scope.tx() as tx:
        p = Params(scope.tenant_id)
        sql = _SELECT_REWARD + " WHERE rw.tenant = $1 AND " + await _reward_scope(tx, scope, p)
        if status:
            sql += f" AND rw.status = {p(status)}"
        if after:
            sql += f" AND (rw.created_at, rw.id) < ({p(after[0])}, {p(after[1])})"
        sql += f" ORDER BY rw.created_at DESC, rw.id DESC LIMIT {p(limit + 1)}"
        rows = await tx.fetch(sql, *p.values)
    items = to_structs(RewardRead, rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more else None)


async def mark_paid(scope: TenantScope, reward_id: UUID) -> RewardRead:
    scope.require("manager")
    async with scope.tx() as tx:
        p = Params(scope.tenant_id, reward_id)
        where = await _reward_scope(tx, scope, p)
        row = await tx.fetchrow(
            _SELECT_REWARD + f" WHERE rw.tenant = $1 AND rw.id = $2 AND {where} FOR UPDATE OF rw", *p.values
        )
        if row is None:
            raise NotFound("No referral reward with this id")
        if row["status"] == "paid":
            raise Conflict("This reward is already paid")
        await tx.execute(
            "UPDATE referral_rewards SET status = 'paid', paid_at = now(), paid_by = $3"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            reward_id,
            scope.membership_id,
        )
        await audit.record(tx, scope.user_id, "referral_reward.paid", "referral_reward", reward_id)
        row = await tx.fetchrow(
            _SELECT_REWARD + " WHERE rw.tenant = $1 AND rw.id = $2", scope.tenant_id, reward_id
        )
        assert row is not None
        return to_struct(RewardRead, row)
