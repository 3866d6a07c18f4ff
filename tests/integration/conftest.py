"""Fixtures several areas' integration tests share: billing on, against the Stripe fake (a real HTTP
server on loopback, one per test session)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.billing_fake import StripeFake
from tests.integration.billing.support import WEBHOOK_SECRET


@pytest.fixture(scope="session")
def stripe_fake() -> Iterator[StripeFake]:
    fake = StripeFake(WEBHOOK_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def billing_on(stripe_fake: StripeFake, app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeFake]:
    """Billing on for this test (settings re-read from the environment), off again after it."""
    from app.settings import get_settings

    monkeypatch.setenv("ACRE_STRIPE_SECRET_KEY", "sk_test_acre")
    monkeypatch.setenv("ACRE_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("ACRE_STRIPE_API_BASE", stripe_fake.url)
    get_settings.cache_clear()
    stripe_fake.take_events()
    stripe_fake.fail_requests = 0
    yield stripe_fake
    monkeypatch.undo()
    get_settings.cache_clear()
