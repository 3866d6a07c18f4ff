"""Billing tests run with billing on, against the Stripe fake (``billing_on``, shared)."""

from __future__ import annotations

import pytest

from tests.billing_fake import StripeFake


@pytest.fixture(autouse=True)
def fake(billing_on: StripeFake) -> StripeFake:
    return billing_on
