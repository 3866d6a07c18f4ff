"""Entitlement rules and seat allowances (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.settings import Settings
from tenants.billing.entitlements import (
    PAYMENT_FAILED,
    PAYMENT_OVERDUE,
    SUBSCRIPTION_ENDED,
    TRIAL_ENDED,
    TRIAL_ENDING,
    BillingState,
    evaluate,
    write_blocked,
)
from tenants.billing.seats import seat_allowance

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _eval(**state: Any) -> Any:
    return evaluate(BillingState(**state), NOW, enabled=True, grace_days=7)


def test_billing_off_is_always_full_access() -> None:
    ended = BillingState(status="canceled", has_subscription=True, trial_ends_at=NOW - timedelta(days=90))
    assert evaluate(ended, NOW, enabled=False, grace_days=7).read_only is False


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_live_subscriptions_have_full_access(status: str) -> None:
    access = _eval(status=status, has_subscription=True, trial_ends_at=NOW - timedelta(days=30))
    assert not access.read_only and access.warnings == ()


def test_trial_without_a_plan_is_full_then_read_only() -> None:
    assert _eval(trial_ends_at=NOW + timedelta(days=10)).read_only is False
    ending = _eval(trial_ends_at=NOW + timedelta(days=2))
    assert not ending.read_only and ending.warnings == ((TRIAL_ENDING, (("date", "2026-11-27"),)),)
    ended = _eval(trial_ends_at=NOW - timedelta(seconds=1))
    assert ended.read_only and ended.reason == TRIAL_ENDED and ended.code == "trial_ended"


def test_an_incomplete_first_payment_falls_back_to_the_trial() -> None:
    assert (
        _eval(status="incomplete", has_subscription=True, trial_ends_at=NOW + timedelta(days=5)).read_only
        is False
    )
    assert _eval(status="incomplete", has_subscription=True, trial_ends_at=NOW - timedelta(days=1)).read_only


def test_past_due_has_a_grace_period_with_a_warning() -> None:
    grace = _eval(status="past_due", has_subscription=True, past_due_since=NOW - timedelta(days=6, hours=23))
    assert not grace.read_only
    assert grace.grace_ends_at == NOW - timedelta(days=6, hours=23) + timedelta(days=7)
    assert grace.warnings[0][0] == PAYMENT_FAILED and grace.warnings[0][1] == (("date", "2026-11-25"),)
    over = _eval(status="past_due", has_subscription=True, past_due_since=NOW - timedelta(days=7))
    assert over.read_only and over.reason == PAYMENT_OVERDUE


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("unpaid", PAYMENT_OVERDUE),
        ("canceled", SUBSCRIPTION_ENDED),
        ("incomplete_expired", SUBSCRIPTION_ENDED),
    ],
)
def test_ended_subscriptions_are_read_only(status: str, reason: str) -> None:
    access = _eval(status=status, has_subscription=True, trial_ends_at=NOW + timedelta(days=5))
    assert access.read_only and access.reason == reason


def test_read_only_blocks_api_writes_but_not_reads_billing_or_logout() -> None:
    ro = _eval(trial_ends_at=NOW - timedelta(days=1))
    assert write_blocked(ro, "POST", "/api/v1/invitations")
    assert write_blocked(ro, "patch", "/api/v1/members/1")
    assert write_blocked(ro, "DELETE", "/api/v1/customers/1")
    assert not write_blocked(ro, "GET", "/api/v1/customers")
    assert not write_blocked(ro, "POST", "/api/v1/billing/checkout")
    assert not write_blocked(ro, "POST", "/api/v1/auth/logout")
    assert write_blocked(ro, "POST", "/api/v1/billingx")
    # the web app's pages are refused the same writes; paying, signing out and the language are not
    assert write_blocked(ro, "POST", "/customers/1/claim")
    assert write_blocked(ro, "POST", "/settings/pool-rules")
    assert not write_blocked(ro, "GET", "/customers")
    assert not write_blocked(ro, "POST", "/billing/checkout")
    assert not write_blocked(ro, "POST", "/logout")
    assert not write_blocked(ro, "POST", "/language")
    assert not write_blocked(_eval(trial_ends_at=NOW + timedelta(days=9)), "POST", "/api/v1/invitations")


def _row(**values: Any) -> dict[str, Any]:
    row = {
        "seat_limit": None,
        "stripe_subscription_id": None,
        "billing_status": "trialing",
        "billing_plan": None,
        "seats_paid": None,
    }
    row.update(values)
    return row


def test_seat_allowance_per_plan() -> None:
    on = Settings(stripe_secret_key="sk_test", billing_trial_seats=10)
    off = Settings(stripe_secret_key=None)
    assert seat_allowance(_row(), off) is None
    assert seat_allowance(_row(seat_limit=2), off) == 2
    assert seat_allowance(_row(), on) == 10
    team = _row(stripe_subscription_id="sub_1", billing_status="active", billing_plan="team", seats_paid=4)
    assert seat_allowance(team, on) == 4
    assert seat_allowance({**team, "seat_limit": 3}, on) == 3
    starter = _row(
        stripe_subscription_id="sub_1", billing_status="past_due", billing_plan="starter", seats_paid=1
    )
    assert seat_allowance(starter, on) == 3
    # an ended subscription is no longer a plan: back to the trial's allowance
    assert seat_allowance({**team, "billing_status": "canceled"}, on) == 10


def test_plans_come_from_a_json_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ACRE_BILLING_PLANS",
        '[{"code": "pro", "name": "Pro", "price_id": "price_pro", "per_seat": true, "max_seats": 50}]',
    )
    settings = Settings(stripe_secret_key=None)
    assert [p.code for p in settings.billing_plans] == ["pro"]
    pro = settings.plan("pro")
    assert pro is not None and pro.max_seats == 50 and pro.auto_add_seats is False
    assert settings.billing_enabled is False and Settings(stripe_secret_key="sk_x").billing_enabled
    monkeypatch.delenv("ACRE_BILLING_PLANS")
    defaults = Settings()
    assert [(p.code, p.per_seat, p.max_seats) for p in defaults.billing_plans] == [
        ("starter", False, 3),
        ("team", True, None),
    ]
