"""What a tenant may do given its billing state. Pure functions (no I/O), unit-tested.

* billing off → full access, always (a free trial plan that never ends);
* a subscription ``trialing`` or ``active`` → full access;
* ``past_due`` → full access for ``grace_days`` from when we first saw it past due, with a warning;
  read-only after that;
* ``unpaid``, ``canceled``, ``incomplete_expired``, ``paused`` → read-only;
* no subscription (or one still ``incomplete``) → our card-less trial: full access until
  ``trial_ends_at``, read-only after.

Read-only means reads and exports keep working and writes under ``/api/v1`` answer 402, except
billing itself and logging out (see :func:`write_blocked`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.i18n import N_

LIVE_STATUSES = frozenset({"trialing", "active", "past_due"})
_ENDED = frozenset({"canceled", "incomplete_expired", "paused", "unpaid"})
_TRIAL_WARNING_DAYS = 3
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what a read-only company may still do: pay (the API's billing and the billing page), sign out, and
# choose the language of its pages
_ALWAYS_WRITABLE = ("/api/v1/billing", "/api/v1/auth/logout", "/billing", "/logout", "/language")

TRIAL_ENDED = N_("The free trial has ended: this company is read-only until a plan is chosen in billing")
PAYMENT_OVERDUE = N_(
    "Payment is overdue: this company is read-only until the payment method is updated in billing"
)
SUBSCRIPTION_ENDED = N_(
    "The subscription has ended: this company is read-only until a plan is chosen in billing"
)
PAYMENT_FAILED = N_(
    "The last payment failed: update the payment method in billing before {date} to keep full access"
)
TRIAL_ENDING = N_("The free trial ends on {date}: choose a plan in billing to keep full access")


@dataclass(frozen=True, slots=True)
class BillingState:
    """The billing columns of one tenant (as ``acre_session()`` and the tenants row return them)."""

    plan: str | None = None
    status: str = "trialing"
    trial_ends_at: datetime | None = None
    past_due_since: datetime | None = None
    current_period_end: datetime | None = None
    has_subscription: bool = False

    @classmethod
    def from_row(cls, row: Any) -> BillingState:
        return cls(
            plan=row["billing_plan"],
            status=row["billing_status"],
            trial_ends_at=row["trial_ends_at"],
            past_due_since=row["past_due_since"],
            current_period_end=row["current_period_end"],
            has_subscription=bool(row["has_subscription"]),
        )


@dataclass(frozen=True, slots=True)
class Access:
    """The verdict: ``read_only`` with the ``reason`` (a message id) or full access, plus warnings
    as (message id, params) pairs to show the members."""

    read_only: bool = False
    reason: str | None = None
    code: str | None = None
    grace_ends_at: datetime | None = None
    warnings: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default_factory=tuple)


FULL = Access()


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def evaluate(state: BillingState, now: datetime, *, enabled: bool, grace_days: int) -> Access:
    """The access ``state`` grants at ``now``. Never raises; unknown statuses fall back to the trial."""
    if not enabled:
        return FULL
    status = state.status if state.has_subscription else "none"
    if status in ("trialing", "active"):
        return FULL
    if status == "past_due":
        since = state.past_due_since or now
        grace_end = since + timedelta(days=grace_days)
        if now < grace_end:
            return Access(grace_ends_at=grace_end, warnings=((PAYMENT_FAILED, (("date", _day(grace_end)),)),))
        return Access(
            read_only=True,
            reason=PAYMENT_OVERDUE,
            code="payment_overdue",
            grace_ends_at=grace_end,
            warnings=((PAYMENT_OVERDUE, ()),),
        )
    if status == "unpaid":
        return Access(
            read_only=True, reason=PAYMENT_OVERDUE, code="payment_overdue", warnings=((PAYMENT_OVERDUE, ()),)
        )
    if status in _ENDED:
        return Access(
            read_only=True,
            reason=SUBSCRIPTION_ENDED,
            code="subscription_ended",
            warnings=((SUBSCRIPTION_ENDED, ()),),
        )
    # no subscription, or one whose first payment is not through yet: the card-less trial
    if state.trial_ends_at is None or now < state.trial_ends_at:
        ends = state.trial_ends_at
        if ends is not None and ends - now <= timedelta(days=_TRIAL_WARNING_DAYS):
            return Access(warnings=((TRIAL_ENDING, (("date", _day(ends)),)),))
        return FULL
    return Access(read_only=True, reason=TRIAL_ENDED, code="trial_ended", warnings=((TRIAL_ENDED, ()),))


def refuses_when_read_only(method: str, path: str) -> bool:
    """True when ``method`` on ``path`` is a write a read-only tenant is refused (402): through the
    API and through the web app's pages alike (a signed-in request; the public pages have no tenant)."""
    if method.upper() not in _WRITE_METHODS:
        return False
    return not any(path == p or path.startswith(p + "/") for p in _ALWAYS_WRITABLE)


def write_blocked(access: Access, method: str, path: str) -> bool:
    """True when a read-only tenant's request is a write the API refuses (402)."""
    return access.read_only and refuses_when_read_only(method, path)
