"""Quote and payment arithmetic, and the checks of entered amounts: pure ``Decimal`` functions, no
I/O (unit-tested).

Every amount is rounded half-up to cents once, where it is stated: a line's amount, the quote's
tax, each milestone. Prices are tax-exclusive: ``total = subtotal - discount + tax``. A milestone
plan always adds up to the total exactly (the balance takes the rounding remainder).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.errors import ValidationFailed

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")
HUNDRED = Decimal(100)
FULL_PAYMENT_BELOW = Decimal(10_000)  # under this: paid in full after installation
DEPOSIT_PERCENT = 20


def cents(value: Decimal) -> Decimal:
    """Round half-up to cents: ``cents(Decimal("0.125")) == Decimal("0.13")``."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class LineMath:
    gross: Decimal  # quantity × unit price
    amount: Decimal  # after the line's discount
    net_unit_price: Decimal  # the unit price after the discount, compared with the floor price


def line_math(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> LineMath:
    factor = (HUNDRED - discount_percent) / HUNDRED
    return LineMath(
        gross=cents(quantity * unit_price),
        amount=cents(quantity * unit_price * factor),
        net_unit_price=unit_price * factor,
    )


def below_floor(line: LineMath, floor_price: Decimal) -> bool:
    """Whether the line's net unit price is under the product's floor price (the manager must approve)."""
    return line.net_unit_price < floor_price


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal  # Σ gross
    discount: Decimal  # Σ gross − Σ amount
    tax: Decimal  # (subtotal − discount) × tax rate
    total: Decimal


def quote_totals(lines: list[LineMath], tax_rate_percent: Decimal) -> Totals:
    subtotal = sum((line.gross for line in lines), Decimal("0.00"))
    net = sum((line.amount for line in lines), Decimal("0.00"))
    tax = cents(net * tax_rate_percent / HUNDRED)
    return Totals(subtotal=subtotal, discount=subtotal - net, tax=tax, total=net + tax)


@dataclass(frozen=True, slots=True)
class Milestone:
    code: str  # full | deposit | delivery | balance
    percent: int
    amount: Decimal
    due_days: int  # days after signing


def milestones(
    total: Decimal, *, delivery_percent: int = 60, stable_weeks: int = 2, installation_days: int = 30
) -> list[Milestone]:
    """The handbook's payment plan. Under 10,000: 100% after installation. From 10,000: 20% at
    signing (due in 7 days), ``delivery_percent`` (50–70) after delivery and installation, the
    balance after ``stable_weeks`` (1–2) of stable running. Raises ``ValueError`` out of range."""
    if not 50 <= delivery_percent <= 70:
        raise ValueError("delivery_percent must be 50..70")
    if not 1 <= stable_weeks <= 2:
        raise ValueError("stable_weeks must be 1..2")
    total = cents(total)
    if total < FULL_PAYMENT_BELOW:
        return [Milestone("full", 100, total, installation_days)]
    deposit = cents(total * DEPOSIT_PERCENT / HUNDRED)
    delivery = cents(total * delivery_percent / HUNDRED)
    return [
        Milestone("deposit", DEPOSIT_PERCENT, deposit, 7),
        Milestone("delivery", delivery_percent, delivery, installation_days),
        Milestone(
            "balance",
            100 - DEPOSIT_PERCENT - delivery_percent,
            total - deposit - delivery,
            installation_days + 7 * stable_weeks,
        ),
    ]


def check_money(field: str, value: Decimal) -> Decimal:
    """A non-negative amount with at most two decimals, else 422 on ``field``."""
    try:
        ok = (
            value.is_finite()
            and Decimal(0) <= value <= MAX_MONEY
            and value == value.quantize(Decimal("0.01"))
        )
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValidationFailed.field(field, "Use an amount from 0 with at most two decimals")
    return value.quantize(Decimal("0.01"))


def check_percent(field: str, value: Decimal) -> Decimal:
    try:
        ok = (
            value.is_finite()
            and Decimal(0) <= value <= Decimal(100)
            and value == value.quantize(Decimal("0.01"))
        )
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValidationFailed.field(field, "Use a percentage from 0 to 100")
    return value
