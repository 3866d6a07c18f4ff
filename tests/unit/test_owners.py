"""Each rule has one owner: a test fails when code outside it spells the rule again — a notification
insert, an owner-changing customer update, a ledger append, a hand-made scope, a hand-written cron
fan-out over tenants or a list handler's own ``limit``/``cursor`` parameters."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p
    for folder in ("app", "tenants", "workers")
    for p in (ROOT / folder).rglob("*.py")
    if "piccolo_migrations" not in p.parts
)


# an UPDATE of customers whose SET clause (up to its FROM, WHERE or RETURNING) assigns the owner
OWNER_UPDATE = (
    r"UPDATE\s+customers\b(?:\s+\w+)?\s+SET\b"
    r"(?:(?!\bFROM\b|\bWHERE\b|\bRETURNING\b).)*\bowner_membership_id\s*="
)


def _text(path: Path) -> str:
    """The file with Python's implicit string concatenation undone ("a" "b" → "ab" across lines), so
    a SQL statement split over several literals reads as one."""
    return re.sub(r"\"\s*\n\s*f?\"", "", path.read_text(encoding="utf-8"))


def _spelled(pattern: str, owners: set[str]) -> list[str]:
    found = []
    for path in SOURCES:
        name = str(path.relative_to(ROOT))
        if name not in owners and re.search(pattern, _text(path), re.IGNORECASE | re.DOTALL):
            found.append(name)
    return found


def test_notifications_are_written_only_by_notify() -> None:
    assert _spelled(r"INSERT\s+INTO\s+notifications\b", {"app/notifications/service.py"}) == []


def test_owners_change_only_through_change_owners() -> None:
    assert _spelled(OWNER_UPDATE, {"app/customers/owner_changes.py"}) == []
    ledger = {"app/customers/owner_changes.py", "app/customers/ledger.py"}
    assert (
        _spelled(r"acre_ownership_append|append_expr\(|INSERT\s+INTO\s+customer_ownership_history", ledger)
        == []
    )


def test_scopes_are_made_only_by_their_constructors() -> None:
    assert _spelled(r"\bTenantScope\(", {"tenants/scope.py"}) == []


def test_crons_fan_out_over_tenants_only_through_for_each_tenant() -> None:
    # the signing-key rotation is a command, not a cron: it must stop at the first key it cannot read
    # (for_each_tenant logs a failure and goes on), so it lists the tenants itself
    assert _spelled(r"FROM\s+tenants\s+ORDER\s+BY", {"tenants/cron.py", "app/signing/seal.py"}) == []


def test_list_handlers_take_the_page_dependency() -> None:
    routes = [p for p in SOURCES if p.name == "routes.py"]
    spelled = [
        str(p.relative_to(ROOT)) for p in routes if re.search(r"\b(limit|cursor): FromQuery", _text(p))
    ]
    assert spelled == []


def test_the_patterns_find_what_they_look_for() -> None:
    """The guards above would pass on an empty tree too: check they match the real spellings."""
    assert "app/notifications/service.py" in _spelled(r"INSERT\s+INTO\s+notifications\b", set())
    assert "app/customers/owner_changes.py" in _spelled(r"acre_ownership_append|append_expr\(", set())
    assert "tenants/cron.py" in _spelled(r"FROM\s+tenants\s+ORDER\s+BY", set())
    sample = 'x = ("UPDATE customers c SET status = \'won\',"\n    " owner_membership_id = $3 WHERE id = $2")'
    joined = re.sub(r"\"\s*\n\s*f?\"", "", sample)
    assert re.search(OWNER_UPDATE, joined, re.IGNORECASE | re.DOTALL)
    assert not re.search(
        OWNER_UPDATE, "UPDATE customers SET status = 'won' WHERE owner_membership_id = $1", re.I
    )
