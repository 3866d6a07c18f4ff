"""Quote and payment arithmetic: Decimal, half-up to cents, totals and milestones that add up."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.deals.money import cents, line_math, milestones, quote_totals


def test_cents_rounds_half_up_not_to_even() -> None:
    assert cents(D("0.125")) == D("0.13")
    assert cents(D("0.135")) == D("0.14")
    assert cents(D("2.675")) == D("2.68")  # float would give 2.67
    assert cents(D("-0.005")) == D("-0.01")


def test_line_discount_and_net_unit_price() -> None:
    line = line_math(D("3"), D("6800.00"), D("15"))
    assert line.gross == D("20400.00")
    assert line.amount == D("17340.00")
    assert line.net_unit_price == D("5780.00")
    odd = line_math(D("1"), D("0.05"), D("50"))  # 0.025 -> 0.03 half-up
    assert odd.amount == D("0.03")


def test_quote_totals_subtotal_discount_tax_total() -> None:
    lines = [line_math(D("2"), D("4800.00"), D("10")), line_math(D("1.5"), D("333.33"), D("0"))]
    totals = quote_totals(lines, D("13"))
    assert totals.subtotal == D("9600.00") + D("500.00")  # 1.5 × 333.33 = 499.995 -> 500.00
    assert totals.discount == D("960.00")
    net = totals.subtotal - totals.discount
    assert totals.tax == cents(net * D("0.13"))
    assert totals.total == net + totals.tax == D("10328.20")
    assert all(isinstance(v, D) for v in (totals.subtotal, totals.discount, totals.tax, totals.total))


def test_quote_totals_with_zero_tax_and_full_discount() -> None:
    totals = quote_totals([line_math(D("1"), D("100"), D("100"))], D("0"))
    assert (totals.subtotal, totals.discount, totals.tax, totals.total) == (D("100.00"), D("100.00"), 0, 0)


def test_milestones_under_10000_are_paid_in_full_after_installation() -> None:
    plan = milestones(D("9999.99"), installation_days=21)
    assert [(m.code, m.percent, m.amount, m.due_days) for m in plan] == [("full", 100, D("9999.99"), 21)]


def test_milestones_from_10000_deposit_delivery_balance() -> None:
    plan = milestones(D("10000"))
    assert [(m.code, m.percent, m.amount) for m in plan] == [
        ("deposit", 20, D("2000.00")),
        ("delivery", 60, D("6000.00")),
        ("balance", 20, D("2000.00")),
    ]
    assert [m.due_days for m in plan] == [7, 30, 44]
    plan = milestones(D("123456.79"), delivery_percent=70, stable_weeks=1)
    assert [m.percent for m in plan] == [20, 70, 10]
    assert sum(m.amount for m in plan) == D("123456.79")  # the balance takes the rounding remainder
    assert plan[0].amount == D("24691.36") and plan[1].amount == D("86419.75")
    assert plan[2].due_days == 30 + 7


@pytest.mark.parametrize("kwargs", [{"delivery_percent": 49}, {"delivery_percent": 71}, {"stable_weeks": 3}])
def test_milestones_refuse_out_of_range_terms(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        milestones(D("50000"), **kwargs)
