"""``ScopedTransaction``: asyncpg's top-level transaction whose ``BEGIN`` also sets the scope GUCs.

**Relies on asyncpg's private API**, checked against asyncpg ``ASYNCPG_VERSION`` (a unit test fails
when another version is installed: re-read asyncpg's ``transaction.py``, ``connection.py`` and
``pool.py`` for the names below, then update the constant). It uses:

- ``asyncpg.transaction.Transaction``, subclassed: its ``__init__(connection, isolation, readonly,
  deferrable)``, its ``_connection`` and ``_state`` slots and ``TransactionState``; ``start()`` is
  replaced, ``commit()``/``rollback()``/``__aexit__`` stay asyncpg's own and read that state;
- ``Connection._top_xact``: where asyncpg records the outermost transaction, so that a later
  ``connection.transaction()`` becomes a savepoint inside this one;
- ``PoolConnectionProxy._con``: the real connection behind a pooled one, which holds that state.

Why: a scoped transaction then costs one round trip to open (``BEGIN; SELECT set_config(…),
set_config(…)`` as one simple query) instead of two (``BEGIN``, then the ``set_config``), on every
request. A ``BEGIN`` sent by hand would save the round trip too, but asyncpg then refuses
``connection.transaction()`` inside it ("cannot use Connection.transaction() in a manually started
transaction"), and the services nest savepoints that way.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import asyncpg.transaction

ASYNCPG_VERSION = "0.32.0"


class ScopedTransaction(asyncpg.transaction.Transaction):
    """Opens with ``BEGIN READ WRITE`` (so a connection a read left read-only by default writes) and
    sets ``app.tenant_id`` and ``app.user_id`` transaction-locally (empty for ``None``). Raises
    ``InterfaceError`` when the connection is already in a transaction: it must be the outermost one.
    The values are inlined as canonical UUID strings (re-parsed here), which keeps them safe to
    inline."""

    def __init__(self, connection: asyncpg.Connection, tenant_id: UUID | None, user_id: UUID | None):
        # a pooled connection is a proxy; the transaction state lives on the connection behind it
        super().__init__(getattr(connection, "_con", connection), None, False, False)
        tenant = str(UUID(str(tenant_id))) if tenant_id else ""
        user = str(UUID(str(user_id))) if user_id else ""
        self._begin = (
            f"BEGIN READ WRITE; SELECT set_config('app.tenant_id', '{tenant}', true),"
            f" set_config('app.user_id', '{user}', true)"
        )

    async def start(self) -> None:
        conn = self._connection
        if conn._top_xact is not None or conn.is_in_transaction():
            raise asyncpg.InterfaceError("a scoped transaction must be the connection's outermost one")
        conn._top_xact = self
        try:
            await conn.execute(self._begin)
        except BaseException:
            conn._top_xact = None
            self._state = asyncpg.transaction.TransactionState.FAILED
            raise
        self._state = asyncpg.transaction.TransactionState.STARTED
