"""``app/scoped_transaction.py`` relies on asyncpg's private API: it is pinned to the asyncpg version
it was checked against, and the private names it touches are checked to still be there."""

from __future__ import annotations

import inspect

import asyncpg
import asyncpg.pool
import asyncpg.transaction

from app.scoped_transaction import ASYNCPG_VERSION


def test_asyncpg_is_the_version_the_private_code_was_checked_against() -> None:
    assert asyncpg.__version__ == ASYNCPG_VERSION, (
        f"asyncpg {asyncpg.__version__} is installed, app/scoped_transaction.py was checked against"
        f" {ASYNCPG_VERSION}: re-check its private code (see its docstring) against this asyncpg's"
        " transaction.py, connection.py and pool.py, then set ASYNCPG_VERSION"
    )


def test_the_private_names_it_uses_are_there() -> None:
    transaction = asyncpg.transaction.Transaction
    assert list(inspect.signature(transaction.__init__).parameters) == [
        "self",
        "connection",
        "isolation",
        "readonly",
        "deferrable",
    ]
    assert {"_connection", "_state"} <= set(transaction.__slots__)
    assert {"NEW", "STARTED", "FAILED"} <= set(asyncpg.transaction.TransactionState.__members__)
    assert "_top_xact" in asyncpg.Connection.__slots__
    assert "_con" in asyncpg.pool.PoolConnectionProxy.__slots__
