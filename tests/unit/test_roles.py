from __future__ import annotations

import pytest

from tenants.roles import ROLES, at_least, may_grant


def test_role_order_is_owner_admin_manager_rep():
    assert ROLES == ("owner", "admin", "manager", "rep")
    for i, role in enumerate(ROLES):
        for j, minimum in enumerate(ROLES):
            assert at_least(role, minimum) is (i <= j), (role, minimum)


@pytest.mark.parametrize("role", ["", "system", "Owner", "superuser"])
def test_unknown_roles_hold_no_rank(role):
    assert not any(at_least(role, minimum) for minimum in ROLES)


def test_at_least_needs_a_known_minimum():
    with pytest.raises(KeyError):
        at_least("owner", "emperor")


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        ("owner", "owner", True),
        ("owner", "admin", True),
        ("owner", "rep", True),
        ("admin", "admin", True),
        ("admin", "manager", True),
        ("admin", "rep", True),
        ("admin", "owner", False),
        ("manager", "rep", False),
        ("manager", "manager", False),
        ("rep", "rep", False),
        ("system", "rep", False),
    ],
)
def test_may_grant(actor, target, allowed):
    assert may_grant(actor, target) is allowed
