"""Only ``app/db.py`` and the session lookups in ``tenants/scope.py`` run statements on a pooled
connection (and the import job's advisory lock, which reads no table): each of them scopes the
connection before its first statement, which is what lets a read leave its scope on the connection
it releases (``app/db.py``). Anything else must go through ``db.transaction`` / ``TenantScope.tx``."""

from __future__ import annotations

import re

from tests.conftest import ROOT

ALLOWED = {
    "app/db.py",
    "tenants/scope.py",
    # the import job's session-level advisory lock: lock statements only, no table read (and in the
    # worker, which never scopes a connection for reads)
    "app/customers/imports/job.py",
}


def test_nothing_else_takes_a_connection_from_the_pool() -> None:
    found = []
    for folder in ("app", "tenants", "workers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\bpool\(\)\.|\.pool\(\)|DB\.pool\b", line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def test_the_check_sees_a_use() -> None:
    assert re.search(r"\bpool\(\)\.|\.pool\(\)|DB\.pool\b", "row = await db.pool().fetchrow(sql)")
