"""Access has one owner (``tenants/access/``): the subtree range and the role special cases are
spelled there and nowhere else in the product's source, and ``TenantScope.at_least`` knows jobs."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tenants.access import in_subtree_sql
from tenants.roles import ROLES
from tenants.scope import TenantScope

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app", "tenants", "workers")

# The subtree range written out: its end (``|| '~'``), the sentinel itself, or its constant.
SUBTREE = re.compile(r"""\|\|\s*'~'|['"]~['"]|\bSUBTREE_END\b""")
# A role special case: comparing a role with the system scope's, or ranking a scope's role by hand.
ROLE_CASE = re.compile(
    r"""role\s*(?:[!=]=|(?:not\s+)?in\b)[^\n#]*['"]system['"]"""
    r"""|roles\.at_least\(\s*(?:self|\w*scope\w*)\.role\b"""
)
# Where each may be spelled: the access package (the range: ``subtree.in_subtree_sql``), and for
# ``at_least`` itself the scope.
SUBTREE_OWNERS = ("tenants/access/",)
ROLE_OWNERS = ("tenants/access/", "tenants/scope.py")


def offences(root: Path) -> list[str]:
    """``path:line: text`` of every line under ``root``'s sources (migrations aside) that spells the
    subtree range or a role special case outside its owner."""
    found = []
    for top in SOURCES:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if "/piccolo_migrations/" in rel:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if SUBTREE.search(line) and not rel.startswith(SUBTREE_OWNERS):
                    found.append(f"{rel}:{number}: subtree range outside tenants/access: {line.strip()}")
                if ROLE_CASE.search(line) and not rel.startswith(ROLE_OWNERS):
                    found.append(f"{rel}:{number}: role special case outside tenants/access: {line.strip()}")
    return found


def test_access_rules_are_spelled_only_in_tenants_access():
    assert offences(ROOT) == [], "\n".join(offences(ROOT))


@pytest.mark.parametrize(
    "line",
    [
        "\" JOIN territories t ON t.tenant = a.tenant AND t.path >= a.path AND t.path < a.path || '~'\"",
        "\"DELETE FROM territories WHERE tenant = $1 AND path >= $2 AND path < $2||'~'\",",
        "    f\" AND t.path < top.path || '{SUBTREE_END}'\"",
        '    assert path < root + "~"',
        '    if scope.role == "system" or roles.at_least(scope.role, "admin"):',
        '    if self.role != "system" and not roles.at_least(self.role, minimum):',
        '    is_manager = roles.at_least(scope.role, "manager")',
        '    if tenant_scope.role in ("system", "owner"):',
    ],
)
def test_the_scan_catches_the_old_spellings(tmp_path: Path, line: str):
    (tmp_path / "app" / "customers").mkdir(parents=True)
    (tmp_path / "app" / "customers" / "pool.py").write_text(f"x = 1\n{line}\n", encoding="utf-8")
    (tmp_path / "app" / "customers" / "piccolo_migrations").mkdir()
    (tmp_path / "app" / "customers" / "piccolo_migrations" / "m.py").write_text(line, encoding="utf-8")
    assert [o.split(": ")[0] for o in offences(tmp_path)] == ["app/customers/pool.py:2"]


def test_the_owners_may_spell_them(tmp_path: Path):
    (tmp_path / "tenants" / "access").mkdir(parents=True)
    (tmp_path / "tenants" / "access" / "subtree.py").write_text("END = '~'\n", encoding="utf-8")
    (tmp_path / "tenants" / "access" / "team.py").write_text('ok = role == "system"\n', encoding="utf-8")
    (tmp_path / "tenants" / "scope.py").write_text('ok = self.role == "system"\n', encoding="utf-8")
    assert offences(tmp_path) == []


def _job() -> TenantScope:
    tenant = {"id": uuid.uuid4(), "name": "t", "slug": "t", "locale": "en", "time_zone": "UTC"}
    return TenantScope.system({**tenant, "currency": "CNY"})


def test_a_job_is_at_least_every_role_and_a_member_only_their_own():
    job = _job()
    assert all(job.at_least(role) for role in ROLES)
    for i, role in enumerate(ROLES):
        member = TenantScope(tenant_id=job.tenant_id, user_id=uuid.uuid4(), role=role)
        assert [member.at_least(minimum) for minimum in ROLES] == [j >= i for j in range(len(ROLES))]


def test_at_least_refuses_an_unknown_role_even_for_a_job():
    with pytest.raises(KeyError):
        _job().at_least("emperor")


def test_the_subtree_condition_is_the_btree_range():
    assert in_subtree_sql("t.path", of="a.path") == "(t.path >= a.path AND t.path < a.path || '~')"
